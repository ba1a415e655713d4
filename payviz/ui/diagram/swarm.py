"""Load mode's tokens: hundreds of messages in flight, drawn by one item.

The playhead's `TokenItem` is a pill with a glyph and text, one at a time. In a load run
hundreds of exchanges are on the wire at once; one `SwarmItem` paints them all as small
dots along their links in a single pass (one item to index and repaint, not hundreds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO
from payviz.engine._types import Party

from .scene import DiagramScene

RADIUS = 6.0
SAMPLES = 48  # points per link path; a token moves between them in straight lines
KIND_COLOURS = {
    "request": QColor(OKABE_ITO["blue"]),
    "response": QColor(OKABE_ITO["bluish_green"]),
    "failed": QColor(ERROR_COLOUR),
}


@dataclass(frozen=True, slots=True)
class FlyingToken:
    """One message on the wire: from src to dst, `progress` of the way (0 to 1)."""

    src: Party
    dst: Party
    progress: float
    kind: str = "request"  # request | response | failed


class SwarmItem(QGraphicsItem):
    """Every token in flight, painted as dots on the scene's link paths.

    Each link's path is sampled once into a table of points, and each colour of dot is
    rendered once into a pixmap: a frame is arithmetic and blits, whatever the curves.

    Attributes:
        tokens: what is drawn now.
    """

    def __init__(self, scene: DiagramScene) -> None:
        super().__init__()
        self._scene = scene
        self._tables: dict[tuple[Party, Party], list[tuple[float, float]]] = {}
        self._dots: dict[str, QPixmap] = {}
        self._bounds = scene.sceneRect()
        self.tokens: list[FlyingToken] = []
        self.setZValue(1.5)  # over the links, under the cards
        scene.addItem(self)

    def _table(self, src: Party, dst: Party) -> list[tuple[float, float]]:
        key = (src, dst)
        table = self._tables.get(key)
        if table is None:
            path = self._scene.path_between(src, dst)
            points = (path.pointAtPercent(i / SAMPLES) for i in range(SAMPLES + 1))
            table = self._tables[key] = [(p.x(), p.y()) for p in points]
        return table

    def _dot(self, kind: str) -> QPixmap:
        dot = self._dots.get(kind)
        if dot is None:
            side = int(2 * RADIUS + 4)
            dot = QPixmap(side * 2, side * 2)  # drawn at twice the size: crisp when zoomed
            dot.setDevicePixelRatio(2.0)
            dot.fill(Qt.GlobalColor.transparent)
            painter = QPainter(dot)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self._scene.theme.background, 1.5))
            painter.setBrush(KIND_COLOURS.get(kind, KIND_COLOURS["request"]))
            painter.drawEllipse(QPointF(side / 2, side / 2), RADIUS, RADIUS)
            painter.end()
            self._dots[kind] = dot
        return dot

    def position(self, token: FlyingToken) -> tuple[float, float]:
        """Where a token is drawn: along its link's point table, interpolated."""
        table = self._table(token.src, token.dst)
        where = min(max(token.progress, 0.0), 1.0) * SAMPLES
        index = min(int(where), SAMPLES - 1)
        (x0, y0), (x1, y1) = table[index], table[index + 1]
        frac = where - index
        return x0 + (x1 - x0) * frac, y0 + (y1 - y0) * frac

    def set_tokens(self, tokens: Iterable[FlyingToken]) -> None:
        self.tokens = list(tokens)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        offset = RADIUS + 2
        for token in self.tokens:
            x, y = self.position(token)
            painter.drawPixmap(QPointF(x - offset, y - offset), self._dot(token.kind))
