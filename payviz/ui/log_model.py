"""The message log: a Qt item model over the trace, a party / free-text filter, the panel.

Rows are the trace's messages in order (state changes are not rows), so a row number is
also the Player's position. The row at the playhead is marked through `CurrentRole`, a
background brush and a bold font, so any view of the model follows the playhead.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO
from payviz.engine._types import PARTIES
from payviz.engine.trace import Message, Record

Index = QModelIndex | QPersistentModelIndex

MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
CURRENT_ROLE = Qt.ItemDataRole.UserRole + 2

COLUMNS = ("#", "time (s)", "step", "from -> to", "summary", "status", "lock")
CURRENT_BACKGROUND = QColor(OKABE_ITO["orange"])
CURRENT_BACKGROUND.setAlpha(70)  # the playhead: Okabe-Ito orange, softened
ERROR_FOREGROUND = QColor(ERROR_COLOUR)  # the one error colour

# assets/icons inside the installed package, or at the top of a source checkout.
ICON_DIRS = (
    Path(__file__).resolve().parents[1] / "assets" / "icons",
    Path(__file__).resolve().parents[2] / "assets" / "icons",
)


@cache
def svg_icon(name: str, colour: str | None = None) -> QIcon:
    """An icon of assets/icons; single-colour icons drawn in `currentColor` get `colour`."""
    for folder in ICON_DIRS:
        path = folder / f"{name}.svg"
        if path.is_file():
            source = path.read_text(encoding="utf-8")
            if colour is not None:
                source = source.replace("currentColor", colour)
            pixmap = QPixmap()
            pixmap.loadFromData(source.encode(), "SVG")
            return QIcon(pixmap)
    return QIcon()


def lock_icon() -> QIcon:
    """The diagram's padlock in the encrypted token's colour: one glyph for a JWE everywhere."""
    return svg_icon("lock", OKABE_ITO["bluish_green"])


def status_text(message: Message) -> str:
    """The outcome column: HTTP status, ISO 8583 field 39, or what went wrong."""
    if message.status is None and message.error:
        return "no answer"
    if message.protocol == "iso8583" and "39" in message.fields:
        return f"39={message.fields['39']}"
    return "" if message.status is None else str(message.status)


class TraceTableModel(QAbstractTableModel):
    """The trace's messages as rows: #, time, step, from -> to, summary, status, lock.

    Attributes:
        current_row: the row at the playhead, or -1.

    Roles: `MESSAGE_ROLE` gives the Message of a row; `CURRENT_ROLE` is True at the playhead.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []
        self._rows_by_seq: dict[int, int] = {}
        self.current_row = -1
        self._bold = QFont()
        self._bold.setBold(True)

    # -- filling ---------------------------------------------------------------------------

    def append_records(self, records: Iterable[Record]) -> None:
        """Append the messages among `records` (state changes are skipped) in one insert."""
        new = [r for r in records if isinstance(r, Message) and r.seq not in self._rows_by_seq]
        if not new:
            return
        first = len(self._messages)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for offset, message in enumerate(new):
            self._rows_by_seq[message.seq] = first + offset
        self._messages.extend(new)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._messages.clear()
        self._rows_by_seq.clear()
        self.current_row = -1
        self.endResetModel()

    # -- lookups ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        return list(self._messages)

    def message(self, row: int) -> Message | None:
        return self._messages[row] if 0 <= row < len(self._messages) else None

    def row_of_seq(self, seq: int) -> int:
        return self._rows_by_seq.get(seq, -1)

    def set_current_row(self, row: int) -> None:
        """Move the playhead highlight; only the two rows concerned are repainted."""
        if row == self.current_row:
            return
        previous, self.current_row = self.current_row, row
        last = self.columnCount() - 1
        for changed in (previous, row):
            if 0 <= changed < len(self._messages):
                self.dataChanged.emit(self.index(changed, 0), self.index(changed, last))

    # -- QAbstractTableModel ---------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._messages)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section] == "lock":
                return "a padlock marks a payload encrypted as a JWE"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        message = self._messages[index.row()]
        column = index.column()
        current = index.row() == self.current_row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(message, column, current)
        if role == MESSAGE_ROLE:
            return message
        if role == CURRENT_ROLE:
            return current
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"step {message.step}: {message.title}\n{message.summary}"
        if role == Qt.ItemDataRole.BackgroundRole and current:
            return QBrush(CURRENT_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and current:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and message.failed:
            return QBrush(ERROR_FOREGROUND)
        if role == Qt.ItemDataRole.DecorationRole and column == 6 and message.encrypted:
            return lock_icon()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(message: Message, column: int, current: bool) -> str:
        if column == 0:
            return f"\u25b6 {message.seq}" if current else str(message.seq)
        if column == 1:
            return f"{message.ts:.3f}"
        if column == 2:
            return str(message.step)
        if column == 3:
            return f"{message.src} \u2192 {message.dst}"
        if column == 4:
            return message.summary
        if column == 5:
            text = status_text(message)
            return f"\u2718 {text}" if message.failed else text
        return "JWE" if message.encrypted else ""


class TraceFilterProxy(QSortFilterProxyModel):
    """Keeps the rows that involve a party (as sender or receiver) and contain a text.

    Attributes:
        party: the party to keep, or None for all.
        text: a case-insensitive substring of the summary, parties, step title or status.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.party: str | None = None
        self.text = ""

    def set_party(self, party: str | None) -> None:
        self.beginFilterChange()
        self.party = party or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        message = model.index(source_row, 0, source_parent).data(MESSAGE_ROLE)
        if not isinstance(message, Message):
            return False
        if self.party is not None and self.party not in (message.src, message.dst):
            return False
        if not self.text:
            return True
        haystack = " ".join(
            (message.summary, message.src, message.dst, message.title, status_text(message))
        ).lower()
        return self.text in haystack


class LogPanel(QWidget):
    """The log dock's content: the filter's inputs over a table view of the proxy.

    Signals:
        row_activated(int): the user picked a row (a source row: a message index).

    Attributes:
        view: the QTableView; party_box and search_box: the filter's inputs.
    """

    row_activated = Signal(int)

    def __init__(self, proxy: TraceFilterProxy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._proxy = proxy
        self.party_box = QComboBox()
        self.party_box.addItem("All parties", None)
        for party in PARTIES:
            self.party_box.addItem(party.capitalize(), party)
        self.party_box.currentIndexChanged.connect(
            lambda _: proxy.set_party(self.party_box.currentData())
        )
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Filter messages: text in summary, party or step")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(160)  # the clear button must not widen the window
        self.search_box.textChanged.connect(proxy.set_text)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.party_box)
        bar.addWidget(self.search_box, 1)
        self.view = QTableView()
        self.view.setModel(proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        for column, width in enumerate((70, 90, 55, 210, 420, 90, 64)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(COLUMNS.index("summary"), QHeaderView.ResizeMode.Stretch)
        # Clicks and Enter only: the filter moving the current row is not the user's pick.
        self.view.clicked.connect(self._on_row_picked)
        self.view.activated.connect(self._on_row_picked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

    def sizeHint(self) -> QSize:
        return QSize(900, 300)

    def show_row(self, row: int) -> None:
        """Select and reveal the playhead's row (nothing selected if it is filtered out)."""
        source = self._proxy.sourceModel().index(row, 0)
        index = self._proxy.mapFromSource(source)
        selection = self.view.selectionModel()
        if index.isValid():
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            selection.setCurrentIndex(index, flags)
            self.view.scrollTo(index)
        else:
            selection.clearSelection()

    def _on_row_picked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.row_activated.emit(self._proxy.mapToSource(index).row())
