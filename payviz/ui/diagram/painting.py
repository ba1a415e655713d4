"""How the diagram paints: colours from the palette, fonts, tinted icons and token pills.

Shared by the scene's items and the legend, so a token looks the same wherever it is drawn.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QByteArray, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPalette,
    QPen,
)

import payviz
from payviz.diagrams.node_state import TokenStyle
from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgRenderer

# Point sizes of the diagram's text at 100 % zoom. The smallest is 11 pt: the view's fit
# keeps 100 % or more wherever the main window gives the diagram its default share.
TEXT_PT = 11.0  # roles, captions, link labels, token text
NAME_PT = 13.0  # a party's name on its card
SUBTITLE_PT = 12.0  # the banner's line about the message
TITLE_PT = 18.0  # the banner's "Step N · Title"

TOKEN_HEIGHT = 26.0
_GLYPH_INSET = 4.5  # from the pill's left end to its glyph
_GLYPH_SIDE = TOKEN_HEIGHT - 11.0
_TEXT_GAP = 3.0  # between the glyph and the text
_TEXT_END = 7.0  # from the text to the pill's right end

# The icons ship in `payviz/assets/icons` when installed, in `assets/icons` in a checkout.
_ICON_DIRS = (
    Path(payviz.__file__).parent / "assets" / "icons",
    Path(payviz.__file__).parent.parent / "assets" / "icons",
)


def font(point_size: float, bold: bool = False) -> QFont:
    """The application's font at a given size (11 pt or more for anything to be read)."""
    result = QFont(QGuiApplication.font())
    result.setPointSizeF(point_size)
    result.setBold(bold)
    return result


class Theme(NamedTuple):
    """The colours of the diagram, taken from a palette so both light and dark read well.

    Attributes:
        dark: whether the palette is a dark one.
        background, card, border: the canvas, a card's face and its outline.
        text, muted: body text and secondary text (roles, idle captions, link labels).
        link: an idle link; error: the one colour of failure; good: a paid order's mark.
    """

    dark: bool
    background: QColor
    card: QColor
    border: QColor
    text: QColor
    muted: QColor
    link: QColor
    error: QColor
    good: QColor

    @classmethod
    def from_palette(cls, palette: QPalette) -> Theme:
        window = palette.color(QPalette.ColorRole.Window)
        text = palette.color(QPalette.ColorRole.WindowText)
        dark = window.lightnessF() < 0.5
        card = window.lighter(135) if dark else palette.color(QPalette.ColorRole.Base)
        return cls(
            dark=dark,
            background=window,
            card=card,
            border=_mix(window, text, 0.28),
            text=text,
            muted=_mix(window, text, 0.68),
            link=_mix(window, text, 0.38),
            error=QColor(ERROR_COLOUR),
            good=QColor(OKABE_ITO["bluish_green"]),
        )

    def ink(self, colour: QColor) -> QColor:
        """A palette colour as a line or glyph on the background, shaded until it shows.

        Dark blue on a dark window is lightened, yellow on a light one darkened; the hue,
        and so the meaning, stays.
        """
        wanted = 3.0 if self.dark else 1.8
        shaded = QColor(colour)
        for _ in range(4):
            if contrast(shaded, self.background) >= wanted:
                break
            shaded = shaded.lighter(125) if self.dark else shaded.darker(125)
        return shaded


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of the way from colour a to colour b."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def luminance(colour: QColor) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = channel(colour.redF()), channel(colour.greenF()), channel(colour.blueF())
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 to 21 (4.5 is the bar for body text)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def on_colour(colour: QColor) -> QColor:
    """Black or white, whichever reads better on `colour`."""
    return QColor("#000000") if luminance(colour) > 0.179 else QColor("#FFFFFF")


@cache
def _svg_source(name: str) -> str | None:
    for folder in _ICON_DIRS:
        path = folder / f"{name}.svg"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


@cache
def _renderer(name: str, colour: str) -> QSvgRenderer | None:
    from PySide6.QtSvg import QSvgRenderer

    source = _svg_source(name)
    if source is None:
        return None
    # The icons are single-colour strokes in currentColor; tint them by substitution.
    return QSvgRenderer(QByteArray(source.replace("currentColor", colour).encode()))


def paint_icon(painter: QPainter, name: str, rect: QRectF, colour: QColor) -> None:
    """Draw one of the SVG icons of `assets/icons`, tinted (nothing if it is missing)."""
    renderer = _renderer(name, colour.name())
    if renderer is not None and renderer.isValid():
        renderer.render(painter, rect)


def line_pen(colour: QColor, width: float, line: str) -> QPen:
    """A pen for a token's outline or a link: solid, dashed (redirects) or dotted (async)."""
    pen = QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if line == "dashed":
        pen.setDashPattern([3.0, 2.2])
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    elif line == "dotted":
        pen.setDashPattern([0.01, 2.0])
    return pen


def token_size(text: str) -> QSizeF:
    """The size of a token pill carrying `text` beside its glyph (a disc with no text)."""
    if not text:
        return QSizeF(TOKEN_HEIGHT, TOKEN_HEIGHT)
    width = QFontMetricsF(font(TEXT_PT, bold=True)).horizontalAdvance(text)
    return QSizeF(_GLYPH_INSET + _GLYPH_SIDE + _TEXT_GAP + width + _TEXT_END, TOKEN_HEIGHT)


def paint_token(
    painter: QPainter,
    rect: QRectF,
    style: TokenStyle,
    text: str,
    theme: Theme,
    heading: float = 0.0,
) -> None:
    """Draw a token pill: filled for a request, outlined for a response, glyph then text.

    `heading` (degrees, counter-clockwise) turns an arrow glyph to the direction of travel.
    """
    colour = QColor(style.colour) if style.filled else theme.ink(QColor(style.colour))
    fill = colour if style.filled else theme.card
    ink = on_colour(colour) if style.filled else theme.text
    outline = colour.darker(140) if style.filled else colour
    painter.setPen(line_pen(outline, 2.5 if style.filled else 3.0, style.line))
    painter.setBrush(QBrush(fill))
    radius = rect.height() / 2
    painter.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), radius, radius)
    side = rect.height() - 11.0
    left = rect.left() + (_GLYPH_INSET if text else (rect.width() - side) / 2)
    glyph = QRectF(left, rect.center().y() - side / 2, side, side)
    glyph_ink = ink if style.filled else colour
    painter.save()
    if style.glyph == "arrow":
        painter.translate(glyph.center())
        painter.rotate(-heading)
        painter.translate(-glyph.center())
    paint_icon(painter, style.glyph, glyph, glyph_ink)
    painter.restore()
    if text:
        painter.setPen(ink)
        painter.setFont(font(TEXT_PT, bold=True))
        left = glyph.right() + _TEXT_GAP
        area = QRectF(left, rect.top(), rect.right() - _TEXT_END - left, rect.height())
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)
