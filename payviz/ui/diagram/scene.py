"""The diagram scene: the topology laid out as cards and links, with one travelling token.

The scene mirrors the networkx topology with dicts, party -> `NodeItem` and link ->
`LinkItem` (as orange-canvas-core mirrors its workflow model); `show_message` puts one
message of the trace on stage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
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
from payviz.diagrams.topology import PARTY_INFO, active_in, build_topology, link_key
from payviz.engine._types import MODES, Party
from payviz.engine.steps import STEPS, step_info
from payviz.engine.trace import Message

from .items import CARD_SIZE, LinkItem, NodeItem, TokenItem
from .painting import Theme, font, token_size

COLUMN = 408.0  # centre to centre, leaves room for a token to travel between two cards
ROW = 276.0
BANNER_HEIGHT = 76.0
_TOP = BANNER_HEIGHT + 28 + CARD_SIZE.height() / 2
_GAP = 6.0  # between a card's edge and the end of a link
_ARC_DEPTH = 96.0
_LABEL_GAP = 22.0  # from a link to its label's edge: clear of a token passing by
_DIMMED = 0.32
FLOW_NAMES = {"direct": "Direct checkout", "redirect": "Hosted checkout (redirect)"}


def _edge_point(centre: QPointF, toward: QPointF) -> QPointF:
    """Where the line from a card's centre toward a point leaves the card (plus a gap)."""
    dx, dy = toward.x() - centre.x(), toward.y() - centre.y()
    half_w, half_h = CARD_SIZE.width() / 2 + _GAP, CARD_SIZE.height() / 2 + _GAP
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return QPointF(centre.x() + dx * scale, centre.y() + dy * scale)


def _inset(path: QPainterPath, percent: float, text: str) -> float:
    """How far the token's centre stays from an end so the pill stops outside the card."""
    size = token_size(text)
    angle = math.radians(path.angleAtPercent(percent))
    dx, dy = abs(math.cos(angle)), abs(math.sin(angle))
    half_w, half_h = size.width() / 2, size.height() / 2
    return min(half_w / dx if dx > 1e-6 else math.inf, half_h / dy if dy > 1e-6 else math.inf) + 3


class BannerItem(QGraphicsObject):
    """The step banner at the top: "Step N · Title" and a line about the message.

    Attributes:
        title: the big line; subtitle: the small line under it.
    """

    def __init__(self, width: float, theme: Theme) -> None:
        super().__init__()
        self.width = width
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

    def boundingRect(self) -> QRectF:
        return QRectF(-self.width / 2, 0, self.width, BANNER_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect()
        painter.setPen(self.theme.text)
        painter.setFont(font(18, bold=True))
        top = QRectF(rect.left(), rect.top(), rect.width(), 42)
        title = QFontMetricsF(painter.font()).elidedText(
            self.title, Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, title)
        painter.setFont(font(11.5))
        painter.setPen(self.theme.error if self.failed else self.theme.muted)
        bottom = QRectF(rect.left(), top.bottom() + 6, rect.width(), 24)
        # Long summaries (a redirect's signed URL) lose their tail, never who sent what.
        subtitle = QFontMetricsF(painter.font()).elidedText(
            self.subtitle, Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, subtitle
        )


class DiagramScene(QGraphicsScene):
    """The five parties as cards, their links, a step banner and the token in flight.

    Signals:
        token_arrived(int): the seq of the message whose token reached its destination.

    Attributes:
        graph: the networkx topology the scene mirrors.
        nodes: party -> NodeItem; links: (party, party) in `PARTIES` order -> LinkItem.
        token: the single TokenItem; banner: the BannerItem at the top.
        theme: the colours in use, from the palette given to `apply_palette`.
    """

    token_arrived = Signal(int)

    def __init__(self, parent: QObject | None = None, graph: nx.Graph | None = None) -> None:
        super().__init__(parent)
        self.graph = graph if graph is not None else build_topology()
        self.theme = Theme.from_palette(QPalette())
        self.nodes: dict[Party, NodeItem] = {}
        self.links: dict[tuple[Party, Party], LinkItem] = {}
        self.mode: str | None = None
        idle = idle_states()
        for party, data in self.graph.nodes(data=True):
            node = NodeItem(data["info"], self.theme, idle[party])
            column, row = data["pos"]
            node.setPos(column * COLUMN, _TOP + row * ROW)
            self.addItem(node)
            self.nodes[party] = node
        for a, b, data in self.graph.edges(data=True):
            key = link_key(a, b)
            path, label_at = self._route(key, data["route"], data["label"])
            link = LinkItem(data["info"], path, label_at, self.theme)
            self.addItem(link)
            self.links[key] = link
        self.token = TokenItem(self.theme)
        self.token.arrived.connect(self._on_token_arrived)
        self.addItem(self.token)
        width = max(node.x() for node in self.nodes.values()) + CARD_SIZE.width()
        self.banner = BannerItem(width, self.theme)
        self.banner.setPos(width / 2 - CARD_SIZE.width() / 2, 0)
        self.addItem(self.banner)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-24, -20, 24, 20))
        self.show_idle()

    # -- layout ----------------------------------------------------------------------------

    def _route(
        self, key: tuple[Party, Party], route: str, label: str
    ) -> tuple[QPainterPath, QPointF]:
        """The path of a link from key[0] to key[1], and where its label sits."""
        a, b = self.nodes[key[0]].pos(), self.nodes[key[1]].pos()
        half_w, half_h = CARD_SIZE.width() / 2 + _GAP, CARD_SIZE.height() / 2 + _GAP
        metrics = QFontMetricsF(font(11))
        path = QPainterPath()
        if route == "over":  # leave a's right side, arrive on b's top, arching over the row
            path.moveTo(a.x() + half_w, a.y())
            path.quadTo(QPointF(b.x(), a.y()), QPointF(b.x(), b.y() - half_h))
            mid = path.pointAtPercent(0.3)
            return path, QPointF(mid.x(), mid.y() - metrics.height() / 2 - _LABEL_GAP)
        if route == "under":  # leave a's bottom, arrive on b's bottom, arching under the row
            path.moveTo(a.x(), a.y() + half_h)
            path.cubicTo(
                QPointF(a.x(), a.y() + half_h + _ARC_DEPTH),
                QPointF(b.x(), b.y() + half_h + _ARC_DEPTH),
                QPointF(b.x(), b.y() + half_h),
            )
            mid = path.pointAtPercent(0.5)
            return path, QPointF(mid.x(), mid.y() + metrics.height() / 2 + _LABEL_GAP)
        start, end = _edge_point(a, b), _edge_point(b, a)
        path.moveTo(start)
        path.lineTo(end)
        mid = (start + end) / 2
        if abs(end.x() - start.x()) >= abs(end.y() - start.y()):
            return path, QPointF(mid.x(), mid.y() - metrics.height() / 2 - _LABEL_GAP)
        offset = metrics.horizontalAdvance(label) / 2 + token_size("POST").width() / 2 + 12
        return path, QPointF(mid.x() + offset, mid.y())

    def path_between(self, src: Party, dst: Party) -> QPainterPath:
        """The path a token takes from src to dst: along their link, else straight across."""
        link = self.links.get(link_key(src, dst))
        if link is not None:
            return link.path_from(src)
        a, b = self.nodes[src].pos(), self.nodes[dst].pos()
        path = QPainterPath(_edge_point(a, b))
        path.lineTo(_edge_point(b, a))
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
        # The token starts hidden under the sender's card and stops just short of the
        # receiver's, so it visibly leaves one and arrives at the other.
        span = (-_inset(path, 0.0, text), max(0.0, path.length() - _inset(path, 1.0, text)))
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
