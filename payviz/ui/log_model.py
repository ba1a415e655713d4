"""The message log: a Qt item model over the trace, and the panel showing it through its
filter (`log_filter.TraceFilterProxy`: a party and a free text).

Rows are the trace's messages in order (state changes are not rows), so a row number is
also the Player's position. The row at the playhead is marked through `CurrentRole`, a
background brush and a bold font, so any view of the model follows the playhead.

The rows are columns (`payviz.diagrams.log_rows`): a million-message trace file opens in
seconds and takes about a hundred bytes a row, its messages decoded one at a time when a
row is inspected. They are made with the first row: an empty log loads none of
the trace readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
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

if TYPE_CHECKING:
    from payviz.diagrams.log_rows import LogRows
    from payviz.engine.trace import Message, Record

    from .log_filter import TraceFilterProxy

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


class TraceTableModel(QAbstractTableModel):
    """The trace's messages as rows: #, time, step, from -> to, summary, status, lock.

    Rows are kept as columns (`LogRows`): a live session's messages are held as they are;
    a trace file opened here (`open_trace`) is read in one pass without decoding its
    messages, each decoded when its row is asked for (`message`, `MESSAGE_ROLE`).

    Attributes:
        current_row: the row at the playhead, or -1.
        rows: the rows' columns (made when first asked for).

    Roles: `MESSAGE_ROLE` gives the Message of a row; `CURRENT_ROLE` is True at the playhead.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: LogRows | None = None
        self.current_row = -1
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def rows(self) -> LogRows:
        if self._rows is None:
            from payviz.diagrams.log_rows import LogRows

            self._rows = LogRows()
        return self._rows

    # -- filling ---------------------------------------------------------------------------

    def append_records(self, records: Iterable[Record]) -> None:
        """Append the messages among `records` (state changes are skipped) in one insert."""
        from payviz.engine.trace import Message

        new = self.rows.fresh(r for r in records if isinstance(r, Message))
        if not new:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.rows.append(new)
        self.endInsertRows()

    def open_trace(self, path: Path) -> list[tuple[int, str]]:
        """Show the messages of a trace file (replacing the rows), read in one pass; returns
        the lines left out, as (line number, reason).

        Raises TraceFormatError for a file that is not a payviz trace, OSError for one that
        cannot be read; the rows are then unchanged.
        """
        from payviz.diagrams.log_rows import LogRows

        rows = LogRows()
        rows.open_file(path)
        self.show_rows(rows)
        return rows.skipped

    def show_rows(self, rows: LogRows) -> None:
        """Show these rows (a file's, as `LogRows.open_file` read them), replacing any."""
        self.beginResetModel()
        if self._rows is not None and self._rows is not rows:
            self._rows.clear()
        self._rows = rows
        self.current_row = -1
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        if self._rows is not None:
            self._rows.clear()
        self.current_row = -1
        self.endResetModel()

    # -- lookups ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every row's message (those of a file are decoded: a long wait for a big one)."""
        return [m for m in self.rows.messages() if m is not None]

    def message(self, row: int) -> Message | None:
        return self.rows.message(row)

    def row_of_seq(self, seq: int) -> int:
        return self.rows.row_of_seq(seq)

    def set_current_row(self, row: int) -> None:
        """Move the playhead highlight; only the two rows concerned are repainted."""
        if row == self.current_row:
            return
        previous, self.current_row = self.current_row, row
        last = self.columnCount() - 1
        for changed in (previous, row):
            if 0 <= changed < self.rowCount():
                self.dataChanged.emit(self.index(changed, 0), self.index(changed, last))

    # -- QAbstractTableModel ---------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._rows is None else len(self._rows)

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
        row = index.row()
        if not index.isValid() or not 0 <= row < self.rowCount():
            return None
        column = index.column()
        current = row == self.current_row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column, current)
        if role == MESSAGE_ROLE:
            return self.rows.message(row)
        if role == CURRENT_ROLE:
            return current
        look = self.rows.look(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"step {look.step}: {look.title}\n{look.summary}"
        if role == Qt.ItemDataRole.BackgroundRole and current:
            return QBrush(CURRENT_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and current:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and look.failed:
            return QBrush(ERROR_FOREGROUND)
        if role == Qt.ItemDataRole.DecorationRole and column == 6 and look.encrypted:
            return lock_icon()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: int, column: int, current: bool) -> str:
        if column == 0:
            seq = self.rows.seq(row)
            return f"\u25b6 {seq}" if current else str(seq)
        if column == 1:
            return f"{self.rows.ts(row):.3f}"
        look = self.rows.look(row)
        if column == 2:
            return str(look.step)
        if column == 3:
            return f"{look.src} \u2192 {look.dst}"
        if column == 4:
            return look.summary
        if column == 5:
            return f"\u2718 {look.status}" if look.failed else look.status
        return "JWE" if look.encrypted else ""


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
        # A new filter resets the proxy and the view forgets its selection: the playhead's
        # row is selected again if it is still shown (connected after the view's own).
        proxy.modelReset.connect(self._on_proxy_reset)
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
            from PySide6.QtCore import QItemSelectionModel

            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            selection.setCurrentIndex(index, flags)
            self.view.scrollTo(index)
        else:
            selection.clearSelection()

    def _on_proxy_reset(self) -> None:
        model = self._proxy.sourceModel()
        row = model.current_row if isinstance(model, TraceTableModel) else -1
        if self._proxy.mapFromSource(self._proxy.sourceModel().index(row, 0)).isValid():
            self.show_row(row)
        else:
            self.view.scrollToTop()  # the playhead's row is filtered out: start at the top

    def _on_row_picked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.row_activated.emit(self._proxy.mapToSource(index).row())
