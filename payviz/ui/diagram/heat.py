"""Per-link heat for load runs: how much traffic each link of the diagram carried.

The scene's `LinkItem`s draw the links; a `HeatOverlay` lays a band under each of them,
wider and warmer the busier the link, and a count beside it, without touching the links
themselves (they keep showing the message at the playhead).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSimpleTextItem

from payviz.diagrams.load_stats import heat as heat_shares
from payviz.diagrams.topology import OKABE_ITO
from payviz.engine._types import Party

from .painting import font
from .scene import DiagramScene

Link = tuple[Party, Party]
MIN_WIDTH = 6.0
MAX_WIDTH = 30.0
COOL = QColor(OKABE_ITO["sky_blue"])
HOT = QColor(OKABE_ITO["vermillion"])


def heat_colour(share: float) -> QColor:
    """From sky blue (little traffic) to vermillion (the busiest link), half transparent."""
    share = min(max(share, 0.0), 1.0)
    colour = QColor.fromRgbF(
        COOL.redF() + (HOT.redF() - COOL.redF()) * share,
        COOL.greenF() + (HOT.greenF() - COOL.greenF()) * share,
        COOL.blueF() + (HOT.blueF() - COOL.blueF()) * share,
    )
    colour.setAlphaF(0.30 + 0.35 * share)
    return colour


def heat_width(share: float) -> float:
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * min(max(share, 0.0), 1.0)


class HeatOverlay(QObject):
    """Heat bands and counts under a `DiagramScene`'s links.

    Attributes:
        scene: the scene drawn on; counts: messages per link last shown.
        bands: link -> the band item; labels: link -> its count text item.
    """

    def __init__(self, scene: DiagramScene) -> None:
        super().__init__(scene)
        self.scene = scene
        self.counts: dict[Link, int] = {}
        self.bands: dict[Link, QGraphicsPathItem] = {}
        self.labels: dict[Link, QGraphicsSimpleTextItem] = {}
        for key, link in scene.links.items():
            band = QGraphicsPathItem(link.path)
            band.setZValue(link.zValue() - 0.5)
            band.setVisible(False)
            scene.addItem(band)
            self.bands[key] = band
            label = QGraphicsSimpleTextItem()
            label.setFont(font(11, bold=True))
            label.setZValue(link.zValue() + 0.5)
            label.setVisible(False)
            scene.addItem(label)
            self.labels[key] = label

    def set_counts(self, counts: Mapping[Link, int]) -> None:
        """Show the traffic of each link (links keyed as the scene keys them)."""
        self.counts = {key: counts.get(key, 0) for key in self.bands}
        shares = heat_shares(self.counts)
        for key, band in self.bands.items():
            count = self.counts[key]
            share = shares.get(key, 0.0)
            pen = QPen(heat_colour(share), heat_width(share))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            band.setPen(pen)
            band.setVisible(count > 0)
            label = self.labels[key]
            label.setText(f"{count:,}")
            label.setBrush(self.scene.theme.text)
            middle = band.path().pointAtPercent(0.5)
            size = label.boundingRect()
            label.setPos(middle + QPointF(-size.width() / 2, 8))
            label.setVisible(count > 0)

    def width_of(self, key: Link) -> float:
        band = self.bands.get(key)
        return band.pen().widthF() if band is not None and band.isVisible() else 0.0

    def clear(self) -> None:
        for band in self.bands.values():
            band.setVisible(False)
        for label in self.labels.values():
            label.setVisible(False)
        self.counts = {}


def show_heat(scene: DiagramScene, counts: Mapping[Link, int]) -> HeatOverlay:
    """The scene's heat overlay (made on first use), showing `counts`."""
    overlay = scene.findChild(HeatOverlay)
    if not isinstance(overlay, HeatOverlay):
        overlay = HeatOverlay(scene)
    overlay.set_counts(counts)
    return overlay
