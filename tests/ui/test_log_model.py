"""The message log model: rows are the trace's messages, the playhead row stands out."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QIcon

from payviz.ui.log_model import (
    COLUMNS,
    CURRENT_ROLE,
    MESSAGE_ROLE,
    TraceFilterProxy,
    TraceTableModel,
)
from tests.conftest import RecordedRun

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
