"""Start-up probe: build the app's main window (or a floor window), quit on first paint.

`python -m payviz.ui.startup_probe [--bare | --types FILE | --report]` prints one JSON line,
{"painted_at": <time.monotonic() at the first Paint event>, "window": ...}, then quits.
`payviz bench` starts it as a fresh process and subtracts its own clock reading taken just
before the start, so the figure covers interpreter start, imports, the window's
construction and its first paint. The main window's settings go to a throw-away file.

- no flag: payviz's main window.
- `--bare`: a bare QMainWindow, the floor the target is set against.
- `--types FILE`: the bare window after making the PySide6 classes listed in FILE, with a
  line of text: the part of the app's start that is Qt's Python binding and its fonts.
Every line also gives "window_ms", from the window's construction to its first paint
(payviz's modules, and the PySide6 classes they name, are imported before it).
- `--report`: payviz's window, then, with everything loaded, the PySide6 classes it made
  ("types") and the time a second main window takes from construction to its first paint
  ("rebuild_ms"): what building and painting the window costs once nothing is left to load.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

TIMEOUT_MS = 30_000


class FirstPaint(QObject):
    """Notes the window's first Paint event, then quits the app.

    Qt paints a window from its top-level widget down, so the window's own Paint event
    opens its first paint. The filter sits on the window alone: an application-wide filter
    would call into Python for every event of every widget (thousands in the app's window,
    dozens in the bare one) and charge the probe's own cost to the window it measures.

    Attributes:
        painted_at: time.monotonic() at that event, or None.
        types: with `list_types`, the PySide6 classes made by then (see `_realized_types`).
    """

    def __init__(self, window: QWidget, list_types: bool = False) -> None:
        super().__init__()
        self.window = window
        self.painted_at: float | None = None
        self.list_types = list_types
        self.types: list[tuple[str, str]] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.painted_at is None and event.type() == QEvent.Type.Paint:
            self.painted_at = time.monotonic()
            if self.list_types:  # after the reading: listing them costs the figure nothing
                self.types = _realized_types()
            QTimer.singleShot(0, QApplication.quit)
        return False


def _painted(
    window: QMainWindow, app: QApplication, list_types: bool = False
) -> tuple[float | None, list[tuple[str, str]]]:
    """Show the window and run the event loop until its first paint: that paint's time,
    and with `list_types` the PySide6 classes made by then."""
    probe = FirstPaint(window, list_types)
    window.installEventFilter(probe)
    window.resize(1280, 800)
    window.show()
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(app.quit)
    timeout.start(TIMEOUT_MS)
    app.exec()
    timeout.stop()
    window.removeEventFilter(probe)
    return probe.painted_at, probe.types


def _make_types(listing: Path) -> None:
    """Make the PySide6 classes listed (module and class name, as `--report` gives them).
    Imported here, not above: the bare window must not pay for importlib."""
    import importlib

    for module, name in json.loads(listing.read_text(encoding="utf-8")):
        getattr(importlib.import_module(module), name)


def _types_floor_window() -> QMainWindow:
    """The bare window with a line of text in it: with `_make_types` before it, what Qt's
    Python binding and its fonts cost the app before any of payviz's own code runs."""
    from PySide6.QtWidgets import QLabel

    window = QMainWindow()
    window.setWindowTitle("types")
    window.setCentralWidget(QLabel("payviz: see how an online card payment really works"))
    return window


def _realized_types() -> list[tuple[str, str]]:
    """The PySide6 classes made so far (PySide6 makes a class when Python first needs it)."""
    return sorted(
        (name, key)
        for name, module in list(sys.modules.items())
        if name.startswith("PySide6.Qt")
        for key, value in list(vars(module).items())
        if isinstance(value, type)
    )


def _close(window: QMainWindow) -> None:
    bridge = getattr(window, "bridge", None)
    if bridge is not None:
        bridge.shutdown()
    window.close()


def main(argv: list[str]) -> int:
    bare = "--bare" in argv
    types = Path(argv[argv.index("--types") + 1]) if "--types" in argv else None
    report = "--report" in argv
    app = QApplication(["payviz-startup-probe"])
    result: dict[str, object] = {"window": "bare" if bare else "types" if types else "payviz"}
    if types is not None:
        _make_types(types)
    elif not bare:
        from .app import create_application
        from .main_window import MainWindow
    with tempfile.TemporaryDirectory() as folder:
        building = time.monotonic()
        if bare:
            window: QMainWindow = QMainWindow()
            window.setWindowTitle("bare")
            window.setCentralWidget(QWidget())
        elif types is not None:
            window = _types_floor_window()
        else:
            create_application([])
            settings = QSettings(str(Path(folder) / "probe.ini"), QSettings.Format.IniFormat)
            window = MainWindow(settings=settings)
        listing = report and not bare and types is None
        painted_at, made = _painted(window, app, listing)
        if painted_at is not None and listing:
            result["types"] = made
            _close(window)
            # Gone, with what it had queued for after its paint (engine, hidden panels).
            window.deleteLater()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            # Everything is loaded now: a second window costs only its building and painting.
            started = time.monotonic()
            settings = QSettings(str(Path(folder) / "again.ini"), QSettings.Format.IniFormat)
            again = MainWindow(settings=settings)
            again_painted, _ = _painted(again, app)
            _close(again)
            if again_painted is not None:
                result["rebuild_ms"] = (again_painted - started) * 1000
        else:
            _close(window)
    if painted_at is None:
        print(json.dumps({"error": "the window was never painted"}), flush=True)
        return 1
    result["window_ms"] = (painted_at - building) * 1000  # from its construction to its paint
    print(json.dumps({"painted_at": painted_at, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
