"""Start-up probe: build the app's main window (or a bare QMainWindow), quit on first paint.

`python -m payviz.ui.startup_probe [--bare]` prints one JSON line,
{"painted_at": <time.monotonic() at the first Paint event>, "window": "payviz" | "bare"},
then quits. `payviz bench` starts it as a fresh process and subtracts its own clock reading
taken just before the start, so the figure covers interpreter start, imports, the window's
construction and its first paint. The main window's settings go to a throw-away file.
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
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window = window
        self.painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.painted_at is None and event.type() == QEvent.Type.Paint:
            self.painted_at = time.monotonic()
            QTimer.singleShot(0, QApplication.quit)
        return False


def main(argv: list[str]) -> int:
    bare = "--bare" in argv
    app = QApplication(["payviz-startup-probe"])
    with tempfile.TemporaryDirectory() as folder:
        if bare:
            window: QMainWindow = QMainWindow()
            window.setWindowTitle("bare")
            window.setCentralWidget(QWidget())
        else:
            from .app import create_application
            from .main_window import MainWindow

            create_application([])
            settings = QSettings(str(Path(folder) / "probe.ini"), QSettings.Format.IniFormat)
            window = MainWindow(settings=settings)
        probe = FirstPaint(window)
        window.installEventFilter(probe)
        window.resize(1280, 800)
        window.show()
        QTimer.singleShot(TIMEOUT_MS, app.quit)
        app.exec()
        window.removeEventFilter(probe)
        bridge = getattr(window, "bridge", None)
        if bridge is not None:
            bridge.shutdown()
        window.close()
    if probe.painted_at is None:
        print(json.dumps({"error": "the window was never painted"}), flush=True)
        return 1
    print(json.dumps({"painted_at": probe.painted_at, "window": "bare" if bare else "payviz"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
