"""Pictures for slides and documents: the sequence diagram and the component diagram.

`payviz export TRACE --to svg|png -o FILE` calls `export_image` with no window open, so
everything here works on a bare QApplication (made on demand, offscreen when there is no
display). The app's File > Export menu uses the same functions. PNGs default to 2x, crisp
on a projector; SVGs are vector (text stays text, so a participant's name can be searched).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageWriter, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene

from payviz.diagrams.sequence import build_sequence
from payviz.engine.trace import Message, Record

from .diagram import DiagramView
from .diagram.painting import Theme, font
from .sequence_paint import SequenceLayout, paint_empty, paint_header, paint_rows

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgGenerator

ImageFormat = Literal["svg", "png"]
EXPORT_WIDTH = 1280.0  # logical pixels: 2560 at 2x, a slide's width
MAX_PNG_SIDE = 16_000  # taller, and image readers refuse it (Qt: 256 MB at 2560 wide)
FOOTER = 40.0
SVG_DPI = 96  # the resolution fonts are sized for, as on screen


def ensure_application() -> QApplication:
    """The running QApplication, or a new one (offscreen when there is no display)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if no_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QApplication(["payviz"])


def light_theme() -> Theme:
    """The exports' colours: a light page, whatever the desktop's palette."""
    palette = QPalette(QColor("#f6f6f4"))
    palette.setColor(QPalette.ColorRole.Window, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#1b1b1b"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#1b1b1b"))
    return Theme.from_palette(palette)


def _paint_sequence(
    painter: QPainter,
    layout: SequenceLayout,
    messages: Sequence[Message],
    theme: Theme,
    bottom: float,
    current: int = -1,
) -> range:
    diagram = build_sequence(messages)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(QRectF(0, 0, layout.width, bottom), theme.background)
    if not layout.count:
        paint_empty(painter, QRectF(0, 0, layout.width, bottom), theme)
        return range(0)
    painter.save()
    painter.setClipRect(QRectF(0, 0, layout.width, bottom))
    drawn = paint_rows(painter, layout, diagram, theme, layout.header, bottom, current)
    painter.restore()
    paint_header(painter, layout, theme, 0)
    return drawn


def sequence_image(
    messages: Sequence[Message],
    scale: float = 2.0,
    width: float | None = None,
    theme: Theme | None = None,
    current: int = -1,
) -> QImage:
    """Every row of the sequence diagram as an image `scale` times its logical size.

    A trace too long for one PNG is cut where the picture reaches `MAX_PNG_SIDE` pixels,
    and a last line says how many messages were left out (SVG has no such limit).
    """
    ensure_application()
    theme = theme or light_theme()
    layout = SequenceLayout.build(build_sequence(messages), width or EXPORT_WIDTH)
    bottom = max(layout.height, 160.0)
    cut = bottom * scale > MAX_PNG_SIDE
    shown = len(messages)
    if cut:  # whole rows only, then a line saying what is missing
        shown = layout.index_near(MAX_PNG_SIDE / scale - FOOTER - layout.row) + 1
        bottom = layout.row_top(shown - 1) + layout.row
    size = QSize(round(layout.width * scale), round((bottom + (FOOTER if cut else 0)) * scale))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(1.0)
    image.fill(theme.background)
    painter = QPainter(image)
    painter.scale(scale, scale)
    _paint_sequence(painter, layout, messages, theme, bottom, current)
    if cut:
        painter.setPen(theme.text)
        painter.setFont(font(11, bold=True))
        note = f"\u2026 and {len(messages) - shown} more messages: export SVG for the whole trace"
        painter.drawText(
            QRectF(0, bottom, layout.width, FOOTER), Qt.AlignmentFlag.AlignCenter, note
        )
    painter.end()
    return image


def write_sequence_svg(
    messages: Sequence[Message], path: Path, width: float | None = None, theme: Theme | None = None
) -> None:
    """The sequence diagram as an SVG file (every row, vector text)."""
    ensure_application()
    theme = theme or light_theme()
    layout = SequenceLayout.build(build_sequence(messages), width or EXPORT_WIDTH)
    height = max(layout.height, 160.0)
    generator = _svg_generator(path, QSize(round(layout.width), round(height)))
    generator.setTitle("payviz sequence diagram")
    painter = QPainter(generator)
    _paint_sequence(painter, layout, messages, theme, height)
    painter.end()


def _svg_generator(path: Path, size: QSize) -> QSvgGenerator:
    """A generator writing to `path`; OSError now if the file cannot be written (the
    generator itself would only fail quietly)."""
    from PySide6.QtSvg import QSvgGenerator

    path.open("wb").close()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setResolution(SVG_DPI)
    generator.setDescription("payviz: how an online card payment works")
    return generator


def save_png(image: QImage, path: Path) -> None:
    writer = QImageWriter(str(path), b"png")
    if not writer.write(image):
        raise OSError(f"cannot write {path}: {writer.errorString()}")


def write_scene_svg(scene: QGraphicsScene, path: Path, background: QColor) -> None:
    """A QGraphicsScene (the component diagram) as an SVG file, at its own size."""
    source = scene.sceneRect()
    generator = _svg_generator(path, source.size().toSize())
    generator.setTitle("payviz component diagram")
    painter = QPainter(generator)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(QRectF(0, 0, source.width(), source.height()), background)
    # Cached items would be drawn as bitmaps; without the cache they draw vector and text.
    caches = {item: item.cacheMode() for item in scene.items()}
    for item in caches:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()
        for item, mode in caches.items():
            item.setCacheMode(mode)


def export_image(messages: list[Message], path: Path, fmt: str, scale: float = 2.0) -> None:
    """The sequence diagram of `messages` as `fmt` ("svg" or "png" at `scale`) at `path`.

    Raises ValueError for another format, OSError when the file cannot be written.
    """
    if fmt == "svg":
        write_sequence_svg(messages, path)
    elif fmt == "png":
        save_png(sequence_image(messages, scale), path)
    else:
        raise ValueError(f"unknown image format {fmt!r} (svg or png)")


def export_diagram(
    records: Sequence[Record], seq: int | None, path: Path, fmt: str, scale: float = 2.0
) -> None:
    """The component diagram as it stands at `seq` (None: the last record), as svg or png."""
    ensure_application()
    view = DiagramView()
    try:
        view.set_animations_enabled(False)
        view.set_records(records)
        if records:
            view.show_seq(records[-1].seq if seq is None else seq, animate=False)
        if fmt == "svg":
            write_scene_svg(view.diagram_scene, path, view.diagram_scene.theme.background)
        elif fmt == "png":
            save_png(view.render_to_image(scale), path)
        else:
            raise ValueError(f"unknown image format {fmt!r} (svg or png)")
    finally:
        view.deleteLater()


__all__ = [
    "EXPORT_WIDTH",
    "ImageFormat",
    "ensure_application",
    "export_diagram",
    "export_image",
    "light_theme",
    "save_png",
    "sequence_image",
    "write_scene_svg",
    "write_sequence_svg",
]
