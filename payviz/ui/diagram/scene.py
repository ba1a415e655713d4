"""The diagram scene: the topology laid out as cards and links, with one travelling token.

The scene mirrors the topology's tables (`PARTY_INFO`, `LINK_INFO`) with dicts, party ->
`NodeItem` and link -> `LinkItem` (as orange-canvas-core mirrors its workflow model);
`show_message` puts one message of the trace on stage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

from payviz.diagrams.node_state import NodeState, idle_states, token_style, token_text
from payviz.diagrams.topology import LINK_INFO, PARTY_INFO, active_in, link_key
from payviz.engine._types import MODES, PARTIES, Party

from .items import LinkItem, NodeItem, TokenItem, label_lines, label_size
from .layout import ARC_RISE, GAP, MARGIN, SUBTITLE_LINES, banner_height, lay_out
from .painting import SUBTITLE_PT, TITLE_PT, TOKEN_HEIGHT, Theme, font, token_size
from .text import fit_lines

if TYPE_CHECKING:
    from payviz.engine.trace import Message

_END_GAP = 2.5  # between a card's edge and the end of a link
_ARC_DEPTH = 52.0  # the control points of an arc under the row: deep enough for its label
_CORNER = 44.0  # the radius of the redirect's turn down onto the processor
_LABEL_GAP = 3.0  # between a token passing on a link and the link's label
_DIMMED = 0.32
FLOW_NAMES = {"direct": "Direct checkout", "redirect": "Hosted checkout (redirect)"}


def _edge_point(card: QRectF, toward: QPointF) -> QPointF:
    """Where the line from a card's centre toward a point leaves the card (plus a gap)."""
    centre = card.center()
    dx, dy = toward.x() - centre.x(), toward.y() - centre.y()
    half_w, half_h = card.width() / 2 + _END_GAP, card.height() / 2 + _END_GAP
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return QPointF(centre.x() + dx * scale, centre.y() + dy * scale)


def _inset(path: QPainterPath, percent: float, text: str) -> float:
    """How far from an end of `path` the token's centre is when its pill just meets the end."""
    size = token_size(text)
    angle = math.radians(path.angleAtPercent(percent))
    dx, dy = abs(math.cos(angle)), abs(math.sin(angle))
    half_w, half_h = size.width() / 2, size.height() / 2
    return min(half_w / dx if dx > 1e-6 else math.inf, half_h / dy if dy > 1e-6 else math.inf)


class BannerItem(QGraphicsObject):
    """The step banner: "Step N · Title" and, under it, a line or two about the message.

    Attributes:
        title: the big line; subtitle: the smaller text under it.
        width: the banner's width; its position is its top-left corner.
    """

    def __init__(self, width: float, theme: Theme, height: float | None = None) -> None:
        super().__init__()
        self.width = width
        self.height = height if height is not None else banner_height()
        self.theme = theme
        self.title = ""
        self.subtitle = ""
        self.failed = False
        self.setZValue(3)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_text(self, title: str, subtitle: str, failed: bool = False) -> None:
        self.title, self.subtitle, self.failed = title, subtitle, failed
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def subtitle_lines(self) -> list[str]:
        """The subtitle as painted: broken at its " · " separators, elided if still too long."""
        metrics = QFontMetricsF(font(SUBTITLE_PT))
        return fit_lines([self.subtitle], metrics, self.width, SUBTITLE_LINES, "  ·  ")

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.width, self.height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        title_font = font(TITLE_PT, bold=True)
        metrics = QFontMetricsF(title_font)
        painter.setFont(title_font)
        painter.setPen(self.theme.text)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, self.width)
        painter.drawText(QRectF(0, 0, self.width, metrics.lineSpacing()), centre, title)
        painter.setFont(font(SUBTITLE_PT))
        painter.setPen(self.theme.error if self.failed else self.theme.muted)
        line = QFontMetricsF(painter.font()).lineSpacing()
        # Long summaries (a redirect's signed URL) lose their tail, never who sent what.
        for index, text in enumerate(self.subtitle_lines()):
            top = metrics.lineSpacing() + 2 + index * line
            painter.drawText(QRectF(0, top, self.width, line), centre, text)


class DiagramScene(QGraphicsScene):
    """The five parties as cards, their links, a step banner and the token in flight.

    Signals:
        token_arrived(int): the seq of the message whose token reached its destination.

    Attributes:
        nodes: party -> NodeItem; links: (party, party) in `PARTIES` order -> LinkItem.
        token: the single TokenItem; banner: the BannerItem at the top.
        layout: where the cards and the banner stand (see `layout.lay_out`).
        theme: the colours in use, from the palette given to `apply_palette`.
    """

    token_arrived = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.theme = Theme.from_palette(QPalette())
        self.nodes: dict[Party, NodeItem] = {}
        self.links: dict[tuple[Party, Party], LinkItem] = {}
        self.mode: str | None = None
        self.layout = lay_out(PARTY_INFO)
        idle = idle_states()
        for party, info in PARTY_INFO.items():
            card = self.layout.cards[party]
            lines = self.layout.caption_lines[party]
            node = NodeItem(info, self.theme, idle[party], card.size(), lines)
            node.setPos(card.center())
            self.addItem(node)
            self.nodes[party] = node
        # Links are stacked party by party, from the browser outward.
        for key in sorted(LINK_INFO, key=lambda pair: PARTIES.index(pair[0])):
            link_info = LINK_INFO[key]
            path, label_at, label_width = self._route(key, link_info.route, link_info.label)
            link = LinkItem(link_info, path, label_at, self.theme, label_width)
            self.addItem(link)
            self.links[key] = link
        self.token = TokenItem(self.theme)
        self.token.arrived.connect(self._on_token_arrived)
        self.addItem(self.token)
        place = self.layout.banner
        self.banner = BannerItem(place.width(), self.theme, place.height())
        self.banner.setPos(place.topLeft())
        self.addItem(self.banner)
        self.setSceneRect(self._content_rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
        self.show_idle()

    # -- layout ----------------------------------------------------------------------------

    def _content_rect(self) -> QRectF:
        """Cards, links with their labels, and the banner: all that must be seen."""
        rect = self.layout.banner
        for card in self.layout.cards.values():
            rect = rect.united(card)
        for link in self.links.values():
            rect = rect.united(link.label_rect()).united(link.path.boundingRect())
            if link.info.route == "under":  # a token at the bottom of the arc
                bottom = link.path.boundingRect().bottom() + TOKEN_HEIGHT / 2
                rect.setBottom(max(rect.bottom(), bottom))
        return rect

    def _route(
        self, key: tuple[Party, Party], route: str, label: str
    ) -> tuple[QPainterPath, QPointF, float]:
        """The path of a link from key[0] to key[1], where its label sits, and its width."""
        a, b = self.layout.cards[key[0]], self.layout.cards[key[1]]
        clear = TOKEN_HEIGHT / 2 + _LABEL_GAP  # from a link to its label: a token passes
        path = QPainterPath()
        if route == "over":  # leave a's right side under the banner, turn down onto b's top
            start = QPointF(a.right() + _END_GAP, a.bottom() - ARC_RISE)
            end = QPointF(b.center().x(), b.top() - _END_GAP)
            radius = min(_CORNER, end.y() - start.y(), end.x() - start.x())
            path.moveTo(start)
            path.lineTo(end.x() - radius, start.y())
            path.quadTo(QPointF(end.x(), start.y()), QPointF(end.x(), start.y() + radius))
            path.lineTo(end)
            size = label_size(label_lines(label))
            x = (start.x() + end.x() - radius) / 2
            return path, QPointF(x, start.y() + clear + size.height() / 2), math.inf
        if route == "under":  # leave a's bottom, arrive on b's bottom, arching under the row
            start = QPointF(a.center().x(), a.bottom() + _END_GAP)
            end = QPointF(b.center().x(), b.bottom() + _END_GAP)
            path.moveTo(start)
            path.cubicTo(start + QPointF(0, _ARC_DEPTH), end + QPointF(0, _ARC_DEPTH), end)
            # The label rides in the arc's bowl, under the card it bypasses.
            mid = path.pointAtPercent(0.5)
            size = label_size(label_lines(label))
            return path, QPointF(mid.x(), mid.y() - clear - size.height() / 2), math.inf
        start, end = _edge_point(a, b.center()), _edge_point(b, a.center())
        path.moveTo(start)
        path.lineTo(end)
        mid = (start + end) / 2
        if abs(end.x() - start.x()) >= abs(end.y() - start.y()):
            # Above the line, between the two cards: as wide as the gap allows.
            size = label_size(label_lines(label, GAP))
            return path, QPointF(mid.x(), mid.y() - clear - size.height() / 2), GAP
        size = label_size(label_lines(label))
        offset = size.width() / 2 + token_size("POST").width() / 2 + _LABEL_GAP
        return path, QPointF(mid.x() + offset, mid.y()), math.inf

    def path_between(self, src: Party, dst: Party) -> QPainterPath:
        """The path a token takes from src to dst: along their link, else straight across."""
        link = self.links.get(link_key(src, dst))
        if link is not None:
            return link.path_from(src)
        a, b = self.layout.cards[src], self.layout.cards[dst]
        path = QPainterPath(_edge_point(a, b.center()))
        path.lineTo(_edge_point(b, a.center()))
        return path

    # -- what is shown ---------------------------------------------------------------------

    def apply_palette(self, palette: QPalette) -> None:
        """Take colours from a palette (the view passes the application's on every change)."""
        self.theme = Theme.from_palette(palette)
        self.setBackgroundBrush(self.theme.background)
        items: list[NodeItem | LinkItem | TokenItem | BannerItem] = [self.token, self.banner]
        items += [*self.nodes.values(), *self.links.values()]
        for item in items:
            item.set_theme(self.theme)

    def set_animations_enabled(self, enabled: bool) -> None:
        self.token.animated = enabled

    def show_states(self, states: Mapping[Party, NodeState]) -> None:
        for party, state in states.items():
            if party in self.nodes:
                self.nodes[party].set_state(state)

    def show_idle(self, title: str = "Ready", subtitle: str = "Run a checkout to see it.") -> None:
        """Nothing on stage: no token, no highlight, every party at full strength."""
        self.token.hide_token()
        self._set_mode(None)
        for node in self.nodes.values():
            node.set_highlighted(False)
        for link in self.links.values():
            link.set_style(None)
        self.show_states(idle_states())
        self.banner.set_text(title, subtitle)

    def show_message(self, message: Message, duration_ms: int) -> None:
        """Put one message on stage; its token travels for `duration_ms` (0: arrives at once)."""
        style = token_style(message)
        self._set_mode(message.mode)
        active = link_key(message.src, message.dst)
        for key, link in self.links.items():
            link.set_style(style if key == active else None)
        for party, node in self.nodes.items():
            node.set_highlighted(party in (message.src, message.dst))
        self.banner.set_text(*banner_text(message), failed=style.glyph == "cross")
        path, text = self.path_between(message.src, message.dst), token_text(message)
        # The token starts hidden under the sender's card and stops against the receiver's
        # (a pixel short of its edge), so it visibly leaves one and arrives at the other,
        # even where two cards stand only a token's length apart.
        end = path.length() - _inset(path, 1.0, text) + _END_GAP - 1
        span = (-_inset(path, 0.0, text) - 1, max(0.0, end))
        self.token.travel(message.seq, path, span, style, text, duration_ms)

    def _set_mode(self, mode: str | None) -> None:
        """Dim the parties and links a flow does not use (the gateway in a hosted checkout)."""
        self.mode = mode
        for party, node in self.nodes.items():
            node.setOpacity(1.0 if mode is None or active_in(mode, party=party) else _DIMMED)
        for key, link in self.links.items():
            link.setOpacity(1.0 if mode is None or active_in(mode, link=key) else _DIMMED)

    def _on_token_arrived(self, seq: int) -> None:
        self.token_arrived.emit(seq)


def banner_text(message: Message) -> tuple[str, str]:
    """The banner's two lines for a message: "Step N · Title" and what travels where."""
    from payviz.engine.steps import STEPS, step_info

    title = message.title
    total = 0
    for mode in MODES:
        if message.mode == mode and 1 <= message.step <= len(STEPS[mode]):
            title, total = step_info(mode, message.step).title, len(STEPS[mode])
    flow = FLOW_NAMES.get(message.mode, message.mode)
    where = f"{flow}, step {message.step} of {total}" if total else flow
    src, dst = PARTY_INFO[message.src].label, PARTY_INFO[message.dst].label
    return (
        f"Step {message.step} · {title}",
        f"{where}  ·  #{message.seq}  {src} → {dst}  ·  {message.summary}",
    )
