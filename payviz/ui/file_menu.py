"""The File menu: save and open sessions, recent files, HAR import and every export.

Reading and writing are the diagrams layer's (`session_file`, `exports`, `har`); this
module asks for file names, reports what could not be read, and hands the records to the
window, which replays them like any checkout. Message boxes open window-modal without
blocking (`open()`), so nothing here waits in a nested event loop. The readers and writers
load with the first command that needs them, not with the window.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .recent_files import RecentFiles

if TYPE_CHECKING:
    from PySide6.QtCore import QMimeData

    from payviz.engine.trace import Record

    from .har_dialog import HostMapDialog
    from .main_window import MainWindow
    from .notice import Notice

OPENABLE: Final = (".jsonl", ".json", ".har")
# File > Export's text formats, in the order of `exports.TEXT_FORMATS` (a test holds them
# equal): the menu is built without loading the exporters.
TEXT_LABELS: Final = {
    "mermaid": "&Mermaid",
    "plantuml": "&PlantUML",
    "har": "&HAR",
    "jsonl": "&JSONL trace",
}
IMAGE_EXPORTS: Final = {
    "diagram-svg": "&Diagram as SVG",
    "diagram-png": "Diagram as P&NG (2x)",
    "sequence-svg": "&Sequence as SVG",
    "sequence-png": "Se&quence as PNG (2x)",
}
FILTERS: Final = "Traces, sessions and HAR files (*.jsonl *.json *.har);;All files (*)"


class FileMenu(QObject):
    """Fills the window's File menu and carries out its commands.

    Signals:
        file_opened(str): a file was read and is shown (its path).

    Attributes:
        path: the session file last opened or saved (None: not saved yet); Save writes it.
        recent: File > Open recent; export_menu: the Export submenu.
        notice: the last notice shown (None before any).
        host_dialog: the HAR host-map dialog while it is open.
    """

    file_opened = Signal(str)

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.notice: Notice | None = None
        self.host_dialog: HostMapDialog | None = None
        self.open_action = self._add(
            menu, "&Open\u2026", QKeySequence.StandardKey.Open, self._on_open_triggered
        )
        self.recent = RecentFiles(window.settings, menu.addMenu("Open &recent"))
        self.recent.file_chosen.connect(lambda name: self.open_path(Path(name)))
        self.recent.file_missing.connect(self._on_recent_missing)
        menu.addSeparator()
        self.save_action = self._add(
            menu, "&Save session", QKeySequence.StandardKey.Save, self._on_save_triggered
        )
        self.save_as_action = self._add(
            menu,
            "Save session &as\u2026",
            QKeySequence.StandardKey.SaveAs,
            self._on_save_as_triggered,
        )
        self.export_menu = menu.addMenu("&Export")
        for fmt in TEXT_LABELS:
            self._add(
                self.export_menu,
                f"{TEXT_LABELS[fmt]}\u2026",
                None,
                partial(self._on_export_triggered, fmt),
            )
        self.export_menu.addSeparator()
        for kind, label in IMAGE_EXPORTS.items():
            self._add(
                self.export_menu, f"{label}\u2026", None, partial(self._on_export_triggered, kind)
            )
        menu.addSeparator()

    def _add(
        self, menu: QMenu, text: str, key: QKeySequence.StandardKey | None, slot: Any
    ) -> QAction:
        action = menu.addAction(text)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        return action

    def set_busy(self, busy: bool) -> None:
        """While a checkout runs, its trace is incomplete: no saving half of it."""
        self.save_action.setEnabled(not busy)
        self.save_as_action.setEnabled(not busy)

    # -- opening ---------------------------------------------------------------------------

    def _on_open_triggered(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(
            self.window, "Open a trace, session or HAR", self._folder(), FILTERS
        )
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> bool:
        """Open a trace, a saved session or a HAR; False if nothing could be shown.

        A HAR whose hosts need parties opens the host-map dialog first and is shown when the
        dialog is accepted (True is returned at once).
        """
        from payviz.diagrams import lazy_trace
        from payviz.diagrams.exports import looks_like_har
        from payviz.diagrams.session_file import open_session
        from payviz.diagrams.trace_io import TraceFormatError, describe_skipped

        if looks_like_har(path):
            return self._open_har(path)
        try:
            if path.stat().st_size >= lazy_trace.LAZY_FROM_BYTES:
                return self._open_lazily(path)
            session = open_session(path)
        except (TraceFormatError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            self._warn("Cannot open file", f"{path.name} was not opened: {reason}.")
            return False
        self.window.show_records(
            session.records,
            keylog=session.keylog,
            started=session.started,
            scenarios=session.scenarios,
            source=path,
        )
        self.path = path
        self._opened(
            path,
            len(session.messages),
            describe_skipped(session.skipped) if session.skipped else "",
        )
        return True

    def _open_lazily(self, path: Path) -> bool:
        """A long file: the log reads it as it reads any (one pass, no message decoded)
        and the other views read what they show (see `payviz.diagrams.lazy_trace`)."""
        from payviz.diagrams.lazy_trace import open_lazily
        from payviz.diagrams.trace_io import describe_skipped

        opened = open_lazily(path)
        self.window.show_opened(opened)
        self.path = path
        skipped = describe_skipped(opened.skipped) if opened.skipped else ""
        self._opened(path, len(opened.messages), skipped)
        return True

    def _open_har(self, path: Path) -> bool:
        from payviz.diagrams.har import HarFormatError, from_har

        from .har_dialog import HostMapDialog

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            hosts = from_har(data).hosts
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            if isinstance(exc, HarFormatError | json.JSONDecodeError):
                reason = f"not a HAR file ({exc})"
            self._warn("Cannot open file", f"{path.name} was not opened: {reason}.")
            return False
        if not hosts:  # a HAR payviz wrote carries every party itself
            return self._show_har(path, data, {})
        dialog = HostMapDialog(hosts, path.name, self.window)
        dialog.accepted.connect(lambda: self._show_har(path, data, dialog.host_map()))
        dialog.finished.connect(dialog.deleteLater)
        self.host_dialog = dialog
        dialog.open()
        return True

    def _show_har(self, path: Path, data: Any, host_map: dict[str, str]) -> bool:
        from payviz.diagrams.har import from_har
        from payviz.diagrams.trace_io import describe_skipped

        self.host_dialog = None
        imported = from_har(data, host_map)
        problems = []
        if imported.skipped:
            problems.append(describe_skipped(imported.skipped, "entry"))
        if imported.skipped_other:
            problems.append(describe_skipped(imported.skipped_other, "kept message"))
        self.window.show_records(
            imported.records, keylog={}, started=None, scenarios={}, source=path
        )
        self.path = None  # Save must not write JSON Lines over a HAR
        self._opened(path, len(imported.messages), "; ".join(problems))
        return True

    def _opened(self, path: Path, count: int, problems: str) -> None:
        self.recent.add(path)
        text = f"Opened {path.name}: {count} messages."
        if problems:
            text += f" Not everything was readable: {problems}."
            self._warn(
                "Opened in part", f"{path.name} opened with what could be read.\n\n{problems}."
            )
        self.window.statusBar().showMessage(text)
        self.file_opened.emit(str(path))

    def _warn(self, title: str, text: str) -> None:
        from .notice import Notice

        self.window.statusBar().showMessage(text.replace("\n\n", " "))
        self.notice = Notice(title, text, self.window)
        self.notice.open()

    # -- drag and drop ---------------------------------------------------------------------

    @staticmethod
    def dropped_file(mime: QMimeData) -> Path | None:
        """The first local .jsonl / .json / .har file among dropped URLs, if any."""
        from PySide6.QtCore import QUrl

        for url in mime.urls() if mime.hasUrls() else []:
            if isinstance(url, QUrl) and url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.suffix.lower() in OPENABLE:
                    return path
        return None

    def recent_files(self) -> list[str]:
        return self.recent.paths()

    def _on_recent_missing(self, name: str) -> None:
        self.window.statusBar().showMessage(f"{name} is no longer there; removed from the list.")

    def _folder(self) -> str:
        return self.recent.folder()

    # -- saving and exporting --------------------------------------------------------------

    def _on_save_triggered(self) -> None:
        if self.path is None:
            self._on_save_as_triggered()
        else:
            self.save_to(self.path)

    def _on_save_as_triggered(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        suggested = str(Path(self._folder()) / "session.jsonl")
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Save session", suggested, "payviz session (*.jsonl)"
        )
        if name:
            path = Path(name)
            self.save_to(path if path.suffix else path.with_suffix(".jsonl"))

    def save_to(self, path: Path) -> bool:
        """Write the shown trace, its scenarios and its key log as a session file."""
        from payviz.diagrams.session_file import save_session

        window = self.window
        try:
            save_session(
                path,
                window.shown_records,
                window.scenarios,
                keylog=window.keylog,
                started=window.started_at,
            )
        except OSError as exc:
            self._warn("Not saved", f"{path.name} could not be written: {exc.strerror or exc}.")
            return False
        self.path = path
        self.recent.add(path)
        window.setWindowTitle(f"payviz \u2014 {path.name}")
        window.statusBar().showMessage(f"Saved the session to {path}.")
        return True

    def _on_export_triggered(self, kind: str) -> None:
        from PySide6.QtWidgets import QFileDialog

        suffix = export_suffix(kind)
        suggested = str(Path(self._folder()) / f"{kind.split('-')[0]}{suffix}")
        name, _ = QFileDialog.getSaveFileName(self.window, "Export", suggested, f"*{suffix}")
        if name:
            path = Path(name)
            self.export_to(kind, path if path.suffix else path.with_suffix(suffix))

    def export_to(self, kind: str, path: Path) -> bool:
        """Export the shown trace: a text format of `TEXT_FORMATS` or an image of
        `IMAGE_EXPORTS` (the diagram as it stands, or the whole sequence)."""
        from payviz.diagrams.exports import TEXT_FORMATS, render

        from .render import save_png, write_scene_svg, write_sequence_svg

        window = self.window
        shown = ""
        try:
            text_format = next((fmt for fmt in TEXT_FORMATS if fmt == kind), None)
            if text_format is not None:
                # Read here, for text only: a long file's records are read again from it.
                records: list[Record] = list(window.shown_records)
                path.write_text(render(text_format, records, window.scenarios), encoding="utf-8")
            elif kind == "diagram-png":
                save_png(window.diagram.render_to_image(2.0), path)
            elif kind == "diagram-svg":
                scene = window.diagram.diagram_scene
                write_scene_svg(scene, path, scene.theme.background)
            elif kind in ("sequence-png", "sequence-svg"):
                sequence = window.sequence
                if kind == "sequence-png":
                    save_png(sequence.render_to_image(2.0), path)
                else:
                    write_sequence_svg(sequence.messages, path)
                drawn, length = sequence.drawn, window.player.length
                if len(drawn) < length:  # a long timeline: the window around the playhead
                    shown = f" (messages {drawn.start + 1:,}-{drawn.stop:,} of {length:,})"
            else:
                raise ValueError(f"unknown export {kind!r}")
        except OSError as exc:
            self._warn("Not exported", f"{path.name} could not be written: {exc.strerror or exc}.")
            return False
        window.statusBar().showMessage(f"Exported {path}{shown}.")
        return True


def export_suffix(kind: str) -> str:
    """The file suffix of an export: a text format's (".mmd", ...) or an image's (".svg")."""
    if kind in IMAGE_EXPORTS:
        return "." + kind.rsplit("-", 1)[1]
    from payviz.diagrams.exports import SUFFIXES

    return {str(fmt): suffix for fmt, suffix in SUFFIXES.items()}[kind]
