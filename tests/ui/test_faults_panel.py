"""Fault injection from the window: pick faults, run, see the damage and the invariants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from payviz.engine.invariants import Violation
from payviz.ui.main_window import MainWindow
from tests.helpers.ui import run_checkout, window_fixture


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    yield from window_fixture(qtbot)


def _faults_action(window: MainWindow):
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    return next(a for a in run_menu.actions() if a.text().startswith("&Faults"))


def test_an_http_500_at_the_gateway_is_retried_and_the_invariants_hold(
    qtbot, window: MainWindow
) -> None:
    _faults_action(window).trigger()
    panel = window.faults
    assert window.docks["faults"].isVisible()
    check, links = panel.link_faults["http-500"]
    assert links.currentData() == "merchant-gateway"  # the default link, pre-selected
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert panel.specs() == ("http-500@merchant-gateway",)
    assert "http-500@merchant-gateway" in panel.summary.text()
    with qtbot.waitSignal(window.bridge.invariants_checked, timeout=20_000) as checked:
        run_checkout(qtbot, window)
    assert checked.args == [[]]
    messages = window.player.messages
    posts = [
        i
        for i, m in enumerate(messages)
        if (m.src, m.dst, m.summary) == ("merchant", "gateway", "POST /v1/payments")
    ]
    failed = next(i for i, m in enumerate(messages) if m.status == 500)
    assert len(posts) == 2
    assert posts[0] < failed < posts[1]  # the 500, then the merchant's retry
    assert messages[failed].src == "gateway"
    assert "\u2718 500" in window.log_model.index(failed, 5).data()
    assert window.invariants_badge.text() == "\u2714 Invariants: all 5 hold"
    status = window.statusBar().currentMessage()
    assert "with http-500@merchant-gateway" in status
    assert "Invariants: all 5 hold." in status
    assert window.bridge.scenarios[1].faults == ("http-500@merchant-gateway",)


def test_the_links_follow_the_flow_and_keep_a_choice_that_still_exists(window: MainWindow):
    panel = window.faults
    panel.link_faults["delay"][0].setChecked(True)
    panel.delay_box.setValue(12)
    panel.set_link("delay", "bank-processor")
    panel.other_faults["timeout"].setChecked(True)
    assert window.run_controls.scenario_fields()["faults"] == (
        "delay@bank-processor=12",
        "timeout",
    )
    window.run_controls.set_mode("redirect")
    links = panel.link_faults["http-500"][1]
    assert links.currentData() == "merchant-processor"  # redirect's default link
    assert links.findData("merchant-gateway") == -1  # no gateway in a hosted checkout
    assert panel.link_faults["delay"][1].currentData() == "bank-processor"
    panel.clear()
    assert window.run_controls.scenario_fields()["faults"] == ()


def test_a_broken_invariant_is_shown_with_its_rule(window: MainWindow) -> None:
    badge = window.invariants_badge
    broken = Violation("money is conserved", "bank debits 1999, processor captures 0")
    window.bridge.invariants_checked.emit([broken])
    assert badge.text() == "\u2718 Invariant broken: money is conserved"
    assert "bank debits 1999" in badge.toolTip()
