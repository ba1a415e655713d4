"""Two small charts for load runs, drawn with QPainter: throughput over time and a
latency histogram. Colours come from the palette (light or dark) and the diagram's
Okabe-Ito set, so the charts read like the rest of the app."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from payviz.diagrams.load_stats import Histogram
from payviz.diagrams.topology import OKABE_ITO

from .diagram.painting import Theme, font

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 58.0, 16.0, 36.0, 40.0


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:.1f}"


class Chart(QWidget):
    """A titled plot area with a y axis, grid lines and an x-axis caption.

    Attributes:
        title: drawn above the plot; x_caption: under the x axis.
        colour: the series' colour.
    """

    def __init__(self, title: str, x_caption: str, colour: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.x_caption = x_caption
        self.colour = QColor(colour)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)

    def sizeHint(self) -> QSize:
        return QSize(460, 240)

    def plot_rect(self) -> QRectF:
        return QRectF(
            MARGIN_LEFT,
            MARGIN_TOP,
            max(self.width() - MARGIN_LEFT - MARGIN_RIGHT, 10),
            max(self.height() - MARGIN_TOP - MARGIN_BOTTOM, 10),
        )

    def _frame(self, painter: QPainter, theme: Theme, y_max: float) -> float:
        """Title, grid and y labels; returns the top of the y scale."""
        plot = self.plot_rect()
        painter.setFont(font(11.5, bold=True))
        painter.setPen(theme.text)
        painter.drawText(
            QRectF(8, 4, self.width() - 16, MARGIN_TOP - 8),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.title,
        )
        step = nice_step(y_max)
        top = max(step, math.ceil(y_max / step) * step)
        painter.setFont(font(10))
        value = 0.0
        while value <= top + step / 2:
            y = plot.bottom() - plot.height() * value / top
            painter.setPen(QPen(theme.border, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(theme.muted)
            painter.drawText(
                QRectF(0, y - 9, MARGIN_LEFT - 8, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                _label(value),
            )
            value += step
        painter.setPen(QPen(theme.muted, 1.2))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 20, plot.width(), 18),
            Qt.AlignmentFlag.AlignCenter,
            self.x_caption,
        )
        return top

    def _x_labels(self, painter: QPainter, theme: Theme, x_max: float, x_min: float = 0.0) -> None:
        plot = self.plot_rect()
        span = max(x_max - x_min, 1e-9)
        step = nice_step(span, 5)
        painter.setFont(font(10))
        painter.setPen(theme.muted)
        value = math.ceil(x_min / step) * step
        while value <= x_max + 1e-9:
            x = plot.left() + plot.width() * (value - x_min) / span
            painter.drawText(
                QRectF(x - 30, plot.bottom() + 2, 60, 18),
                Qt.AlignmentFlag.AlignCenter,
                _label(value),
            )
            value += step

    def _empty(self, painter: QPainter, theme: Theme) -> None:
        painter.setPen(theme.muted)
        painter.setFont(font(11))
        painter.drawText(self.plot_rect(), Qt.AlignmentFlag.AlignCenter, "no data yet")


class ThroughputChart(Chart):
    """Checkouts per second over the run, as a filled line.

    Attributes:
        points: (seconds since start, checkouts per second).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Throughput (checkouts/s)", "seconds since start", OKABE_ITO["blue"], parent
        )
        self.points: list[tuple[float, float]] = []

    def set_points(self, points: list[tuple[float, float]]) -> None:
        self.points = list(points)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = Theme.from_palette(self.palette())
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        top = self._frame(painter, theme, max((y for _, y in self.points), default=1.0))
        if not self.points:
            self._empty(painter, theme)
            return
        plot = self.plot_rect()
        x_max = max(self.points[-1][0], 1e-6)
        self._x_labels(painter, theme, x_max)
        line = QPainterPath(QPointF(plot.left(), plot.bottom()))
        for x, y in self.points:
            line.lineTo(
                plot.left() + plot.width() * x / x_max, plot.bottom() - plot.height() * y / top
            )
        area = QPainterPath(line)
        area.lineTo(plot.right(), plot.bottom())
        area.closeSubpath()
        fill = QColor(self.colour)
        fill.setAlphaF(0.18)
        painter.fillPath(area, fill)
        painter.setPen(QPen(theme.ink(self.colour), 2.4))
        painter.drawPath(line)


class HistogramChart(Chart):
    """How long checkouts took: bars over even latency bins.

    Attributes:
        histogram: the bins shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Checkout latency", "milliseconds, end to end", OKABE_ITO["orange"], parent
        )
        self.histogram = Histogram((), ())

    def set_histogram(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = Theme.from_palette(self.palette())
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        counts = self.histogram.counts
        top = self._frame(painter, theme, float(max(counts, default=1)))
        if not counts:
            self._empty(painter, theme)
            return
        plot = self.plot_rect()
        edges = self.histogram.edges
        self._x_labels(painter, theme, edges[-1] * 1000, edges[0] * 1000)
        width = plot.width() / len(counts)
        painter.setPen(QPen(theme.ink(self.colour).darker(120), 1))
        painter.setBrush(self.colour)
        for index, count in enumerate(counts):
            height = plot.height() * count / top
            painter.drawRect(
                QRectF(
                    plot.left() + index * width + 1,
                    plot.bottom() - height,
                    max(width - 2, 1),
                    height,
                )
            )
