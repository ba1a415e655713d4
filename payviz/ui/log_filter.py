"""The log's filter: the rows of a `TraceTableModel` that involve a party and hold a text.

A filter is one pass over the model's column of rows (`LogRows.matching`); the proxy then
maps through the array of source rows it kept, so filtering a million rows takes one pass
and a proxy row costs a lookup.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QAbstractProxyModel, QModelIndex, QObject, Qt

from .log_model import Index, TraceTableModel

if TYPE_CHECKING:
    from array import array

    from payviz.diagrams.log_rows import LogRows


class TraceFilterProxy(QAbstractProxyModel):
    """Keeps the rows that involve a party (as sender or receiver) and contain a text.

    A filter is one pass over the source's rows (`LogRows.matching`) giving the source rows
    kept, in order; this proxy maps through that array (or is the identity when nothing
    is filtered out). A new filter resets the proxy; rows appended to the source are
    tested as they come.

    Attributes:
        party: the party to keep, or None for all.
        text: a case-insensitive substring of the summary, parties, step title or status.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.party: str | None = None
        self.text = ""
        self._kept: array[int] | None = None  # source rows shown; None: all of them
        self._count = 0  # rows shown (kept here: the source grows before it says so)
        self._seen = 0  # source rows looked at
        self._connected: list[tuple[Any, Any]] = []

    # -- the filter ------------------------------------------------------------------------

    def set_party(self, party: str | None) -> None:
        self._refilter(party or None, self.text)

    def set_text(self, text: str) -> None:
        self._refilter(self.party, text.strip().lower())

    def _refilter(self, party: str | None, text: str) -> None:
        if (party, text) == (self.party, self.text):
            return
        self.beginResetModel()
        self.party, self.text = party, text
        self._recount()
        self.endResetModel()

    def _rows(self) -> LogRows | None:
        model = self.sourceModel()
        return model.rows if isinstance(model, TraceTableModel) else None

    def _recount(self) -> None:
        model = self.sourceModel()
        if not isinstance(model, TraceTableModel) or not model.rowCount():
            self._kept, self._count, self._seen = None, 0, 0  # nothing to keep
            return
        rows = model.rows
        self._kept = rows.matching(self.party, self.text)
        self._seen = len(rows)
        self._count = len(rows) if self._kept is None else len(self._kept)

    # -- following the source --------------------------------------------------------------

    def setSourceModel(self, source: QAbstractItemModel) -> None:
        self.beginResetModel()
        for signal, slot in self._connected:
            signal.disconnect(slot)
        super().setSourceModel(source)
        self._connected = [
            (source.modelAboutToBeReset, self._on_source_about_to_be_reset),
            (source.modelReset, self._on_source_reset),
            (source.rowsInserted, self._on_source_rows_inserted),
            (source.rowsAboutToBeRemoved, self._on_source_about_to_be_reset),
            (source.rowsRemoved, self._on_source_reset),
            (source.layoutAboutToBeChanged, self._on_source_about_to_be_reset),
            (source.layoutChanged, self._on_source_reset),
            (source.dataChanged, self._on_source_data_changed),
            (source.headerDataChanged, self.headerDataChanged),
        ]
        for signal, slot in self._connected:
            signal.connect(slot)
        self._recount()
        self.endResetModel()

    def _on_source_about_to_be_reset(self, *_: Any) -> None:
        self.beginResetModel()

    def _on_source_reset(self, *_: Any) -> None:
        self._recount()
        self.endResetModel()

    def _on_source_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        rows = self._rows()
        if parent.isValid() or rows is None:
            return
        if first != self._seen:  # not an append: look at every row again
            self.beginResetModel()
            self._recount()
            self.endResetModel()
            return
        self._seen = last + 1
        kept = rows.matching(self.party, self.text, first, last + 1)
        added = range(first, last + 1) if kept is None else kept
        if not added:
            return
        self.beginInsertRows(QModelIndex(), self._count, self._count + len(added) - 1)
        if self._kept is None and kept is not None:
            from array import array  # with the first filter that drops a row

            self._kept = array("I", range(self._count))  # no longer every row
        if self._kept is not None:
            self._kept.extend(added)
        self._count += len(added)
        self.endInsertRows()

    def _on_source_data_changed(
        self,
        top: QModelIndex,
        bottom: QModelIndex,
        roles: list[int] = [],  # noqa: B006
    ) -> None:
        for row in range(top.row(), bottom.row() + 1):
            shown = self._proxy_row(row)
            if shown >= 0:
                self.dataChanged.emit(
                    self.index(shown, top.column()), self.index(shown, bottom.column()), roles
                )

    # -- QAbstractProxyModel ---------------------------------------------------------------

    def _proxy_row(self, source_row: int) -> int:
        if self._kept is None:
            return source_row if 0 <= source_row < self._count else -1
        at = bisect_left(self._kept, source_row)
        return at if at < len(self._kept) and self._kept[at] == source_row else -1

    def mapFromSource(self, source: Index) -> QModelIndex:
        if not source.isValid() or source.model() is not self.sourceModel():
            return QModelIndex()
        row = self._proxy_row(source.row())
        return self.index(row, source.column()) if row >= 0 else QModelIndex()

    def mapToSource(self, proxy: Index) -> QModelIndex:
        model = self.sourceModel()
        if model is None or not proxy.isValid() or not 0 <= proxy.row() < self._count:
            return QModelIndex()
        row = proxy.row() if self._kept is None else self._kept[proxy.row()]
        return model.index(row, proxy.column())

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < self._count and 0 <= column < self.columnCount()):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: Index | None = None) -> Any:
        # Without an index this is QObject.parent(): the proxy's owner.
        return QObject.parent(self) if child is None else QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        model = self.sourceModel()
        return 0 if parent.isValid() or model is None else model.columnCount()

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._count > 0

    def sibling(self, row: int, column: int, index: Index) -> QModelIndex:
        return self.index(row, column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        model = self.sourceModel()
        if model is None:
            return None
        if orientation == Qt.Orientation.Vertical:
            source = self.mapToSource(self.index(section, 0))
            section = source.row() if source.isValid() else section
        return model.headerData(section, orientation, role)
