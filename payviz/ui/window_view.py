"""The main window's View and Help commands, and what it keeps between sessions.

`ViewWindow` is the part of `MainWindow` that zooms (the diagram, and every panel's text
with it), goes full screen, shows the shortcuts and the About box, and saves and restores
the window's geometry, its docks and the playback speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

if TYPE_CHECKING:
    from .diagram import DiagramView
    from .inspector import InspectorPanel
    from .narration import NarrationPanel
    from .player import Player
    from .sequence_view import SequenceView

BASE_POINT_SIZE = 11.0
SHORTCUTS = (
    ("Ctrl+R", "Run checkout"),
    ("Ctrl+L", "Load test"),
    ("Ctrl+O / Ctrl+S", "Open / save a session"),
    ("Space", "Play / pause"),
    ("Right / Left", "Step forward / back"),
    ("Home / End", "Restart / go to the end"),
    ("Ctrl+= / Ctrl+- / Ctrl+0", "Zoom in / out / reset (diagram and text)"),
    ("F11", "Full screen"),
)


class ViewWindow(QMainWindow):
    """Zoom, full screen, help and saved settings (see `MainWindow`)."""

    settings: QSettings
    player: Player
    diagram: DiagramView
    inspector: InspectorPanel
    narration: NarrationPanel
    _sequence: SequenceView | None
    _scale: float

    def _apply_font(self) -> None:
        font = self.font()
        font.setPointSizeF(BASE_POINT_SIZE * self._scale)
        self.setFont(font)

    def _set_scale(self, scale: float) -> None:
        self._scale = min(2.5, max(0.8, scale))
        self._apply_font()
        self.narration.set_scale(self._scale)
        self.inspector.set_scale(self._scale)
        if self._sequence is not None:
            self._sequence.set_scale(self._scale)

    def zoom_in(self) -> None:
        self.diagram.zoom_in()
        self._set_scale(self._scale * 1.1)

    def zoom_out(self) -> None:
        self.diagram.zoom_out()
        self._set_scale(self._scale / 1.1)

    def reset_zoom(self) -> None:
        self.diagram.reset_zoom()
        self._set_scale(1.0)

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(
            self,
            "About payviz",
            "<h3>payviz</h3><p>See how an online card payment really works: five parties "
            "as real HTTP services, every message recorded and replayed hop by hop.</p>",
        )

    def _restore_settings(self) -> bool:
        """Geometry, docks and speed from the last session; False if there was none."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        speed = self.settings.value("player/speed")
        if speed is not None:
            self.player.set_speed(float(speed))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        return isinstance(state, QByteArray) and self.restoreState(state)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("player/speed", self.player.speed)
        self.settings.sync()
