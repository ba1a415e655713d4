"""The desktop app's entry point, and `--snapshot` for screenshots without a display.

`payviz` (no subcommand) calls `main(argv)` with the arguments after the program name;
`payviz TRACE_FILE` opens a trace, a saved session or a HAR at start.
`--snapshot FILE.png` runs one checkout, moves the playhead to the last message of a step,
renders the whole window to a PNG (fine under QT_QPA_PLATFORM=offscreen) and exits;
`--panel sequence` shows the sequence view instead of the log in it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from payviz.engine._types import DECISIONS, MODES, NOTIFY_BY_MODE

from .main_window import APPLICATION, ORGANIZATION, MainWindow
from .window_view import BASE_POINT_SIZE

SNAPSHOT_SIZE = (1600, 1000)
SNAPSHOT_TIMEOUT_MS = 60_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payviz", description="payviz desktop app")
    parser.add_argument("path", nargs="?", type=Path, help="a trace, saved session or HAR to open")
    parser.add_argument("--snapshot", type=Path, metavar="FILE.png", help="render and exit")
    parser.add_argument("--mode", choices=MODES, default="direct")
    parser.add_argument("--decision", choices=DECISIONS)
    all_notify = sorted({n for styles in NOTIFY_BY_MODE.values() for n in styles})
    parser.add_argument("--notify", choices=all_notify)
    parser.add_argument("--step", type=int, help="show the last message of this step")
    parser.add_argument("--panel", choices=("log", "sequence"), default="log")
    return parser


def create_application(argv: list[str]) -> QApplication:
    """The QApplication (reused if one exists), named so QSettings has a home."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["payviz", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("payviz")  # its icon: set by the window once it is shown
    font = app.font()
    font.setPointSizeF(max(BASE_POINT_SIZE, font.pointSizeF()))
    app.setFont(font)
    return app


def snapshot(window: MainWindow, args: argparse.Namespace) -> int:
    """Run one checkout, show the chosen step, save the window as a PNG; 0 on success."""
    window.diagram.set_animations_enabled(False)
    controls = window.run_controls
    controls.set_mode(args.mode)
    if args.notify is not None:
        controls.set_choice(controls.notify_box, args.notify)
    controls.set_choice(controls.decision_box, args.decision)
    fields = {**controls.scenario_fields(), "notify": args.notify, "decision": args.decision}
    window.resize(*SNAPSHOT_SIZE)
    window.docks[args.panel].raise_()
    window.show()
    from PySide6.QtCore import QEventLoop  # snapshots only: the window's start never needs it

    outcome: list[str | None] = []
    loop = QEventLoop()

    def finish(error: str | None) -> None:
        outcome.append(error)
        loop.quit()

    window.bridge.checkout_finished.connect(lambda _result: finish(None))
    window.bridge.checkout_failed.connect(finish)
    QTimer.singleShot(SNAPSHOT_TIMEOUT_MS, loop.quit)
    if window.bridge.run_checkout(fields):
        loop.exec()
    error = outcome[0] if outcome else "the checkout did not finish in time"
    if error is not None:
        print(f"payviz: error: {error}", file=sys.stderr)
        window.close()
        return 2
    window.player.pause()
    window.go_to_step(args.step)
    window.inspector.select_telling_tab()
    QApplication.processEvents()
    args.snapshot.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(args.snapshot))
    window.close()
    if not saved:
        print(f"payviz: error: could not write {args.snapshot}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Open the window (or render a snapshot); returns the process exit status."""
    args = build_parser().parse_args(argv)
    app = create_application(argv)
    if args.snapshot is not None:
        # A snapshot neither reads nor writes the user's settings: same picture every time.
        with tempfile.TemporaryDirectory() as folder:
            settings = QSettings(str(Path(folder) / "snapshot.ini"), QSettings.Format.IniFormat)
            window = MainWindow(settings=settings)
            return snapshot(window, args)
    window = MainWindow()
    app.aboutToQuit.connect(window.bridge.shutdown)
    window.show()
    if args.path is not None:
        window.file_menu.open_path(args.path)
    return app.exec()
