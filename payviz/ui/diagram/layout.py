"""Where the diagram's cards and banner stand, in scene units (pixels at 100 % zoom).

The diagram is sized for the share of the window the main window gives it by default,
about 850 x 360 pixels or more: there the whole diagram fits at 100 % or more, so no text
is drawn below its point size (11 pt at the least). The four parties of the main row stand
close, with just the room between two cards for a token and its link's label; the browser
stands above the merchant, and the step banner takes the room to the browser's right,
above the arc of the redirect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF

from payviz.diagrams.topology import PARTY_INFO, PartyInfo
from payviz.engine._types import Party

from .items import CARD_WIDTH, card_height
from .painting import SUBTITLE_PT, TITLE_PT, TOKEN_HEIGHT, font

GAP = 80.0  # between two cards of a row: a token's length, with its link's label above it
ROW_GAP = 34.0  # between the browser and the merchant: a token's height and some air
MARGIN = 6.0  # around the whole diagram
CAPTION_LINES = 4
# The browser's caption is what the customer has in front of them (a page's headline, a
# decline's reason): three lines, so that its row and the row gap below it (a token's
# height with little air) leave the diagram at 100 % in the window's default share.
_CAPTION_LINES: Mapping[Party, int] = {"browser": 3}
ARC_RISE = 12.0  # how far above the browser's bottom edge the redirect's arc leaves it
SUBTITLE_LINES = 2


class Layout(NamedTuple):
    """The places of a topology's cards and of the banner.

    Attributes:
        cards: party -> its card's rectangle.
        caption_lines: party -> how many lines its caption may take.
        banner: the banner's rectangle, right of the top row's first card.
    """

    cards: Mapping[Party, QRectF]
    caption_lines: Mapping[Party, int]
    banner: QRectF


def banner_height() -> float:
    """The banner's height: its title over up to `SUBTITLE_LINES` lines of subtitle."""
    title = QFontMetricsF(font(TITLE_PT, bold=True)).lineSpacing()
    return title + 2 + SUBTITLE_LINES * QFontMetricsF(font(SUBTITLE_PT)).lineSpacing()


def lay_out(parties: Mapping[Party, PartyInfo] = PARTY_INFO) -> Layout:
    """Cards on the topology's grid of columns and rows, each row as tall as its tallest card.

    The top row is also tall enough for the banner beside its first card, with the
    redirect's arc (and a token on it) passing under the banner.
    """
    lines = {party: _CAPTION_LINES.get(party, CAPTION_LINES) for party in parties}
    grid = {party: (info.column, info.row) for party, info in parties.items()}
    rows = sorted({row for _, row in grid.values()})
    heights = {
        row: max(card_height(lines[p]) for p, (_, r) in grid.items() if r == row) for row in rows
    }
    banner_h = banner_height()
    heights[rows[0]] = max(heights[rows[0]], banner_h + TOKEN_HEIGHT / 2 + ARC_RISE + 4)
    tops: dict[float, float] = {}
    top = MARGIN
    for row in rows:
        tops[row] = top
        top += heights[row] + ROW_GAP
    cards = {
        party: QRectF(MARGIN + column * (CARD_WIDTH + GAP), tops[row], CARD_WIDTH, heights[row])
        for party, (column, row) in grid.items()
    }
    left = MARGIN + CARD_WIDTH + GAP
    right = max(rect.right() for rect in cards.values())
    banner = QRectF(left, MARGIN, right - left, banner_h)
    return Layout(cards, lines, banner)


__all__ = [
    "ARC_RISE",
    "CAPTION_LINES",
    "CARD_WIDTH",
    "GAP",
    "MARGIN",
    "ROW_GAP",
    "Layout",
    "banner_height",
    "lay_out",
]
