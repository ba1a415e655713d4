"""The animated component diagram: five parties as cards, messages as travelling tokens.

`DiagramView` is what the main window embeds; `LegendWidget` explains the tokens.
"""

from .items import LinkItem, NodeItem, TokenItem
from .painting import Theme, contrast, paint_token
from .scene import BannerItem, DiagramScene
from .view import DiagramView, LegendWidget, legend_items

__all__ = [
    "BannerItem",
    "DiagramScene",
    "DiagramView",
    "LegendWidget",
    "LinkItem",
    "NodeItem",
    "Theme",
    "TokenItem",
    "contrast",
    "legend_items",
    "paint_token",
]
