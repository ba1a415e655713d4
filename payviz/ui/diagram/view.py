"""The diagram view: follows the playhead over the trace, zooms, pans and exports images."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QSizePolicy, QWidget

from payviz.diagrams.node_state import TokenStyle, legend_styles, node_states

from .painting import Theme, font, paint_token, token_size
from .scene import DiagramScene

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from payviz.engine.trace import Record

_ZOOM_STEP = 1.25
_ZOOM_RANGE = (0.2, 5.0)


class DiagramView(QGraphicsView):
    """The animated component diagram, following a playhead position in the trace.

    Signals:
        token_arrived(int): the seq given to `show_seq`, once its token has reached its
            destination (at once when animations are off or nothing travels).
        zoom_changed(float): the new scale, 1.0 being 100 %.

    Attributes:
        diagram_scene: the `DiagramScene` shown.
        current_seq: the playhead position last shown, or None.
        auto_fit: whether the view refits the diagram on resize (until the user zooms).
    """

    token_arrived = Signal(int)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diagram_scene = DiagramScene(self)
        self.setScene(self.diagram_scene)
        self.diagram_scene.token_arrived.connect(self._on_token_arrived)
        self.diagram_scene.apply_palette(self.palette())
        self._records: Sequence[Record] = ()
        self.current_seq: int | None = None
        self.auto_fit = True
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._show_scroll_bars(False)

    # -- the trace -------------------------------------------------------------------------

    def set_records(self, records: Sequence[Record]) -> None:
        """Follow this trace (kept by reference: it may grow; records are in seq order).

        Nothing is redrawn until the next `show_seq`.
        """
        self._records = records

    def show_seq(self, seq: int, animate: bool = True, duration_ms: int = 700) -> None:
        """Show the trace at `seq`: that message's token travels, captions show the state.

        A seq that is a state change shows the message before it, already arrived.
        """
        from payviz.engine.trace import Message

        self.current_seq = seq
        records = self._records
        index = bisect_right(records, seq, key=lambda record: record.seq) - 1
        while index >= 0 and not isinstance(records[index], Message):
            index -= 1
        states = node_states(records, seq)
        message = records[index] if index >= 0 else None
        if not isinstance(message, Message):
            self.diagram_scene.show_idle()
            self.diagram_scene.show_states(states)
            self.token_arrived.emit(seq)
            return
        self.diagram_scene.show_states(states)
        travels = animate and message.seq == seq
        self.diagram_scene.show_message(message, duration_ms if travels else 0)

    def clear(self) -> None:
        """Forget the trace and show the empty diagram."""
        self._records = ()
        self.current_seq = None
        self.diagram_scene.show_idle()

    def set_animations_enabled(self, enabled: bool) -> None:
        self.diagram_scene.set_animations_enabled(enabled)

    def banner_text(self) -> str:
        banner = self.diagram_scene.banner
        return f"{banner.title}\n{banner.subtitle}"

    def _on_token_arrived(self, seq: int) -> None:
        # Report the position asked for: a state change's seq shows the message before it.
        self.token_arrived.emit(seq if self.current_seq is None else self.current_seq)

    # -- zoom and pan ----------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, scale: float) -> None:
        scale = min(max(scale, _ZOOM_RANGE[0]), _ZOOM_RANGE[1])
        self.auto_fit = False
        self._show_scroll_bars(True)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.zoom_changed.emit(scale)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * _ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / _ZOOM_STEP)

    def reset_zoom(self) -> None:
        """Back to fitting the whole diagram in the view, refitting on every resize."""
        self.auto_fit = True
        self._show_scroll_bars(False)
        self._fit()

    def fit_scale(self) -> float:
        """The zoom at which the whole diagram just fits the viewport.

        The scene is laid out for the view's default share of the window, so at that size
        this is 100 % or more and text keeps its point size; a smaller view shrinks it all.
        """
        rect, port = self.diagram_scene.sceneRect(), self._port_size()
        return min(port.width() / rect.width(), port.height() / rect.height())

    def _port_size(self) -> QSize:
        """The viewport's size without scroll bars, which a fitted diagram never shows.

        Asked of the view rather than through `viewport()`: handing Python the viewport
        widget for the first time makes PySide6 load every QWidget class to type it, a
        cost paid before the window's first paint.
        """
        return self.maximumViewportSize()

    def _fit(self) -> None:
        port = self._port_size()
        if port.width() < 10 or port.height() < 10:
            return
        # Not fitInView: it keeps a margin of its own, which would shave the scale.
        scale = self.fit_scale()
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(self.diagram_scene.sceneRect().center())
        self.zoom_changed.emit(scale)

    def _show_scroll_bars(self, shown: bool) -> None:
        """Scroll bars only when zoomed by hand: a fitted diagram never needs them, and
        their coming and going would change the viewport it is fitted to."""
        policy = (
            Qt.ScrollBarPolicy.ScrollBarAsNeeded if shown else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.auto_fit:
            self._fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # A wheel notch is 120; trackpads may report only pixels.
            steps = (event.angleDelta().y() or event.pixelDelta().y() / 4) / 120
            if steps:
                self.set_zoom(self.zoom() * _ZOOM_STEP**steps)
            event.accept()
            return
        super().wheelEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.diagram_scene.apply_palette(self.palette())
        super().changeEvent(event)

    def sizeHint(self) -> QSize:
        """The diagram at 100 %: every text at its point size."""
        return self.diagram_scene.sceneRect().size().toSize()

    # -- export ----------------------------------------------------------------------------

    def render_to_image(self, scale: float = 1.0) -> QImage:
        """The whole diagram as it stands, at `scale` (2.0 for a crisp slide)."""
        from PySide6.QtGui import QImage

        source = self.diagram_scene.sceneRect()
        size = (source.size() * scale).toSize()
        image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(1.0)
        image.fill(self.diagram_scene.theme.background)
        painter = QPainter(image)
        painter.setRenderHints(self.renderHints())
        self.diagram_scene.render(painter, QRectF(image.rect()), source)
        painter.end()
        return image

    def legend_items(self) -> list[tuple[TokenStyle, str]]:
        return legend_items()


def legend_items() -> list[tuple[TokenStyle, str]]:
    """Every token look with its legend wording, in the legend's order."""
    return [(style, style.label) for style in legend_styles()]


# What a sample token in the legend carries, as the diagram would show it.
_SAMPLES = {
    "Request": "POST",
    "Response": "200",
    "Encrypted (JWE)": "POST",
    "ISO 8583 to the bank": "0100",
    "Redirect via the browser": "303",
    "Notification (async)": "POST",
    "Email to the customer": "email",
    "Error or decline": "402",
}


class LegendWidget(QWidget):
    """The legend of View -> Legend: one sample token per kind of message, with its name."""

    _ROW = 40

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items = legend_items()
        self.setMinimumSize(self.sizeHint())

    def sizeHint(self) -> QSize:
        return QSize(340, self._ROW * len(self._items) + 16)

    def paintEvent(self, event: QEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = Theme.from_palette(self.palette())
        pill = token_size("POST")
        for row, (style, label) in enumerate(self._items):
            top = 8 + row * self._ROW + (self._ROW - pill.height()) / 2
            sample = _SAMPLES.get(label, "")
            size = token_size(sample)
            paint_token(painter, QRectF(12, top, size.width(), size.height()), style, sample, theme)
            painter.setFont(font(11))
            painter.setPen(theme.text)
            text_rect = QRectF(
                24 + pill.width(), top, self.width() - pill.width() - 32, pill.height()
            )
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
            )
        painter.end()
