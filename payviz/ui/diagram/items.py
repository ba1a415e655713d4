"""The graphics items of the diagram: party cards, links, the travelling token, the banner.

Items draw themselves from a `Theme` (see `painting`) and own their animations; the scene
decides what they show.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from payviz.diagrams.node_state import NodeState, TokenStyle
from payviz.diagrams.topology import LinkInfo, PartyInfo

from .painting import TOKEN_HEIGHT, Theme, font, line_pen, paint_icon, paint_token, token_size

CARD_SIZE = QSizeF(236, 138)
_PAD = 14.0
_ICON = 44.0
_CAPTION_LINES = 3


def _fit_lines(lines: tuple[str, ...], metrics: QFontMetricsF, width: float) -> list[str]:
    """Lines that fit `width`, long ones word-wrapped, at most `_CAPTION_LINES` (elided)."""
    fitted: list[str] = []
    for line in lines:
        words = line.split(" ")
        while words:
            current = words.pop(0)
            while words and metrics.horizontalAdvance(f"{current} {words[0]}") <= width:
                current = f"{current} {words.pop(0)}"
            fitted.append(current)
    if len(fitted) > _CAPTION_LINES:
        fitted[_CAPTION_LINES - 1] = " ".join(fitted[_CAPTION_LINES - 1 :]) + " "
    return [
        metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
        for line in fitted[:_CAPTION_LINES]
    ]


class NodeItem(QGraphicsObject):
    """A party as a rounded card: icon, name, role and a live caption.

    Attributes:
        party: the party this card stands for.
        info: its topology record (name, colour, icon).
        state: the caption shown, a `NodeState`.
        highlighted: whether the current message arrives at or leaves this card.
    """

    def __init__(self, info: PartyInfo, theme: Theme, state: NodeState) -> None:
        super().__init__()
        self.party = info.party
        self.info = info
        self.theme = theme
        self.state = state
        self.highlighted = False
        self.setZValue(2)
        # Cards change only when the playhead moves: cache them so a token's flight
        # repaints a pixmap, not the card.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setToolTip(f"{info.label}: {info.role}")

    def caption_text(self) -> str:
        return self.state.caption

    def card_rect(self) -> QRectF:
        return QRectF(-CARD_SIZE.width() / 2, -CARD_SIZE.height() / 2, *CARD_SIZE.toTuple())

    def boundingRect(self) -> QRectF:
        return self.card_rect().adjusted(-8, -8, 8, 8)

    def set_state(self, state: NodeState) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_highlighted(self, highlighted: bool) -> None:
        if highlighted != self.highlighted:
            self.highlighted = highlighted
            self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        theme, rect, colour = self.theme, self.card_rect(), QColor(self.info.colour)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.highlighted:
            halo = QColor(colour)
            halo.setAlphaF(0.35)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(rect.adjusted(-7, -7, 7, 7), 18, 18)
        painter.setBrush(theme.card)
        border = colour if self.highlighted else theme.border
        painter.setPen(QPen(border, 2.5 if self.highlighted else 1.2))
        painter.drawRoundedRect(rect, 12, 12)
        # A party-coloured disc behind the icon: identity by colour, icon and name at once.
        disc = QRectF(rect.left() + _PAD, rect.top() + _PAD, _ICON, _ICON)
        tint = QColor(colour)
        tint.setAlphaF(0.30 if theme.dark else 0.22)
        painter.setPen(QPen(colour, 1.5))
        painter.setBrush(tint)
        painter.drawEllipse(disc)
        paint_icon(painter, self.info.icon, disc.adjusted(8, 8, -8, -8), theme.text)
        text_left = disc.right() + 10
        text_width = rect.right() - _PAD - text_left
        painter.setPen(theme.text)
        painter.setFont(font(13, bold=True))
        name = QRectF(text_left, disc.top() - 2, text_width, _ICON / 2 + 2)
        painter.drawText(
            name, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self.info.label
        )
        painter.setPen(theme.muted)
        painter.setFont(font(11))
        role = QRectF(text_left, disc.center().y() + 1, text_width, _ICON / 2)
        painter.drawText(
            role, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.info.role
        )
        self._paint_caption(
            painter, QRectF(rect.left() + _PAD, disc.bottom() + 10, rect.width() - 2 * _PAD, 44)
        )

    def _paint_caption(self, painter: QPainter, area: QRectF) -> None:
        theme, state = self.theme, self.state
        caption_font = font(11)
        metrics = QFontMetricsF(caption_font)
        # The last line of a good or bad state gets a mark before it, in its own colour:
        # status must not rest on colour alone.
        marked = state.tone in ("good", "bad")
        mark = "✓ " if state.tone == "good" else "✕ "
        mark_width = QFontMetricsF(font(11, bold=True)).horizontalAdvance(mark) if marked else 0
        head = _fit_lines(state.lines[:-1], metrics, area.width())
        caption_font.setBold(marked)
        tail = _fit_lines(state.lines[-1:], QFontMetricsF(caption_font), area.width() - mark_width)
        step = metrics.lineSpacing() + 1
        for index, line in enumerate((head + tail)[:_CAPTION_LINES]):
            in_tail = index >= len(head)
            baseline = QPointF(area.left(), area.top() + metrics.ascent() + index * step)
            painter.setFont(font(11, bold=marked and in_tail))
            if marked and in_tail:
                if index == len(head):
                    painter.setPen(theme.good if state.tone == "good" else theme.error)
                    painter.drawText(baseline, mark)
                baseline.setX(baseline.x() + mark_width)
            painter.setPen(
                theme.error
                if state.tone == "bad" and in_tail
                else theme.muted
                if state.tone == "idle"
                else theme.text
            )
            painter.drawText(baseline, line)


class LinkItem(QGraphicsObject):
    """A link between two cards: a smooth line with a protocol label.

    Attributes:
        key: the two parties, in `PARTIES` order; `path` runs from key[0] to key[1].
        info: its topology record.
        style: the look of the message on it now, or None when it is idle.
    """

    def __init__(self, info: LinkInfo, path: QPainterPath, label_at: QPointF, theme: Theme) -> None:
        super().__init__()
        self.key = info.key
        self.info = info
        self.path = path
        self.label_at = label_at
        self.theme = theme
        self.style: TokenStyle | None = None
        self.setZValue(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    @property
    def highlighted(self) -> bool:
        return self.style is not None

    def path_from(self, party: str) -> QPainterPath:
        """The link's path oriented from `party` to the other end."""
        return self.path if party == self.key[0] else self.path.toReversed()

    def set_style(self, style: TokenStyle | None) -> None:
        if style != self.style:
            self.style = style
            self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def _label_rect(self) -> QRectF:
        metrics = QFontMetricsF(font(11))
        width = metrics.horizontalAdvance(self.info.label) + 12
        height = metrics.height() + 4
        return QRectF(self.label_at.x() - width / 2, self.label_at.y() - height / 2, width, height)

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().adjusted(-6, -6, 6, 6).united(self._label_rect())

    def shape(self) -> QPainterPath:
        outline = QPainterPath(self.path)
        outline.addRect(self._label_rect())
        return outline

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.style is None:
            painter.setPen(line_pen(self.theme.link, 2.0, self.info.line))
        else:
            # The message's own line wins; a plain message keeps the link's (a redirect hop).
            line = self.style.line if self.style.line != "solid" else self.info.line
            painter.setPen(line_pen(self.theme.ink(QColor(self.style.colour)), 4.5, line))
        painter.drawPath(self.path)
        painter.setFont(font(11))
        painter.setPen(self.theme.text if self.style else self.theme.muted)
        painter.drawText(self._label_rect(), Qt.AlignmentFlag.AlignCenter, self.info.label)


class TokenItem(QGraphicsObject):
    """The message in flight: a pill that travels along a path, owning its animation.

    Signals:
        arrived(int): the seq of the message, when the token reaches its destination
            (at once when animation is off).

    Attributes:
        seq: the message shown, or None when the token is hidden.
        style: its `TokenStyle`; text: the few characters it carries.
        animated: whether `travel` animates (off in tests and exports).
    """

    arrived = Signal(int)

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme
        self.seq: int | None = None
        self.style: TokenStyle | None = None
        self.text = ""
        self.animated = True
        self._path = QPainterPath()
        self._span = (0.0, 0.0)
        self._heading = 0.0
        self._size = QSizeF(TOKEN_HEIGHT, TOKEN_HEIGHT)
        self._animation = QVariantAnimation(self)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(1.0)
        self._animation.valueChanged.connect(self._on_progress_changed)
        self._animation.finished.connect(self._on_animation_finished)
        self.setZValue(1)
        self.setVisible(False)

    @property
    def running(self) -> bool:
        return self._animation.state() == QVariantAnimation.State.Running

    def travel(
        self,
        seq: int,
        path: QPainterPath,
        span: tuple[float, float],
        style: TokenStyle,
        text: str,
        duration_ms: int,
    ) -> None:
        """Send the token along `path` between two lengths (`span`), then emit `arrived`."""
        self._animation.stop()
        self.prepareGeometryChange()
        self.seq, self.style, self.text = seq, style, text
        self._path, self._span, self._size = path, span, token_size(text)
        self.setVisible(True)
        if not self.animated or duration_ms <= 0:
            self._on_progress_changed(1.0)
            self.arrived.emit(seq)
            return
        self._on_progress_changed(0.0)
        self._animation.setDuration(duration_ms)
        self._animation.start()

    def hide_token(self) -> None:
        self._animation.stop()
        self.seq = None
        self.setVisible(False)

    def finish(self) -> None:
        """Jump to the end of a running journey (emits `arrived`)."""
        if self.running:
            self._animation.setCurrentTime(self._animation.duration())

    def _on_progress_changed(self, value: float) -> None:
        start, end = self._span
        length = start + (end - start) * value
        percent = self._path.percentAtLength(max(length, 0.0))
        self._heading = self._path.angleAtPercent(percent)
        point = self._path.pointAtPercent(percent)
        if length < 0:  # still under the sender's card: continue the path's first tangent
            angle = math.radians(self._heading)
            point += QPointF(math.cos(angle), -math.sin(angle)) * length
        self.setPos(point)
        self.update()

    def _on_animation_finished(self) -> None:
        if self.seq is not None:
            self.arrived.emit(self.seq)

    def boundingRect(self) -> QRectF:
        w, h = self._size.width(), self._size.height()
        return QRectF(-w / 2 - 2, -h / 2 - 2, w + 4, h + 4)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.style is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self._size.width(), self._size.height()
        rect = QRectF(-w / 2, -h / 2, w, h)
        paint_token(painter, rect, self.style, self.text, self.theme, self._heading)
