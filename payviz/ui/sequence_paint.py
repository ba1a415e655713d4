"""How a sequence diagram is laid out and painted, row by row, on any paint device.

The sequence view paints only the rows in its viewport; the exports paint every row on a
QImage or a QSvgGenerator. Both come through `SequenceLayout` (where each lifeline stands,
where each arrow's row and each step note begin) and `paint_rows` / `paint_header`, so the
window and the exported picture look the same. An arrow's look is the diagram's token look
(`node_state.token_style`): colour, glyph and line style mean the same in every view.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QPolygonF

from payviz.diagrams.sequence import Arrow, SequenceDiagram, participant_label
from payviz.diagrams.topology import OKABE_ITO, PARTY_INFO
from payviz.engine._types import Party

from .diagram.painting import Theme, contrast, font, line_pen, on_colour, paint_icon

GUTTER, SIDE, HEADER, ROW, NOTE, BOTTOM = 64.0, 96.0, 50.0, 40.0, 30.0, 16.0
MIN_SPACING = 170.0  # lifelines never closer than this: labels need room
CURRENT_ALPHA = 0.27  # the playhead band: Okabe-Ito orange, softened as in the log
EMPTY_TEXT = "Run a checkout, or open a trace (File \u2192 Open), to see its sequence."


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of the way from colour a to colour b (opaque)."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


@dataclass(frozen=True, slots=True)
class SequenceLayout:
    """Where everything of a sequence diagram stands, in logical pixels from the top.

    Rows are not evenly spaced: a step note sits above the first arrow of each step.

    Attributes:
        columns: each participant's lifeline x.
        width: the drawing's width; scale: the zoom factor every metric is multiplied by.
        boundary_rows: the arrow index of each step note, in order.
        count: the number of arrows.
    """

    columns: dict[Party, float]
    width: float
    scale: float
    boundary_rows: tuple[int, ...]
    count: int

    @classmethod
    def build(cls, diagram: SequenceDiagram, width: float, scale: float = 1.0) -> SequenceLayout:
        parties = diagram.participants
        width = max(width, cls.minimum_width(len(parties), scale))
        left, right = (GUTTER + SIDE) * scale, width - SIDE * scale
        step = (right - left) / max(1, len(parties) - 1)
        centre = len(parties) == 1
        columns = {
            p: (left + right) / 2 if centre else left + i * step for i, p in enumerate(parties)
        }
        rows = tuple(boundary.index for boundary in diagram.boundaries)
        return cls(columns, width, scale, rows, len(diagram.arrows))

    @staticmethod
    def minimum_width(participants: int, scale: float = 1.0) -> float:
        return (GUTTER + 2 * SIDE + max(0, participants - 1) * MIN_SPACING) * scale

    @property
    def header(self) -> float:
        return HEADER * self.scale

    @property
    def row(self) -> float:
        return ROW * self.scale

    @property
    def note(self) -> float:
        return NOTE * self.scale

    def row_top(self, index: int) -> float:
        """The top of arrow `index`'s row (below the notes of every step begun so far)."""
        notes = bisect_right(self.boundary_rows, index)
        return self.header + index * self.row + notes * self.note

    def note_top(self, number: int) -> float:
        return self.row_top(self.boundary_rows[number]) - self.note

    @property
    def height(self) -> float:
        return self.row_top(self.count) + BOTTOM * self.scale if self.count else 0.0

    def index_near(self, y: float) -> int:
        """The last arrow whose row (or the note above it) starts at or above `y`."""
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.row_top(middle) <= y:
                low = middle + 1
            else:
                high = middle
        return max(0, low - 1)

    def index_at(self, y: float) -> int | None:
        """The arrow whose row contains `y`; None above the first, in a note or below."""
        if not self.count or y < self.header:
            return None
        index = self.index_near(y)
        return index if self.row_top(index) <= y < self.row_top(index) + self.row else None


def paint_header(painter: QPainter, layout: SequenceLayout, theme: Theme, top: float) -> None:
    """The participants' boxes at `top`, on an opaque band (it stays put while rows scroll)."""
    s = layout.scale
    band = QRectF(0, top, layout.width, layout.header)
    painter.fillRect(band, theme.background)
    painter.setPen(QPen(theme.border, 1.0))
    painter.drawLine(QPointF(0, band.bottom() - 0.5), QPointF(layout.width, band.bottom() - 0.5))
    bold = font(11 * s, bold=True)
    metrics = QFontMetricsF(bold)
    for party, x in layout.columns.items():
        label = participant_label(party)
        colour = QColor(PARTY_INFO[party].colour)
        width = metrics.horizontalAdvance(label) + 46 * s
        box = QRectF(x - width / 2, top + 8 * s, width, 32 * s)
        painter.setPen(QPen(colour, 2.5 * s))
        painter.setBrush(QBrush(theme.card))
        painter.drawRoundedRect(box, 8 * s, 8 * s)
        icon = QRectF(box.left() + 10 * s, box.center().y() - 9 * s, 18 * s, 18 * s)
        paint_icon(painter, PARTY_INFO[party].icon, icon, theme.ink(colour))
        painter.setPen(theme.text)
        painter.setFont(bold)
        text = box.adjusted(32 * s, 0, -8 * s, 0)
        painter.drawText(text, Qt.AlignmentFlag.AlignCenter, label)


def paint_rows(
    painter: QPainter,
    layout: SequenceLayout,
    diagram: SequenceDiagram,
    theme: Theme,
    top: float,
    bottom: float,
    current: int = -1,
) -> range:
    """Paint the rows between `top` and `bottom` (layout coordinates); the range painted."""
    if not layout.count:
        return range(0)
    first = layout.index_near(top)
    last = min(layout.count - 1, layout.index_near(bottom))
    s = layout.scale
    band = mix(theme.background, QColor(OKABE_ITO["orange"]), CURRENT_ALPHA)
    if first <= current <= last:
        painter.fillRect(QRectF(0, layout.row_top(current), layout.width, layout.row), band)
    lifeline_top = max(top, layout.header)
    lifeline_bottom = min(bottom, layout.height - BOTTOM * s)
    for party, x in layout.columns.items():
        colour = mix(theme.background, QColor(PARTY_INFO[party].colour), 0.55)
        painter.setPen(QPen(colour, 2.0 * s))
        painter.drawLine(QPointF(x, lifeline_top), QPointF(x, lifeline_bottom))
    start = bisect_right(layout.boundary_rows, first - 1)
    stop = bisect_right(layout.boundary_rows, last)
    for number in range(start, stop):
        _paint_note(painter, layout, diagram, theme, number)
    for index in range(first, last + 1):
        back = band if index == current else theme.background
        _paint_arrow(painter, layout, diagram.arrows[index], theme, back, index == current)
    return range(first, last + 1)


def _paint_note(
    painter: QPainter, layout: SequenceLayout, diagram: SequenceDiagram, theme: Theme, number: int
) -> None:
    s = layout.scale
    top = layout.note_top(number)
    xs = list(layout.columns.values())
    rect = QRectF(xs[0] - 70 * s, top + 4 * s, xs[-1] - xs[0] + 140 * s, layout.note - 6 * s)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(mix(theme.background, theme.text, 0.07))
    painter.drawRoundedRect(rect, 5 * s, 5 * s)
    painter.setBrush(theme.muted)
    painter.drawRoundedRect(QRectF(rect.left(), rect.top(), 4 * s, rect.height()), 2 * s, 2 * s)
    painter.setPen(theme.muted)
    painter.setFont(font(11 * s, bold=True))
    text = diagram.boundaries[number].text
    area = rect.adjusted(14 * s, 0, -10 * s, 0)
    elided = QFontMetricsF(painter.font()).elidedText(
        text, Qt.TextElideMode.ElideRight, area.width()
    )
    painter.drawText(area, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)


def _paint_arrow(
    painter: QPainter,
    layout: SequenceLayout,
    arrow: Arrow,
    theme: Theme,
    back: QColor,
    current: bool,
) -> None:
    s = layout.scale
    top = layout.row_top(arrow.index)
    style = arrow.style
    colour = _readable(theme.error if arrow.failed else QColor(style.colour), back, theme.dark)
    x1, x2 = layout.columns[arrow.src], layout.columns[arrow.dst]
    y = top + layout.row * 0.72
    # The seq number in the gutter; the playhead's row is marked by shape, not colour alone.
    painter.setFont(font(10 * s, bold=current))
    painter.setPen(theme.text if current else theme.muted)
    gutter = QRectF(0, y - layout.row / 2, (GUTTER - 10) * s, layout.row)
    number = f"\u25b6 {arrow.seq}" if current else str(arrow.seq)
    painter.drawText(gutter, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, number)
    if x1 == x2:  # a party talking to itself: a small loop to the right
        x2 = x1 + 40 * s
    heading = 1.0 if x2 > x1 else -1.0
    head = 12 * s
    pen = line_pen(colour, (2.6 if current else 2.0) * s, style.line)
    painter.setPen(pen)
    painter.drawLine(QPointF(x1, y), QPointF(x2 - heading * head * 0.8, y))
    tip = QPointF(x2 - heading * 2 * s, y)
    barbs = QPolygonF(
        [
            QPointF(tip.x() - heading * head, y - head * 0.45),
            tip,
            QPointF(tip.x() - heading * head, y + head * 0.45),
        ]
    )
    painter.setPen(QPen(colour, 2.0 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.setBrush(QBrush(colour if style.filled else back))
    painter.drawPolygon(barbs)
    if style.glyph != "arrow":
        _paint_badge(painter, QPointF((x1 + x2) / 2, y), colour, style.filled, back, style.glyph, s)
    _paint_label(painter, layout, arrow, theme, back, current, min(x1, x2), top)


def _readable(colour: QColor, back: QColor, dark: bool) -> QColor:
    """The colour shaded (hue kept) until it stands out from `back`, the playhead's band
    included: pale sky blue on light orange would otherwise fade."""
    wanted = 3.0 if dark else 2.2
    shaded = QColor(colour)
    for _ in range(5):
        if contrast(shaded, back) >= wanted:
            break
        shaded = shaded.lighter(120) if dark else shaded.darker(120)
    return shaded


def _paint_badge(
    painter: QPainter,
    centre: QPointF,
    colour: QColor,
    filled: bool,
    back: QColor,
    glyph: str,
    s: float,
) -> None:
    """The token's glyph (lock, bell, cross, envelope) in a disc on the arrow."""
    radius = 11 * s
    painter.setPen(QPen(colour, 2.0 * s))
    painter.setBrush(QBrush(colour if filled else back))
    painter.drawEllipse(centre, radius, radius)
    side = radius * 1.2
    rect = QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side)
    paint_icon(painter, glyph, rect, on_colour(colour) if filled else colour)


def _paint_label(
    painter: QPainter,
    layout: SequenceLayout,
    arrow: Arrow,
    theme: Theme,
    back: QColor,
    current: bool,
    left: float,
    top: float,
) -> None:
    """'step N: summary' above the arrow, on a halo so lifelines pass behind the words."""
    s = layout.scale
    label_font = font(11 * s, bold=current)
    metrics = QFontMetricsF(label_font)
    text = ("\u2718 " if arrow.failed else "") + arrow.label
    # From the arrow's left end; a label that would run off the right edge moves left.
    right = layout.width - 10 * s
    x = max(GUTTER * s, min(left + 10 * s, right - metrics.horizontalAdvance(text)))
    text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, right - x)
    width = metrics.horizontalAdvance(text)
    rect = QRectF(x, top + 4 * s, width, metrics.height())
    painter.fillRect(rect.adjusted(-4 * s, 0, 4 * s, 2 * s), back)
    painter.setFont(label_font)
    painter.setPen(theme.error if arrow.failed else theme.text)
    # Not clipped to the line's box: an underscore sits below it in some fonts.
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip
    painter.drawText(rect, int(flags), text)


def paint_empty(painter: QPainter, rect: QRectF, theme: Theme, scale: float = 1.0) -> None:
    painter.setPen(theme.muted)
    painter.setFont(font(12 * scale))
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    painter.drawText(rect.adjusted(20, 20, -20, -20), int(flags), EMPTY_TEXT)
