"""Start-up: what the main window loads before it is first painted.

Measured in a fresh interpreter, as `payviz.ui.startup_probe` starts it, so what this test
process has imported already does not hide what the window pulls in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Imported before the first paint, any of these costs the user tens to hundreds of
# milliseconds of a blank screen: the engine and its services load after the paint.
HEAVY = (
    "networkx",
    "pydantic",
    "fastapi",
    "httpx",
    "cryptography",
    "joserfc",
    "asyncio",
    "payviz.engine.session",
    "payviz.engine.scenario",
    "payviz.diagrams.inspect",
    "payviz.diagrams.exports",
    # The trace's types and readers come with the first records or file.
    "payviz.engine.trace",
    "payviz.diagrams.log_rows",
    "orjson",
    "PySide6.QtSvg",
)

FIRST_PAINT = """
import json, os, sys, tempfile
from pathlib import Path
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(["payviz-test"])
from payviz.ui.app import create_application
from payviz.ui.main_window import MainWindow
create_application([])
folder = tempfile.mkdtemp()
settings = QSettings(str(Path(folder) / "test.ini"), QSettings.Format.IniFormat)
window = MainWindow(settings=settings)
seen = {}

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if (
            not seen
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and watched.window() is window
        ):
            seen["modules"] = sorted(sys.modules)
            seen["engine_started"] = window.bridge.started
            QTimer.singleShot(0, app.quit)
        return False

probe = FirstPaint()
app.installEventFilter(probe)
window.resize(1280, 800)
window.show()
QTimer.singleShot(30_000, app.quit)
app.exec()
app.removeEventFilter(probe)
window.bridge.shutdown()
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def at_first_paint() -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen, "the window was never painted"
    return seen


def test_the_first_paint_loads_no_engine_service_nor_heavy_library(
    at_first_paint: dict[str, Any],
) -> None:
    modules: list[str] = at_first_paint["modules"]
    loaded = [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]
    assert loaded == []


def test_the_engine_starts_after_the_first_paint(at_first_paint: dict[str, Any]) -> None:
    assert at_first_paint["engine_started"] is False


def _probe(*args: str) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "payviz.ui.startup_probe", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_the_probe_reports_the_qt_classes_the_window_made_and_the_floor_window_makes_them(
    tmp_path: Path,
) -> None:
    report = _probe("--report")
    made = {tuple(pair) for pair in report["types"]}
    # The window's own classes and the Qt namespace it names; nothing it makes later.
    assert {("PySide6.QtWidgets", "QMainWindow"), ("PySide6.QtCore", "Qt")} <= made
    assert ("PySide6.QtSvg", "QSvgRenderer") not in made  # the app icon comes after the paint
    assert report["window"] == "payviz"
    assert report["rebuild_ms"] > 0
    assert report["window_ms"] > 0
    listing = tmp_path / "types.json"
    listing.write_text(json.dumps(report["types"]), encoding="utf-8")
    floor = _probe("--types", str(listing))
    assert floor["window"] == "types"
    assert floor["painted_at"] > 0


def test_the_types_floor_refuses_a_class_pyside6_does_not_have(tmp_path: Path) -> None:
    listing = tmp_path / "types.json"
    listing.write_text(json.dumps([["PySide6.QtWidgets", "QNoSuchWidget"]]), encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError):
        _probe("--types", str(listing))
