"""Fitting text into the diagram's fixed boxes: word wrap, a line budget, elision.

Cards, link labels and the banner have fixed widths (see `layout`), so their text is
wrapped at word boundaries and, when even that does not fit, elided: a long identifier
loses its tail, never the words around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

# Spaces no line breaks at: between an amount and its currency ("19.99 USD") and inside a
# card's last four ("•••• 4242").
_GLUED = re.compile(r"(?<=[\d•]) (?=[A-Z]{3}\b|\d{4}\b)")
_NBSP = "\u00a0"
_AFTER_DOTS = re.compile(r"[^.]+\.*|\.+")  # "payment.succeeded" -> "payment.", "succeeded"


def wrap(text: str, metrics: QFontMetricsF, width: float, separator: str = " ") -> list[str]:
    """Greedy wrap of `text` at `separator` into lines meant to be `width` wide.

    A word wider than a whole line breaks after its dots if it has any
    ("payment." over "succeeded"); otherwise (an id, say) it is elided at the end of a
    line: its own, or the line before when that leaves it most of the width
    ("order ord_6860a0ae…" reads better than "order" over "ord_6860a0ae97fb…").
    """
    lines: list[str] = []
    open_line = False  # whether the last line may take more words
    for joiner, word in _words(_GLUED.sub(_NBSP, text), metrics, width, separator):
        joined = f"{lines[-1]}{joiner}{word}" if lines else word
        if open_line and metrics.horizontalAdvance(joined) <= width:
            lines[-1] = joined
        elif metrics.horizontalAdvance(word) <= width:
            lines.append(word)
            open_line = True
        else:
            if open_line and metrics.horizontalAdvance(lines[-1] + joiner) < width * 0.4:
                lines[-1] = joined
            else:
                lines.append(word)
            open_line = False
    # A " · " between two parts is no use at the end or the start of a line.
    return [line.removesuffix(" ·").removeprefix("· ").replace(_NBSP, " ") for line in lines]


def _words(
    text: str, metrics: QFontMetricsF, width: float, separator: str
) -> Iterator[tuple[str, str]]:
    """(what joins it to the word before, word): a too-wide word in parts after its dots."""
    for word in text.split(separator):
        parts = _AFTER_DOTS.findall(word) if metrics.horizontalAdvance(word) > width else [word]
        yield separator, parts[0]
        for part in parts[1:]:
            yield "", part


def fit_lines(
    paragraphs: Iterable[str],
    metrics: QFontMetricsF,
    width: float,
    max_lines: int,
    separator: str = " ",
) -> list[str]:
    """Each paragraph wrapped to `width`, at most `max_lines` in all, every line elided to fit.

    When the text needs more lines than allowed, the last line kept takes the rest of the
    text and ends in an ellipsis, so the cut shows.
    """
    lines = [
        line for paragraph in paragraphs for line in wrap(paragraph, metrics, width, separator)
    ]
    if len(lines) > max_lines:
        lines[max_lines - 1] = separator.join(lines[max_lines - 1 :]) + " …"
    return [
        metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines[:max_lines]
    ]


def wrap_label(text: str, metrics: QFontMetricsF, width: float) -> list[str]:
    """A link label in lines no wider than `width`: split at " · " first, then at spaces.

    "HTTPS · API key" becomes "HTTPS" over "API key" rather than "HTTPS · API" over "key".
    """
    lines: list[str] = []
    for line in wrap(text, metrics, width, " · "):
        lines += wrap(line, metrics, width) if metrics.horizontalAdvance(line) > width else [line]
    return lines


__all__ = ["fit_lines", "wrap", "wrap_label"]
