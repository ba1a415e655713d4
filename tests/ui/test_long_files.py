"""A long trace file opened lazily: every view shows what a fully read file shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt

from payviz.diagrams import lazy_trace
from payviz.diagrams.session_file import open_session, save_session
from payviz.engine.trace import encode_line
from payviz.ui import sequence_view
from payviz.ui.main_window import MainWindow
from payviz.ui.sequence_view import SequenceView
from tests.helpers.ui import every_step, log_rows, many_messages, open_window, window_fixture

if TYPE_CHECKING:
    from tests.conftest import RecordedRun


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    yield from window_fixture(qtbot)


def test_a_long_file_shows_every_step_as_a_file_read_whole_does(
    qtbot, window: MainWindow, tmp_path: Path, direct_run: RecordedRun, monkeypatch
):
    path = tmp_path / "session.jsonl"
    save_session(path, direct_run.records, keylog=direct_run.keylog, started=direct_run.started)
    # Its records as the engine writes a trace (compact): saving it again spaces them.
    header = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    path.write_bytes(header + b"".join(encode_line(record) for record in direct_run.records))
    assert window.file_menu.open_path(path)
    whole_rows, whole = log_rows(window), every_step(window)

    monkeypatch.setattr(lazy_trace, "LAZY_FROM_BYTES", 0)  # every file is long now
    lazy = open_window(qtbot)
    assert lazy.file_menu.open_path(path)
    assert lazy.player.position == 0
    assert log_rows(lazy) == whole_rows
    # Banner, highlights, captions, the JWE opened and the signature checked with the
    # session's key log, and the merchant's outcome in the status bar.
    assert every_step(lazy) == whole
    assert any("Plaintext, opened" in step["encryption"] for step in whole)
    lazy.go_to_step(3)
    assert lazy.player.current is not None
    assert lazy.player.current.step == 3
    saved = tmp_path / "again.jsonl"
    assert lazy.file_menu.save_to(saved)
    assert open_session(saved).records == tuple(direct_run.records)
    # File -> Save writes over the file being read: a new file under the same name, while
    # the views read on from the one that was opened.
    assert lazy.file_menu.save_to(path)
    assert every_step(lazy) == whole
    assert open_session(path).records == tuple(direct_run.records)
    lazy.close()


def test_a_file_that_is_not_a_trace_is_refused_whole_or_long(
    window: MainWindow, tmp_path: Path, monkeypatch
):
    path = tmp_path / "notes.jsonl"
    path.write_text("shopping list\n", encoding="utf-8")
    monkeypatch.setattr(lazy_trace, "LAZY_FROM_BYTES", 0)
    monkeypatch.setattr(window.file_menu, "_warn", lambda title, text: warned.append(text))
    warned: list[str] = []
    assert not window.file_menu.open_path(path)
    assert warned
    assert "not a payviz trace" in warned[0]
    assert window.source is None  # still the live session


def test_a_long_timeline_is_drawn_a_window_around_the_playhead(
    qtbot, direct_run: RecordedRun, monkeypatch
):
    monkeypatch.setattr(sequence_view, "LONG_TIMELINE", 200)
    monkeypatch.setattr(sequence_view, "WINDOW", 40)
    view = SequenceView()
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    messages = many_messages(direct_run.messages, 1_000)
    view.set_messages(messages)
    assert len(view.diagram.arrows) == 40  # the window, not the thousand
    view.set_current(900)
    assert view.current == 900
    qtbot.waitUntil(lambda: 900 in view.painted)
    assert view.viewport().rect().contains(view.arrow_rect(900))
    with qtbot.waitSignal(view.arrow_activated) as clicked:
        qtbot.mousePress(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.arrow_rect(901).center()
        )
    assert clicked.args == [901]  # the timeline's index, as the player and the log count
    view.set_current(10)  # far back: the window moves with the playhead
    assert view.current == 10
    qtbot.waitUntil(lambda: 10 in view.painted)


def test_a_sequence_export_of_a_long_timeline_says_which_messages_it_holds(
    window: MainWindow, tmp_path: Path, direct_run: RecordedRun, monkeypatch
):
    monkeypatch.setattr(sequence_view, "LONG_TIMELINE", 200)
    monkeypatch.setattr(sequence_view, "WINDOW", 40)
    window.docks["sequence"].raise_()
    window.show_records(many_messages(direct_run.messages, 1_000))
    window.player.go_to(500)
    path = tmp_path / "sequence.svg"
    assert window.file_menu.export_to("sequence-svg", path)
    assert path.read_text(encoding="utf-8").count("<") > 40  # drawn, not empty
    assert window.statusBar().currentMessage().endswith("(messages 481-520 of 1,000).")


def test_out_of_sight_the_sequence_window_moves_only_when_it_is_looked_at(
    qtbot, window: MainWindow, direct_run: RecordedRun, monkeypatch
):
    monkeypatch.setattr(sequence_view, "LONG_TIMELINE", 200)
    monkeypatch.setattr(sequence_view, "WINDOW", 40)
    sequence = window.sequence
    window.docks["log"].raise_()
    window.show_records(many_messages(direct_run.messages, 1_000))
    for position in (300, 600, 900):  # scrubbing: nothing of it is read for the view
        window.player.go_to(position)
    assert sequence.current == 900
    assert sequence.drawn == range(0, 40)
    window.docks["sequence"].raise_()
    qtbot.waitUntil(lambda: 900 in sequence.painted)
    assert 900 in sequence.drawn
