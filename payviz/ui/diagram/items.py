"""The graphics items of the diagram: party cards, links, the travelling token, the banner.

Items draw themselves from a `Theme` (see `painting`) and own their animations; the scene
decides what they show.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from payviz.diagrams.node_state import NodeState, TokenStyle
from payviz.diagrams.topology import LinkInfo, PartyInfo

from .painting import (
    NAME_PT,
    TEXT_PT,
    TOKEN_HEIGHT,
    Theme,
    font,
    line_pen,
    paint_icon,
    paint_token,
    token_size,
)
from .text import fit_lines, wrap_label

CARD_WIDTH = 149.0  # four in a row, with a token's length between two, in 850 pixels
PAD = 8.0  # inside a card, around its text
_ICON = 26.0
_ICON_GAP = 6.0  # between the icon's disc and the party's name
_ROLE_GAP = 3.0  # between the icon row and the role
_CAPTION_GAP = 6.0  # between the role and the caption
_HALO = 5.0  # how far a highlighted card's halo reaches beyond it
_LABEL_MARGIN = 3.0  # around a link label's text


def card_height(caption_lines: int) -> float:
    """The height of a card that shows up to `caption_lines` lines of caption."""
    line = QFontMetricsF(font(TEXT_PT)).lineSpacing()
    return PAD + _ICON + _ROLE_GAP + line + _CAPTION_GAP + caption_lines * line + PAD


class NodeItem(QGraphicsObject):
    """A party as a rounded card: icon and name, role, and a live caption under them.

    Attributes:
        party: the party this card stands for.
        info: its topology record (name, colour, icon).
        state: the caption shown, a `NodeState`.
        size: the card's size in scene units; its position is its centre.
        caption_lines: how many lines the caption may take (wrapped, then elided).
        highlighted: whether the current message arrives at or leaves this card.
    """

    def __init__(
        self,
        info: PartyInfo,
        theme: Theme,
        state: NodeState,
        size: QSizeF | None = None,
        caption_lines: int = 4,
    ) -> None:
        super().__init__()
        self.party = info.party
        self.info = info
        self.theme = theme
        self.state = state
        self.caption_lines = caption_lines
        self.size = size if size is not None else QSizeF(CARD_WIDTH, card_height(caption_lines))
        self.highlighted = False
        self.setZValue(2)
        # Cards change only when the playhead moves: cache them so a token's flight
        # repaints a pixmap, not the card.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setToolTip(f"{info.label}: {info.role}")

    def caption_text(self) -> str:
        return self.state.caption

    def caption_font(self, bold: bool = False) -> QFont:
        return font(TEXT_PT, bold=bold)

    def caption_lines_shown(self) -> list[str]:
        """The caption as painted: wrapped to the card, at most `caption_lines` lines."""
        return [line.text for line in self.caption_layout()]

    def card_rect(self) -> QRectF:
        w, h = self.size.width(), self.size.height()
        return QRectF(-w / 2, -h / 2, w, h)

    def boundingRect(self) -> QRectF:
        margin = _HALO + 1
        return self.card_rect().adjusted(-margin, -margin, margin, margin)

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
            halo.setAlphaF(0.40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(rect.adjusted(-_HALO, -_HALO, _HALO, _HALO), 14, 14)
        painter.setBrush(theme.card)
        # Okabe-Ito blue on a dark card is lightened until it shows (same hue, same meaning).
        border = theme.ink(colour) if self.highlighted else theme.border
        painter.setPen(QPen(border, 3.0 if self.highlighted else 1.2))
        painter.drawRoundedRect(rect, 10, 10)
        # A party-coloured disc behind the icon: identity by colour, icon and name at once.
        disc = QRectF(rect.left() + PAD, rect.top() + PAD, _ICON, _ICON)
        tint = QColor(colour)
        tint.setAlphaF(0.30 if theme.dark else 0.22)
        painter.setPen(QPen(colour, 1.5))
        painter.setBrush(tint)
        painter.drawEllipse(disc)
        paint_icon(painter, self.info.icon, disc.adjusted(4.5, 4.5, -4.5, -4.5), theme.text)
        painter.setPen(theme.text)
        name_font = font(NAME_PT, bold=True)
        painter.setFont(name_font)
        name_left = disc.right() + _ICON_GAP
        name = QRectF(name_left, disc.top(), rect.right() - PAD - name_left, _ICON)
        label = QFontMetricsF(name_font).elidedText(
            self.info.label, Qt.TextElideMode.ElideRight, name.width()
        )
        painter.drawText(name, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        text_width = rect.width() - 2 * PAD
        metrics = QFontMetricsF(self.caption_font())
        painter.setPen(theme.muted)
        painter.setFont(self.caption_font())
        role = metrics.elidedText(self.info.role, Qt.TextElideMode.ElideRight, text_width)
        top = disc.bottom() + _ROLE_GAP
        painter.drawText(QPointF(rect.left() + PAD, top + metrics.ascent()), role)
        self._paint_caption(painter, QPointF(rect.left() + PAD, top + metrics.lineSpacing()))

    def caption_layout(self) -> list[CaptionLine]:
        """Each painted line of the caption: its text, font, colour and indent."""
        theme, state, width = self.theme, self.state, self.size.width() - 2 * PAD
        # The last line of a good or bad state gets a mark before it, in its own colour:
        # status must not rest on colour alone.
        marked = state.tone in ("good", "bad")
        plain, bold = self.caption_font(), self.caption_font(bold=marked)
        mark = ("✓ " if state.tone == "good" else "✕ ") if marked else ""
        indent = QFontMetricsF(bold).horizontalAdvance(mark)
        # The last line (the status) keeps the lines it needs; the ones before it share
        # what is left, and each part is elided if it must be cut.
        last, budget = state.lines[-1:], self.caption_lines
        tail_metrics = QFontMetricsF(bold)
        wanted = len(fit_lines(last, tail_metrics, width - indent, budget))
        head = fit_lines(state.lines[:-1], QFontMetricsF(plain), width, max(1, budget - wanted))
        tail = fit_lines(last, tail_metrics, width - indent, max(1, budget - len(head)))
        ink = theme.muted if state.tone == "idle" else theme.text
        tail_ink = theme.error if state.tone == "bad" else ink
        lines = [CaptionLine(text, plain, ink) for text in head]
        lines += [CaptionLine(text, bold, tail_ink, indent) for text in tail]
        if marked and tail:
            lines[len(head)] = lines[len(head)]._replace(mark=mark)
        return lines

    def _paint_caption(self, painter: QPainter, origin: QPointF) -> None:
        metrics = QFontMetricsF(self.caption_font())
        mark_ink = self.theme.good if self.state.tone == "good" else self.theme.error
        top = origin.y() + _CAPTION_GAP + metrics.ascent()
        for index, line in enumerate(self.caption_layout()):
            baseline = QPointF(origin.x(), top + index * metrics.lineSpacing())
            painter.setFont(line.font)
            if line.mark:
                painter.setPen(mark_ink)
                painter.drawText(baseline, line.mark)
            painter.setPen(line.ink)
            painter.drawText(baseline + QPointF(line.indent, 0), line.text)


class CaptionLine(NamedTuple):
    """One painted line of a card's caption.

    Attributes:
        text: the words; font and ink: how they are drawn; indent: from the text's left
            edge (the width of a status mark); mark: "✓ " or "✕ " drawn in the indent.
    """

    text: str
    font: QFont
    ink: QColor
    indent: float = 0.0
    mark: str = ""


def label_lines(label: str, width: float = math.inf) -> list[str]:
    """A link label in lines no wider than `width` (less the label's own margins)."""
    return wrap_label(label, QFontMetricsF(font(TEXT_PT)), width - 2 * _LABEL_MARGIN)


def label_size(lines: list[str]) -> QSizeF:
    """The box a link label takes, its margins included."""
    metrics = QFontMetricsF(font(TEXT_PT))
    width = max((metrics.horizontalAdvance(line) for line in lines), default=0.0)
    height = metrics.lineSpacing() * len(lines)
    return QSizeF(width + 2 * _LABEL_MARGIN, height + 4)


class LinkItem(QGraphicsObject):
    """A link between two cards: a smooth line with a protocol label.

    Attributes:
        key: the two parties, in `PARTIES` order; `path` runs from key[0] to key[1].
        info: its topology record.
        style: the look of the message on it now, or None when it is idle.
    """

    def __init__(
        self,
        info: LinkInfo,
        path: QPainterPath,
        label_at: QPointF,
        theme: Theme,
        label_width: float = math.inf,
    ) -> None:
        super().__init__()
        self.key = info.key
        self.info = info
        self.path = path
        self.label_at = label_at
        self.label_lines = label_lines(info.label, label_width)
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

    def label_rect(self) -> QRectF:
        size = label_size(self.label_lines)
        return QRectF(
            self.label_at.x() - size.width() / 2,
            self.label_at.y() - size.height() / 2,
            size.width(),
            size.height(),
        )

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().adjusted(-6, -6, 6, 6).united(self.label_rect())

    def shape(self) -> QPainterPath:
        outline = QPainterPath(self.path)
        outline.addRect(self.label_rect())
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
        painter.setFont(font(TEXT_PT))
        painter.setPen(self.theme.text if self.style else self.theme.muted)
        painter.drawText(
            self.label_rect(), Qt.AlignmentFlag.AlignCenter, "\n".join(self.label_lines)
        )


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
