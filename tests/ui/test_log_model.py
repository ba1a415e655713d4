"""The message log model: rows are the trace's messages, the playhead row stands out; a
trace file opens in it without decoding its messages, and filters by party and text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QIcon

from payviz.diagrams import trace_split
from payviz.diagrams.session_file import save_session
from payviz.diagrams.trace_io import TraceFormatError, load_trace
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, read_trace
from payviz.ui.log_filter import TraceFilterProxy
from payviz.ui.log_model import (
    COLUMNS,
    CURRENT_ROLE,
    MESSAGE_ROLE,
    LogPanel,
    TraceTableModel,
)
from tests.conftest import RecordedRun
from tests.diagrams.recorded import record_trace

DISPLAY = Qt.ItemDataRole.DisplayRole


def test_rows_are_the_messages_appended_in_one_insert_per_batch(
    qtbot, direct_run: RecordedRun
) -> None:
    model = TraceTableModel()
    half = len(direct_run.records) // 2
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.append_records(direct_run.records[:half])
    model.append_records(direct_run.records[half:])
    model.append_records(direct_run.records[:half])  # already there: nothing is added twice
    messages = direct_run.messages
    assert model.messages == messages
    assert model.rowCount() == len(messages)
    first_batch = sum(1 for r in direct_run.records[:half] if r in messages)
    assert inserted == [(0, first_batch - 1), (first_batch, len(messages) - 1)]
    row = 3
    assert model.index(row, 0).data(MESSAGE_ROLE) is messages[row]
    assert model.index(row, 0).data(DISPLAY) == str(messages[row].seq)
    assert model.index(row, 3).data(DISPLAY) == f"{messages[row].src} \u2192 {messages[row].dst}"
    assert model.index(row, 4).data(DISPLAY) == messages[row].summary
    assert model.headerData(0, Qt.Orientation.Horizontal, DISPLAY) == COLUMNS[0]


def test_an_encrypted_message_carries_the_lock(direct_run: RecordedRun) -> None:
    model = TraceTableModel()
    model.append_records(direct_run.records)
    lock = COLUMNS.index("lock")
    rows = [r for r in range(model.rowCount()) if model.message(r).encrypted]
    assert len(rows) == 1
    assert model.index(rows[0], lock).data(DISPLAY) == "JWE"
    assert isinstance(model.index(rows[0], lock).data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert model.index(0, lock).data(Qt.ItemDataRole.DecorationRole) is None


def test_the_playhead_row_is_highlighted_and_only_it_repaints(
    qtbot, direct_run: RecordedRun
) -> None:
    model = TraceTableModel()
    model.append_records(direct_run.records)
    model.set_current_row(2)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles=(): changed.append(top.row()))
    model.set_current_row(5)
    assert changed == [2, 5]
    assert model.index(5, 0).data(CURRENT_ROLE) is True
    assert model.index(2, 0).data(CURRENT_ROLE) is False
    assert isinstance(model.index(5, 4).data(Qt.ItemDataRole.BackgroundRole), QBrush)
    assert model.index(2, 4).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(5, 0).data(DISPLAY).startswith("\u25b6")
    assert model.index(5, 0).data(Qt.ItemDataRole.FontRole).bold()


def test_filter_by_party_and_text(direct_run: RecordedRun) -> None:
    model = TraceTableModel()
    model.append_records(direct_run.records)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_party("bank")
    shown = [proxy.index(r, 0).data(MESSAGE_ROLE) for r in range(proxy.rowCount())]
    assert shown
    assert all("bank" in (m.src, m.dst) for m in shown)
    assert len(shown) == sum("bank" in (m.src, m.dst) for m in model.messages)
    proxy.set_text("0110")
    assert [proxy.index(r, 0).data(MESSAGE_ROLE).mti for r in range(proxy.rowCount())] == ["0110"]
    proxy.set_party(None)
    proxy.set_text("")
    assert proxy.rowCount() == model.rowCount()


def test_qtmodeltester_passes_while_the_model_grows(qtmodeltester, direct_run: RecordedRun) -> None:
    model = TraceTableModel()
    half = len(direct_run.records) // 2
    model.append_records(direct_run.records[:half])
    qtmodeltester.check(model)  # keeps watching every change below
    model.append_records(direct_run.records[half:])
    model.set_current_row(4)
    model.set_current_row(-1)
    model.clear()
    assert model.rowCount() == 0
    assert model.rowCount(QModelIndex()) == 0


def test_qtmodeltester_passes_on_the_filter_proxy(qtmodeltester, direct_run: RecordedRun) -> None:
    model = TraceTableModel()
    model.append_records(direct_run.records)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)
    proxy.set_party("processor")
    proxy.set_text("POST")
    assert 0 < proxy.rowCount() < model.rowCount()
    proxy.set_party(None)
    proxy.set_text("")
    assert proxy.rowCount() == model.rowCount()


# -- a trace file opened in the log ----------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace file as payviz writes it: approved, declined (ISO 8583 field 39), an HTTP
    500 the merchant retries, and a redirect checkout."""
    return record_trace(
        tmp_path_factory.mktemp("log") / "trace.jsonl",
        Scenario(mode="direct", notify="async"),
        Scenario(mode="direct", decision="decline"),
        Scenario(mode="direct", faults=("http-500@merchant-gateway",)),
        Scenario(mode="redirect"),
    )


def _shown(model: TraceTableModel) -> list[tuple[Any, ...]]:
    """Every row as a user sees it: each column's text, tooltip, colour and lock."""
    roles = (
        DISPLAY,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
    )
    rows = []
    for row in range(model.rowCount()):
        cells: list[Any] = []
        for column in range(model.columnCount()):
            index = model.index(row, column)
            cells += [_plain(index.data(role)) for role in roles]
            cells.append(index.data(Qt.ItemDataRole.DecorationRole) is not None)
        rows.append(tuple(cells))
    return rows


def _plain(value: Any) -> Any:
    return value.color().name() if isinstance(value, QBrush) else value


def _opened(path: Path) -> TraceTableModel:
    model = TraceTableModel()
    assert model.open_trace(path) == []
    return model


def test_an_opened_trace_shows_the_rows_a_live_session_shows(qtbot, recorded: Path) -> None:
    live = TraceTableModel()
    live.append_records(read_trace(recorded))
    opened = _opened(recorded)
    assert opened.rowCount() == live.rowCount() > 60
    assert _shown(opened) == _shown(live)
    statuses = {opened.index(row, 5).data() for row in range(opened.rowCount())}
    assert {"39=05", "\u2718 500", "303"} <= statuses  # ISO answer, failure, redirect


def test_a_saved_session_spaced_like_json_dumps_opens_the_same(
    qtbot, recorded: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "session.jsonl"
    save_session(saved, read_trace(recorded), {})
    assert b'"seq": 1, ' in saved.read_bytes()
    assert _shown(_opened(saved)) == _shown(_opened(recorded))


def test_selecting_a_row_of_an_opened_trace_gives_its_whole_message(qtbot, recorded: Path) -> None:
    model = _opened(recorded)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    panel = LogPanel(proxy)
    qtbot.addWidget(panel)
    messages = [r for r in read_trace(recorded) if isinstance(r, Message)]
    assert model.messages == messages  # every row decodes to the message recorded
    proxy.set_text("0110 authorization")  # "0110" alone also turns up in random ids
    picked: list[int] = []
    panel.row_activated.connect(picked.append)
    panel.view.activated.emit(proxy.index(0, 4))
    [row] = picked
    assert model.message(row) == proxy.index(0, 0).data(MESSAGE_ROLE) == messages[row]
    assert model.message(row).fields["39"] == "00"
    assert model.message(row).headers == messages[row].headers  # decoded only now
    assert model.row_of_seq(messages[row].seq) == row


def test_filtering_an_opened_trace_by_party_and_text(recorded: Path) -> None:
    model = _opened(recorded)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    messages = model.messages

    def shown() -> list[Message]:
        return [proxy.index(r, 0).data(MESSAGE_ROLE) for r in range(proxy.rowCount())]

    proxy.set_party("bank")
    assert shown() == [m for m in messages if "bank" in (m.src, m.dst)]
    proxy.set_text("  DO NOT honor ")  # case and spaces do not matter
    assert [m.fields["39"] for m in shown()] == ["05"]
    proxy.set_party(None)
    # The status as the summary words it: "500" alone also turns up in random ids.
    proxy.set_text("500 internal")
    assert shown() == [m for m in messages if m.status == 500]
    proxy.set_text("merchant \u2192")  # a sender and a receiver, not the arrow: nothing
    assert proxy.rowCount() == 0
    proxy.set_text("gateway merchant")  # "from -> to" as the haystack spells it
    assert shown() == [m for m in messages if (m.src, m.dst) == ("gateway", "merchant")]
    proxy.set_text("")
    assert proxy.rowCount() == model.rowCount()


def test_the_filter_follows_rows_appended_while_it_is_set(qtbot, direct_run: RecordedRun) -> None:
    model = TraceTableModel()
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_party("processor")
    inserted: list[tuple[int, int]] = []
    proxy.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    half = len(direct_run.records) // 2
    model.append_records(direct_run.records[:half])
    model.append_records(direct_run.records[half:])
    wanted = [m for m in direct_run.messages if "processor" in (m.src, m.dst)]
    assert [proxy.index(r, 0).data(MESSAGE_ROLE) for r in range(proxy.rowCount())] == wanted
    assert inserted[0][0] == 0
    assert inserted[-1][1] == len(wanted) - 1
    source_rows = [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(len(wanted))]
    assert [model.message(r) for r in source_rows] == wanted
    assert [proxy.mapFromSource(model.index(r, 0)).row() for r in source_rows] == list(
        range(len(wanted))
    )


def test_the_playhead_row_stays_selected_when_the_filter_changes(qtbot, recorded: Path) -> None:
    model = _opened(recorded)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    panel = LogPanel(proxy)
    qtbot.addWidget(panel)
    bank = next(r for r in range(model.rowCount()) if model.message(r).dst == "bank")
    model.set_current_row(bank)
    panel.show_row(bank)
    panel.party_box.setCurrentIndex(panel.party_box.findData("bank"))
    selected = panel.view.selectionModel().currentIndex()
    assert proxy.mapToSource(selected).row() == bank
    panel.search_box.setText("no such message")
    assert not panel.view.selectionModel().hasSelection()


def test_damaged_lines_are_left_out_and_listed_like_load_trace(
    recorded: Path, tmp_path: Path
) -> None:
    lines = recorded.read_bytes().splitlines(keepends=True)
    message = next(i for i in range(8, len(lines)) if json.loads(lines[i])["type"] == "message")
    lines[3] = lines[3][:50] + b"\n"  # cut in the middle
    lines[message] = json.dumps({**json.loads(lines[message]), "dst": "eavesdropper"}).encode()
    lines[message] += b"\n"
    lines[-1] = lines[-1][:-30]  # a crash while writing the last line
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(lines))
    model = TraceTableModel()
    skipped = model.open_trace(damaged)
    assert skipped == load_trace(damaged).skipped
    assert [number for number, _ in skipped] == [4, message + 1, len(lines)]
    assert model.messages == load_trace(damaged).messages


def test_a_file_that_is_not_a_trace_leaves_the_log_as_it_was(
    direct_run: RecordedRun, tmp_path: Path
) -> None:
    model = TraceTableModel()
    model.append_records(direct_run.records)
    other = tmp_path / "notes.jsonl"
    other.write_text('{"name": "something else"}\n', encoding="utf-8")
    with pytest.raises(TraceFormatError, match="not a payviz trace"):
        model.open_trace(other)
    assert model.messages == direct_run.messages


def test_a_large_file_read_on_two_cores_gives_the_same_rows(
    qtbot, recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = tmp_path / "long.jsonl"
    lines = recorded.read_bytes().splitlines(keepends=True)
    copies.write_bytes(lines[0] + b"".join(lines[1:]) * 3)
    whole = _shown(_opened(copies))
    monkeypatch.setattr(trace_split, "SPLIT_FROM", 0)  # any file is split
    assert _shown(_opened(copies)) == whole


def test_qtmodeltester_passes_on_an_opened_trace_and_its_filter(
    qtmodeltester, recorded: Path
) -> None:
    model = _opened(recorded)
    qtmodeltester.check(model)
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)
    proxy.set_party("gateway")
    proxy.set_text("post")
    assert 0 < proxy.rowCount() < model.rowCount()
    model.set_current_row(3)
    model.open_trace(recorded)
    proxy.set_text("")
