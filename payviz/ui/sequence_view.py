"""The sequence view: one lifeline per party, one arrow per message, following the playhead.

A trace can hold tens of thousands of messages, so the view is a scroll area that paints
only the rows inside its viewport (a binary search finds them); there is no item per
message. The diagram itself is data (`payviz.diagrams.sequence.build_sequence`), rebuilt
lazily when messages arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QToolTip, QWidget

from payviz.diagrams.sequence import SequenceDiagram, build_sequence, extend_sequence

from .diagram.painting import Theme
from .sequence_paint import SequenceLayout, paint_empty, paint_header, paint_rows

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from payviz.engine.trace import Message


# From this many messages on (a long file opened, read as the playhead reaches it), the
# view draws a window of the timeline around the playhead, moved when the playhead leaves.
LONG_TIMELINE = 25_000  # below what a long file opened lazily holds (32 MB, ~34,000)
WINDOW = 2_000


class SequenceView(QAbstractScrollArea):
    """A sequence diagram of the trace's messages that paints only its visible rows.

    Signals:
        arrow_activated(int): the user clicked an arrow; the message index (= the
            Player's position and the log's row).

    Attributes:
        current: the arrow at the playhead (-1: none), highlighted and kept in view.
        painted: the arrow indices the last paint drew (a few dozen, whatever the length).
        scale: the zoom factor (View > Zoom), 1.0 being 100 %.
    """

    arrow_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sequence_view")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.viewport().setMouseTracking(False)
        self._messages: list[Message] = []
        self._diagram: SequenceDiagram | None = None
        self._layout: SequenceLayout | None = None
        self._source: Sequence[Message] | None = None  # a long timeline, drawn a window at a time
        self._offset = 0  # the timeline's index of the window's first message
        self._current = -1  # in the window
        self.painted = range(0)
        self._pending = False  # the scroll range to size at the next paint (see `_follow`)
        self._pending_scroll = False  # and the current arrow to bring into view then
        self._wanted: int | None = None  # the playhead, when it left the window unseen
        self.scale = 1.0
        self._theme = Theme.from_palette(self.palette())

    def sizeHint(self) -> QSize:
        return QSize(900, 300)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 120)

    # -- the messages ----------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        return list(self._messages)

    @property
    def diagram(self) -> SequenceDiagram:
        if self._diagram is None:
            self._diagram = build_sequence(self._messages)
        return self._diagram

    def sequence_layout(self) -> SequenceLayout:
        """The layout for the current width and zoom (rebuilt when either changes)."""
        width = float(self.viewport().width())
        layout = self._layout
        if layout is None or layout.scale != self.scale or self._width_changed(layout, width):
            layout = SequenceLayout.build(self.diagram, width, self.scale)
            self._layout = layout
        return layout

    def _width_changed(self, layout: SequenceLayout, width: float) -> bool:
        minimum = SequenceLayout.minimum_width(len(layout.columns), self.scale)
        return abs(layout.width - max(width, minimum)) > 0.5

    @property
    def drawn(self) -> range:
        """The timeline's indices of the messages drawn: all of them, or a window."""
        return range(self._offset, self._offset + len(self._messages))

    @property
    def current(self) -> int:
        """The arrow at the playhead, as the timeline's index (-1: none)."""
        if self._wanted is not None:
            return self._wanted
        return -1 if self._current < 0 else self._current + self._offset

    def set_messages(self, messages: Sequence[Message]) -> None:
        """Show these messages (a copy is kept, of a long timeline's window only: see
        `LONG_TIMELINE`); the playhead is reset."""
        long = len(messages) >= LONG_TIMELINE
        self._source = messages if long else None
        self._offset = 0
        self._messages = list(messages[:WINDOW] if long else messages)
        self._current = -1
        self._wanted = None
        self._invalidate()
        self.verticalScrollBar().setValue(0)

    def append_messages(self, messages: Iterable[Message]) -> None:
        """Add messages after the last; only the new ones are laid out (live runs, load)."""
        from payviz.engine.trace import Message

        new = [m for m in messages if isinstance(m, Message)]
        if not new or self._source is not None:  # a window follows the playhead instead
            return
        self._messages.extend(new)
        built = self._diagram
        self._invalidate(None if built is None else extend_sequence(built, new))

    def clear(self) -> None:
        self.set_messages([])

    def _invalidate(self, diagram: SequenceDiagram | None = None) -> None:
        """Forget the layout (and the diagram, unless given): the messages changed."""
        self._diagram = diagram
        self._layout = None
        self._follow(scroll=False)
        self.viewport().update()

    # -- the playhead ----------------------------------------------------------------------

    def set_current(self, index: int) -> None:
        """Highlight arrow `index` and scroll it into view (-1: nothing highlighted)."""
        source = self._source
        self._wanted = None
        if source is not None and 0 <= index < len(source) and index not in self.drawn:
            if not self._on_screen():  # the window moves when the view is next painted
                self._wanted = index
                self._pending = self._pending_scroll = True
                return
            self._window_at(index)
        local = index - self._offset
        self._current = local if 0 <= local < len(self._messages) else -1
        self._follow(scroll=True)
        self.viewport().update()

    def ensure_visible(self, index: int) -> None:
        """Scroll so arrow `index` of those drawn (the window's, for a long timeline; the
        timeline's otherwise) and the step note above it are in view with a little
        context around it; when it is not, centre it (a playing playhead turns half pages).
        """
        layout = self.sequence_layout()
        bar = self.verticalScrollBar()
        top = layout.row_top(index)
        if index in layout.boundary_rows:
            top -= layout.note
        bottom = layout.row_top(index) + layout.row
        shown_top = bar.value() + layout.header
        shown_bottom = bar.value() + self.viewport().height()
        margin = min(layout.row, (shown_bottom - shown_top - (bottom - top)) / 4)
        if top - margin >= shown_top and bottom + margin <= shown_bottom:
            return
        centre = (top + bottom) / 2 - (layout.header + self.viewport().height()) / 2
        # Start the view on a whole row or note, so no label is cut under the header.
        first = layout.index_near(centre + layout.header)
        start = layout.row_top(first)
        if first in layout.boundary_rows:
            start -= layout.note
        if start < centre + layout.header - layout.row / 2:
            start = layout.row_top(first) + layout.row  # mostly hidden: begin below it
        bar.setValue(round(start - layout.header))

    def arrow_rect(self, index: int) -> QRect:
        """Arrow `index`'s row in viewport coordinates (for tests and tooltips)."""
        layout = self.sequence_layout()
        top = layout.row_top(index - self._offset) - self.verticalScrollBar().value()
        left = -self.horizontalScrollBar().value()
        return QRectF(left, top, layout.width, layout.row).toAlignedRect()

    def index_at(self, point: QPoint) -> int | None:
        """The arrow under a viewport point, or None (header, note, empty space)."""
        layout = self.sequence_layout()
        if point.y() < layout.header:
            return None
        local = layout.index_at(point.y() + self.verticalScrollBar().value())
        return None if local is None else local + self._offset

    # -- zoom and export -------------------------------------------------------------------

    def set_scale(self, factor: float) -> None:
        self.scale = factor
        self._invalidate()
        self._follow(scroll=True)

    def render_to_image(self, scale: float = 2.0, width: float | None = None) -> QImage:
        """The diagram at `scale`, in this view's colours: every row, or of a long
        timeline the window drawn (see `drawn`)."""
        from .render import sequence_image

        return sequence_image(self._messages, scale, width, self._theme, self._current)

    # -- Qt events -------------------------------------------------------------------------

    def _update_scroll_range(self) -> None:
        layout = self.sequence_layout()
        viewport = self.viewport()
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, round(layout.height) - viewport.height()))
        bar.setPageStep(viewport.height())
        bar.setSingleStep(round(layout.row))
        across = self.horizontalScrollBar()
        across.setRange(0, max(0, round(layout.width) - viewport.width()))
        across.setPageStep(viewport.width())

    def _window_at(self, index: int) -> None:
        """Draw the window of the long timeline around message `index`."""
        assert self._source is not None
        self._offset = max(0, min(index - WINDOW // 2, len(self._source) - WINDOW))
        self._messages = list(self._source[self._offset : self._offset + WINDOW])
        self._invalidate()

    def _on_screen(self) -> bool:
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def _follow(self, scroll: bool) -> None:
        """Size the scroll range to the layout (and with `scroll`, bring the current arrow
        into view) now if the view is on screen, else when it is next painted: behind the
        Log tab, laying out a long trace opened or recorded meanwhile would cost seconds
        for nothing."""
        if not self._on_screen():
            self._pending = True
            self._pending_scroll = self._pending_scroll or scroll
            return
        self._update_scroll_range()
        if scroll and self._current >= 0:
            self.ensure_visible(self._current)

    def _catch_up(self) -> None:
        """What `_follow` left for the view's next paint."""
        if not self._pending:
            return
        self._pending = False
        if self._wanted is not None:  # the playhead left the window while out of sight
            index, self._wanted = self._wanted, None
            self._window_at(index)
            self._current = index - self._offset
        self._update_scroll_range()
        if self._pending_scroll and self._current >= 0:
            self.ensure_visible(self._current)
        self._pending_scroll = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._follow(scroll=False)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        self._catch_up()
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        theme = self._theme
        painter.fillRect(event.rect(), theme.background)
        layout = self.sequence_layout()
        if not layout.count:
            paint_empty(painter, QRectF(self.viewport().rect()), theme, self.scale)
            self.painted = range(0)
            painter.end()
            return
        offset = self.verticalScrollBar().value()
        painter.translate(-self.horizontalScrollBar().value(), -offset)
        top = offset + max(event.rect().top(), int(layout.header))
        bottom = offset + event.rect().bottom()
        drawn = paint_rows(painter, layout, self.diagram, theme, top, bottom, self._current)
        self.painted = range(drawn.start + self._offset, drawn.stop + self._offset)
        paint_header(painter, layout, theme, offset)  # drawn last: it stays on top
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.index_at(event.position().toPoint())
            if index is not None:
                self.arrow_activated.emit(index)
                event.accept()
                return
        super().mousePressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.index_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                message = self._messages[index - self._offset]
                text = f"#{message.seq} step {message.step}: {message.title}\n{message.summary}"
                QToolTip.showText(event.globalPos(), text, self.viewport())
            return True
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._theme = Theme.from_palette(self.palette())
            self.viewport().update()
        super().changeEvent(event)
