"""Sessions in files: save, reopen and replay; drag and drop; damaged files; HAR import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from payviz.diagrams.session_file import save_session
from payviz.ui.app import build_parser
from payviz.ui.main_window import MainWindow
from tests.helpers.ui import every_step, log_rows, open_window, run_checkout, window_fixture

if TYPE_CHECKING:
    from tests.conftest import RecordedRun


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    yield from window_fixture(qtbot)


def test_a_saved_session_reopens_exactly_as_recorded(qtbot, window: MainWindow, tmp_path: Path):
    run_checkout(qtbot, window, mode="direct", notify="async")
    # A reopened file starts at its first message; the live player may have moved past it
    # while the checkout ran (a slow machine), and the log marks the playhead's row.
    window.player.go_to(0)
    recorded_rows, recorded = log_rows(window), every_step(window)
    assert any("\u2714 Verified" in step["signature"] for step in recorded)
    assert any("Plaintext, opened" in step["encryption"] for step in recorded)
    path = tmp_path / "checkout.jsonl"
    assert window.file_menu.save_to(path)

    reopened = open_window(qtbot)  # a fresh window: its engine never runs a checkout
    assert reopened.file_menu.open_path(path)
    assert reopened.player.position == 0
    assert log_rows(reopened) == recorded_rows
    assert every_step(reopened) == recorded  # banner, highlights, JWE and signature tabs
    assert reopened.scenarios == window.bridge.scenarios
    assert reopened.windowTitle() == "payviz \u2014 checkout.jsonl"
    assert str(path.resolve()) in reopened.file_menu.recent_files()
    session = reopened.bridge.session
    assert session is None or not session.trace.records
    reopened.close()


def test_running_a_checkout_after_opening_a_file_returns_to_the_live_session(
    qtbot, window: MainWindow, tmp_path: Path, direct_run: RecordedRun
):
    path = tmp_path / "opened.jsonl"
    save_session(path, direct_run.records)
    window.file_menu.open_path(path)
    assert window.player.length == len(direct_run.messages)
    run_checkout(qtbot, window, mode="redirect")
    assert window.source is None
    assert window.records == window.bridge.session.trace.records  # type: ignore[union-attr]
    assert "all 5 hold" in window.invariants_badge.text()


def test_dropping_a_file_on_the_window_opens_it(
    qtbot, window: MainWindow, tmp_path: Path, direct_run: RecordedRun
):
    path = tmp_path / "dropped.jsonl"
    save_session(path, direct_run.records)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where = QPoint(window.width() // 2, window.height() // 2)
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(where.toPointF(), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window, drop)
    assert window.source == path
    assert window.log_model.rowCount() == len(direct_run.messages)
    assert len(window.sequence.diagram.arrows) == len(direct_run.messages)
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QDragEnterEvent(where, Qt.DropAction.CopyAction, other, buttons, keys)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_a_trace_cut_mid_line_opens_what_is_readable_and_says_what_was_skipped(
    window: MainWindow, tmp_path: Path, direct_run: RecordedRun
):
    path = tmp_path / "crashed.jsonl"
    save_session(path, direct_run.records)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex('"seq"') + 12], encoding="utf-8")  # cut mid-record
    lines = text.count("\n")
    assert window.file_menu.open_path(path)
    readable = [m for m in direct_run.records[:-1] if m.type == "message"]
    assert window.player.length == len(readable)
    status = window.statusBar().currentMessage()
    assert f"skipped 1 line: line {lines} (truncated" in status
    notice = window.file_menu.notice
    assert notice is not None
    assert notice.isVisible()
    assert f"line {lines}" in notice.text()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            '{"type": "header", "schema": 99, "generator": "payviz"}\n',
            "unsupported trace schema 99",
        ),
        ("%PDF-1.7 not a trace\n", "is not a payviz trace"),
        ('{"log": {"pages": []}}', "not a HAR file"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_and_changes_nothing(
    window: MainWindow, tmp_path: Path, direct_run: RecordedRun, content: str, reason: str
):
    good = tmp_path / "good.jsonl"
    save_session(good, direct_run.records)
    window.file_menu.open_path(good)
    bad = tmp_path / ("bad.har" if "log" in content else "bad.jsonl")
    bad.write_text(content, encoding="utf-8")
    assert not window.file_menu.open_path(bad)
    notice = window.file_menu.notice
    assert notice is not None
    assert reason in notice.text()
    assert reason in window.statusBar().currentMessage()
    assert window.source == good  # what was shown stays shown
    assert window.player.length == len(direct_run.messages)


def test_a_har_round_trip_shows_the_same_parties_in_the_same_order(
    qtbot, window: MainWindow, tmp_path: Path
):
    run_checkout(qtbot, window, mode="redirect")
    parties = window.sequence.diagram.participants
    routes = [(m.src, m.dst, m.summary) for m in window.player.messages]
    path = tmp_path / "checkout.har"
    assert window.file_menu.export_to("har", path)
    assert window.file_menu.open_path(path)  # payviz's own HAR: no question to ask
    assert window.file_menu.host_dialog is None
    assert window.sequence.diagram.participants == parties
    assert [(m.src, m.dst, m.summary) for m in window.player.messages] == routes


def test_a_browser_har_asks_which_party_each_host_is(qtbot, window: MainWindow, tmp_path: Path):
    run_checkout(qtbot, window, mode="direct")
    http = [m for m in window.player.messages if m.protocol == "http"]
    exported = tmp_path / "payviz.har"
    window.file_menu.export_to("har", exported)
    data = json.loads(exported.read_text(encoding="utf-8"))
    for entry in data["log"]["entries"]:  # as a browser's developer tools would save it
        entry.pop("_payviz")
        entry["response"].pop("_payviz", None)
    for key in ("_payviz_other", "_payviz_states", "_payviz_schema"):
        data["log"].pop(key)
    path = tmp_path / "browser.har"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.file_menu.open_path(path)
    dialog = window.file_menu.host_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    guessed = {host: box.currentData() for host, box in dialog.boxes.items()}
    assert guessed == {
        "merchant.payviz.test": "merchant",
        "gateway.payviz.test": "gateway",
        "processor.payviz.test": "processor",
    }
    dialog.accept()
    assert window.source == path
    assert window.sequence.diagram.participants == ("browser", "merchant", "gateway", "processor")
    # Foreign entries are ordered by time (to the millisecond), so compare the hops as a set.
    imported = sorted((m.src, m.dst, m.direction) for m in window.player.messages)
    assert imported == sorted((m.src, m.dst, m.direction) for m in http)


def test_the_command_line_takes_a_file_to_open() -> None:
    args = build_parser().parse_args(["session.jsonl"])
    assert args.path == Path("session.jsonl")
    assert build_parser().parse_args([]).path is None


def test_recent_files_keep_the_last_eight_newest_first(
    window: MainWindow, tmp_path: Path, direct_run: RecordedRun
) -> None:
    paths = [tmp_path / f"session-{number}.jsonl" for number in range(10)]
    for path in paths:
        save_session(path, direct_run.records)
        window.file_menu.open_path(path)
    recent = window.file_menu.recent
    assert recent.paths() == [str(p.resolve()) for p in reversed(paths)][:8]

    def entry(number: int) -> QAction:
        return next(a for a in recent.menu.actions() if a.text().startswith(f"&{number} "))

    assert entry(1).text() == "&1 session-9.jsonl"
    paths[5].unlink()
    entry(5).trigger()  # session-5, gone since
    assert str(paths[5].resolve()) not in recent.paths()
    assert "no longer there" in window.statusBar().currentMessage()
    assert entry(7).text() == "&7 session-2.jsonl"
    entry(7).trigger()  # still there: opened
    assert window.source == paths[2]
    assert recent.paths()[0] == str(paths[2].resolve())
