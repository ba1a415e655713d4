"""ui.startup, ui.frame and ui.log: the desktop app measured in fresh processes.

Each figure comes from a probe module of `payviz.ui` started as its own process under the
offscreen platform (`QT_QPA_PLATFORM=offscreen`), so this process never imports Qt and a
probe's memory and start-up are its own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .report import Figure, failed_figure

LOG_MESSAGES = 1_000_000
PROBE_TIMEOUT = 300


def _probe(module: str, *args: str) -> tuple[dict[str, Any], float]:
    """Run `python -m module args`; its JSON line and the monotonic time it was started."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=PROBE_TIMEOUT,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{module} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    data: dict[str, Any] = json.loads(lines[-1])
    if "error" in data:
        raise RuntimeError(f"{module}: {data['error']}")
    return data, started


def measure_startup(runs: int) -> Figure:
    """Process start to first painted main window, against a bare QMainWindow.

    Two more floors come from the same run, to tell Qt's share from payviz's: the bare
    window after making the PySide6 classes payviz's window makes (`types_floor_ms`), and
    that floor with its one-label window swapped for payviz's window as the app builds and
    paints it after its imports (`window_floor_ms`, from `window_ms`): what the start would
    take if payviz's modules imported in no time. `rebuild_ms` is a second main window
    built and painted once everything is loaded.
    """
    report, _ = _probe("payviz.ui.startup_probe", "--report")  # not timed
    times: dict[str, list[float]] = {"app": [], "bare": [], "types": []}
    windows: dict[str, list[float]] = {"app": [], "bare": [], "types": []}  # build to paint
    with tempfile.TemporaryDirectory(prefix="payviz-bench-") as folder:
        listing = Path(folder) / "types.json"
        listing.write_text(json.dumps(report["types"]), encoding="utf-8")
        flags = {"app": [], "bare": ["--bare"], "types": ["--types", str(listing)]}
        for _ in range(runs):  # alternate, so drift in the machine's load hits all three
            for kind, flag in flags.items():
                data, started = _probe("payviz.ui.startup_probe", *flag)
                times[kind].append(float(data["painted_at"]) - started)
                windows[kind].append(float(data["window_ms"]) / 1000)
    value, floor, types_floor = (statistics.median(times[k]) for k in ("app", "bare", "types"))
    window, types_window = (statistics.median(windows[k]) for k in ("app", "types"))
    # The types floor with its one-label window swapped for payviz's window, built and
    # painted with payviz's modules already imported: the start if they imported for free.
    window_floor = types_floor - types_window + window
    ratio = value / floor
    return Figure(
        "ui.startup",
        value * 1000,
        "ms",
        "<= 1.5x floor time",
        ratio,
        ratio <= 1.5,
        {
            "floor_ms": floor * 1000,
            "runs": runs,
            "best_ms": min(times["app"]) * 1000,
            "types_floor_ms": types_floor * 1000,
            "types_floor_ratio": types_floor / floor,
            "types": len(report["types"]),
            "window_ms": window * 1000,
            "rebuild_ms": float(report["rebuild_ms"]),
            "window_floor_ms": window_floor * 1000,
            "window_floor_ratio": window_floor / floor,
        },
    )


def measure_frame(tokens: int, frames: int) -> Figure:
    data, _ = _probe("payviz.ui.frame_probe", str(tokens), str(frames))
    p99 = float(data["p99_ms"])
    return Figure(
        "ui.frame",
        p99,
        "ms (p99)",
        "p99 <= 16 ms",
        None,
        p99 <= 16.0,
        {
            "p50_ms": float(data["p50_ms"]),
            "tokens": tokens,
            "frames": frames,
            "size": "x".join(str(v) for v in data["size"]),
        },
    )


def measure_log(messages: int) -> list[Figure]:
    """A 1,000,000-message trace file opened in the log. Measured on fewer messages, the
    times that grow with the trace (reading it, filtering its rows) are scaled to a
    million; painting the screenful of rows shown is not."""
    with tempfile.TemporaryDirectory(prefix="payviz-bench-") as folder:
        data, _ = _probe("payviz.ui.log_probe", str(messages), str(Path(folder) / "t.jsonl"))
    if not data.get("decoded_ok"):
        raise RuntimeError("the log probe's picked row did not decode to its message")
    if data.get("window_messages") != data.get("messages"):
        raise RuntimeError("the window's File -> Open did not show every message of the file")
    scale = LOG_MESSAGES / messages
    note = "" if scale == 1 else f"measured on {messages:,} messages, times scaled x{scale:g}"
    # Reading scales with the file; the view painting its first screenful does not.
    load = float(data["read_s"]) * scale + float(data["fill_s"])
    # Filtering is a pass over the rows and scales with them; painting the screenful of
    # rows kept does not.
    filtered = float(data["filter_s"]) * scale + float(data["filter_show_s"])
    per_message = float(data["bytes_per_message"])
    common = {"messages": LOG_MESSAGES, "measured_messages": messages}
    return [
        Figure(
            "ui.log.load",
            load,
            "s",
            "<= 3 s",
            None,
            load <= 3.0,
            {
                **common,
                "read_s": float(data["read_s"]) * scale,
                "show_s": float(data["fill_s"]),
                "worst_of_opens_s": float(data["worst_open_s"]) * scale,
                # The same file through the window's File -> Open (its log, player and
                # diagram; the window is not shown), once, on the messages measured.
                "window_open_s": float(data["window_open_s"]),
                "opens": data["opens"],
                "decode_row_ms": float(data["decode_row_ms"]),
            },
            note,
        ),
        Figure(
            "ui.log.filter",
            filtered * 1000,
            "ms",
            "<= 150 ms",
            None,
            filtered <= 0.150,
            {
                **common,
                "kept_rows": data["filter_kept"],
                "show_ms": float(data["filter_show_s"]) * 1000,
                "worst_of_filters_ms": float(data["worst_filter_s"]) * scale * 1000,
            },
            note,
        ),
        Figure(
            "ui.log.memory",
            per_message,
            "bytes/message",
            "<= 1024 bytes",
            None,
            per_message <= 1024,
            common,
        ),
    ]


def run_ui(startup_runs: int, frames: int, log_messages: int) -> list[Figure]:
    """The three UI groups; one that cannot be measured becomes a failed figure."""
    plan: list[tuple[str, str, str, Callable[[], list[Figure]]]] = [
        ("ui.startup", "ms", "<= 1.5x floor time", lambda: [measure_startup(startup_runs)]),
        ("ui.frame", "ms (p99)", "p99 <= 16 ms", lambda: [measure_frame(500, frames)]),
        ("ui.log", "s", "<= 3 s", lambda: measure_log(log_messages)),
    ]
    figures: list[Figure] = []
    for name, unit, target, measure in plan:
        try:
            figures += measure()
        except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError) as exc:
            figures.append(failed_figure(name, unit, target, str(exc)))
    return figures
