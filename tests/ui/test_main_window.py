"""The main window with the real engine: run, step, inspect, as a student would."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QToolButton

from payviz.diagrams.topology import link_key
from payviz.engine.steps import step_info
from payviz.ui.app import main
from payviz.ui.main_window import SEQUENCE_MINIMUM, MainWindow
from payviz.ui.sequence_view import SequenceView


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    made = MainWindow()
    qtbot.addWidget(made)
    made.diagram.set_animations_enabled(False)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.close()


def run(qtbot, window: MainWindow, **choices: str) -> None:
    """Pick the scenario in the toolbar, click Run checkout and wait for the engine."""
    controls = window.run_controls
    controls.set_mode(choices.get("mode", "direct"))
    if "notify" in choices:
        controls.set_choice(controls.notify_box, choices["notify"])
    controls.set_choice(controls.decision_box, choices.get("decision"))
    button = window.run_controls.findChild(QToolButton, "run_button")
    with qtbot.waitSignal(window.bridge.checkout_finished, timeout=20_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window.player.pause()


def test_the_engine_and_the_panels_behind_tabs_come_once_the_window_is_painted(qtbot) -> None:
    made = MainWindow()
    qtbot.addWidget(made)
    assert not made.bridge.started  # building the window loads none of the engine
    behind = {key: made.docks[key].widget() for key in ("sequence", "faults")}
    made.show()
    qtbot.waitUntil(lambda: made.bridge.started)
    assert isinstance(made.docks["sequence"].widget(), SequenceView)
    assert made.docks["faults"].widget() is not behind["faults"]
    assert made.docks["faults"].widget().isAncestorOf(made.faults)
    made.close()


def test_the_app_icon_comes_once_the_window_is_painted(qtbot) -> None:
    QApplication.setWindowIcon(QIcon())  # as a fresh app has it
    made = MainWindow()
    qtbot.addWidget(made)
    assert made.windowIcon().isNull()  # its SVG loads Qt's image plugin: not before the paint
    made.show()
    qtbot.waitUntil(lambda: not made.windowIcon().isNull())
    assert made.windowIcon().cacheKey() == QApplication.windowIcon().cacheKey()
    made.close()


def test_a_sequence_view_made_late_shows_what_the_player_holds(qtbot) -> None:
    made = MainWindow()  # never shown: nothing makes the sequence view until asked
    qtbot.addWidget(made)
    made.diagram.set_animations_enabled(False)
    with qtbot.waitSignal(made.bridge.checkout_finished, timeout=20_000):
        made.run_action.trigger()
    made.player.pause()
    made.go_to_step(2)
    view = made.sequence
    assert view.messages == made.player.messages
    assert view.current == made.player.position >= 0
    assert made.docks["sequence"].widget() is view
    made.close()


def test_the_sequence_dock_keeps_the_views_minimum_size_until_it_is_made(qtbot) -> None:
    view = SequenceView()
    qtbot.addWidget(view)
    assert view.minimumSizeHint() == QSize(*SEQUENCE_MINIMUM)


def test_run_checkout_fills_the_log_with_the_trace(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    session = window.bridge.session
    assert session is not None
    assert window.log_model.messages == session.trace.messages()
    assert window.log.view.model().rowCount() == len(session.trace.messages())
    assert window.player.length == window.log_model.rowCount()
    assert window.records == session.trace.records


def test_run_checkout_plays_the_new_checkout_to_its_end(qtbot, window: MainWindow) -> None:
    window.diagram.set_animations_enabled(True)  # tokens travel; the player waits for them
    window.player.travel_ms, window.player.dwell_ms = 40, 0
    window.player.set_speed(8.0)
    arrived: list[int] = []
    window.diagram.token_arrived.connect(arrived.append)
    with qtbot.waitSignal(window.player.playing_changed) as started:
        window.run_action.trigger()
    assert started.args == [True]
    with qtbot.waitSignal(window.player.playing_changed, timeout=20_000) as stopped:
        pass
    assert stopped.args == [False]
    assert window.player.position == window.player.length - 1
    assert arrived[-1] == window.player.messages[-1].seq
    assert window.run_action.isEnabled()


def test_stepping_moves_the_link_the_inspector_and_the_narration(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    window.player.go_to(0)
    scene = window.diagram.diagram_scene
    for _ in range(3):
        window.playback_actions.forward.trigger()
        message = window.player.current
        assert message is not None
        active = link_key(message.src, message.dst)
        assert [key for key, link in scene.links.items() if link.highlighted] == [active]
        assert window.inspector.message is message
        assert f"#{message.seq}" in window.inspector.heading.text()
        step = step_info("direct", message.step)
        assert step.title in window.narration.title_label.text()
        assert window.narration.narration_label.text() == step.narration
        assert window.log_model.current_row == window.player.position
        selected = window.log.view.selectionModel().currentIndex()
        assert window.log_proxy.mapToSource(selected).row() == window.player.position
    assert window.player.position == 3


def test_step_back_returns_to_the_previous_message(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    window.player.go_to(4)
    before = window.player.current
    window.playback_actions.forward.trigger()
    assert window.inspector.message is not before
    window.playback_actions.back.trigger()
    assert window.player.position == 4
    assert window.inspector.message is before
    assert window.log_model.current_row == 4


def test_the_keyboard_drives_the_playhead(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.player.go_to(2)
    qtbot.keyClick(window.log.view, Qt.Key.Key_Right)
    assert window.player.position == 3
    qtbot.keyClick(window.log.view, Qt.Key.Key_Left)
    qtbot.keyClick(window.log.view, Qt.Key.Key_Left)
    assert window.player.position == 1
    qtbot.keyClick(window.log.view, Qt.Key.Key_End)
    assert window.player.position == window.player.length - 1
    qtbot.keyClick(window.log.view, Qt.Key.Key_Home)
    assert window.player.position == 0
    with qtbot.waitSignal(window.player.playing_changed) as playing:
        qtbot.keyClick(window.log.view, Qt.Key.Key_Space)
    assert playing.args == [True]
    assert window.playback_actions.play.text() == "Pause"
    qtbot.keyClick(window.log.view, Qt.Key.Key_Space)
    assert not window.player.playing


def test_clicking_a_log_row_moves_the_playhead(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    view = window.log.view
    index = window.log_proxy.index(5, 4)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )
    assert window.player.position == 5
    assert window.inspector.message is window.log_model.message(5)
    # Filtering is not picking: the playhead stays ("0110" alone also turns up in ids).
    window.log.search_box.setText("0110 authorization")
    assert window.player.position == 5
    assert window.log_proxy.rowCount() == 1
    window.playback_actions.last.trigger()
    assert not window.log.view.selectionModel().hasSelection()  # the last row is filtered out


def test_a_decline_shows_failed_at_the_merchant_and_in_the_status_bar(
    qtbot, window: MainWindow
) -> None:
    run(qtbot, window, mode="redirect", decision="decline")
    window.player.go_to(0)
    merchant = window.diagram.diagram_scene.nodes["merchant"]
    assert merchant.state.tone != "bad"
    window.playback_actions.last.trigger()
    assert merchant.state.tone == "bad"
    assert "failed" in merchant.caption_text()
    assert "failed" in window.outcome_label.text()
    assert "\u2718" in window.outcome_label.text()


def test_the_encryption_tab_opens_the_card_sent_to_the_processor(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    jwe = next(m for m in window.player.messages if m.encrypted)
    assert (jwe.src, jwe.dst) == ("gateway", "processor")
    window.player.go_to_seq(jwe.seq)
    inspector = window.inspector
    assert inspector.is_tab_enabled("Encryption")
    assert not inspector.is_tab_enabled("ISO 8583")
    text = inspector.text_of("Encryption")
    assert "RSA-OAEP-256" in text
    assert "Plaintext, opened with the processor's private key" in text
    assert '"number": "424242******4242"' in text
    window.player.step_forward()
    assert not inspector.is_tab_enabled("Encryption")


def test_the_signature_tab_verifies_and_catches_tampering(qtbot, window: MainWindow) -> None:
    run(qtbot, window, mode="direct", notify="async")
    note = next(m for m in window.player.messages if m.kind == "notification")
    window.player.go_to_seq(note.seq)
    inspector = window.inspector
    assert inspector.is_tab_enabled("Signature")
    assert "\u2714 Verified" in inspector.text_of("Signature")
    tampered = dataclasses.replace(note, body=note.body.replace("succeeded", "refunded"))
    inspector.show_message(tampered, window.bridge.keylog, window.bridge.started_at)
    text = inspector.text_of("Signature")
    assert "\u2718 Not verified" in text
    assert "no webhook-signature matches the body" in text


def test_an_iso_message_shows_its_fields(qtbot, window: MainWindow) -> None:
    run(qtbot, window)
    answer = next(m for m in window.player.messages if m.mti == "0110")
    window.player.go_to_seq(answer.seq)
    assert window.inspector.is_tab_enabled("ISO 8583")
    assert "39\tResponse Code\t00\tapproved" in window.inspector.text_of("ISO 8583")


def test_zoom_scales_the_diagram_and_the_text(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    zoom, size = window.diagram.zoom(), window.font().pointSizeF()
    qtbot.keyClick(window.log.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.diagram.zoom() > zoom
    assert window.font().pointSizeF() > size
    assert window.narration.title_label.font().pointSizeF() > 18
    qtbot.keyClick(window.log.view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.font().pointSizeF() == size
    assert size >= 11


def test_the_legend_is_a_dock_in_the_view_menu(qtbot, window: MainWindow) -> None:
    legend = window.docks["legend"]
    assert legend.isHidden()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggle = next(a for a in view_menu.actions() if a.text() == "&Legend")
    toggle.trigger()
    assert legend.isVisible()


def test_bad_input_is_reported_in_the_status_bar(qtbot, window: MainWindow) -> None:
    window.run_controls.card_box.setEditText("4242 4242 4242 4241")
    with qtbot.waitSignal(window.bridge.checkout_failed):
        window.run_action.trigger()
    assert "Luhn" in window.statusBar().currentMessage()
    assert window.player.length == 0


def test_window_state_is_remembered(qtbot, settings_dir: Path) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.player.set_speed(4.0)
    first.docks["log"].hide()
    first.close()
    assert Path(QSettings("payviz", "payviz").fileName()).is_relative_to(settings_dir)
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.player.speed == 4.0
    assert second.playback_controls.speed_label.text() == "4x"
    assert second.docks["log"].isHidden()
    second.close()


def test_snapshot_renders_a_png(qtbot, tmp_path: Path) -> None:
    target = tmp_path / "direct.png"
    assert main(["--snapshot", str(target), "--mode", "direct", "--step", "2"]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_run_load_test_shows_traffic_per_link_on_the_diagram(qtbot, window: MainWindow) -> None:
    from payviz.ui.diagram.heat import HeatOverlay

    dialog = window.show_load_test()
    assert dialog.isVisible()
    dialog.count_box.setValue(10)
    dialog.concurrency_box.setValue(5)
    with qtbot.waitSignal(dialog.load_finished, timeout=60_000):
        assert dialog.start()
    overlay = window.diagram.diagram_scene.findChild(HeatOverlay)
    assert isinstance(overlay, HeatOverlay)
    assert overlay.counts[("merchant", "gateway")] >= 10, "every checkout crossed that link"
    assert overlay.width_of(("merchant", "gateway")) > 0
    run(qtbot, window)
    assert overlay.width_of(("merchant", "gateway")) == 0, "a single checkout hides the heat"
    dialog.close()


def test_the_inspector_makes_its_pages_with_the_first_message_at_the_zoom_chosen(qtbot) -> None:
    from payviz.ui.inspector import BASE_MONO_POINTS

    made = MainWindow()
    qtbot.addWidget(made)
    made.diagram.set_animations_enabled(False)
    made.zoom_in()  # before any message: only the summary page exists
    with qtbot.waitSignal(made.bridge.checkout_finished, timeout=20_000):
        made.run_action.trigger()
    made.player.pause()
    made.go_to_step(2)
    inspector = made.inspector
    assert inspector.is_tab_enabled("Encryption")
    assert "Who can read it?" in inspector.text_of("Encryption")
    assert inspector.body.font().pointSizeF() == pytest.approx(BASE_MONO_POINTS * 1.1)
    assert inspector.raw.isVisibleTo(inspector.tabs.widget(6))
    made.close()
