"""`payviz bench` and `payviz load`: their arguments and what they run."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import load_command
from .report import Figure, failed_figure, table, write_json


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much each figure measures: more is steadier, less is quicker."""

    engine_checkouts: int
    engine_rounds: int
    trace_checkouts: int
    startup_runs: int
    frames: int
    log_messages: int


QUICK = Sizes(40, 3, 150, 5, 150, 200_000)
FULL = Sizes(150, 5, 900, 11, 1000, 1_000_000)
FIGURES = ("engine", "trace", "ui")


def add_parsers(sub: Any) -> None:
    bench = sub.add_parser("bench", help="measure payviz against the floor of what it does")
    bench.add_argument("--quick", action="store_true", help="fewer rounds (under 2 minutes)")
    bench.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    bench.add_argument("--only", action="append", choices=FIGURES, help="measure only these groups")
    load_command.add_parser(sub)


def measure(groups: tuple[str, ...], sizes: Sizes) -> list[Figure]:
    from .engine import run_engine
    from .trace_write import measure_trace_write
    from .ui import run_ui

    figures: list[Figure] = []
    if "engine" in groups:
        try:
            figures += run_engine(sizes.engine_checkouts, sizes.engine_rounds)
        except Exception as exc:  # a broken engine is a figure that failed, not a crash
            figures.append(failed_figure("engine.inprocess", "checkouts/s", "", repr(exc)))
    if "ui" in groups:
        figures += run_ui(sizes.startup_runs, sizes.frames, sizes.log_messages)
    if "trace" in groups:
        try:
            figures.append(measure_trace_write(sizes.trace_checkouts))
        except Exception as exc:
            figures.append(failed_figure("trace.write", "% of run time", "<= 10 %", repr(exc)))
    return figures


def bench_command(args: argparse.Namespace, sizes: Sizes | None = None) -> int:
    """Measure, print the table, write the JSON; 0 whether targets hold or not."""
    groups = tuple(args.only or FIGURES)
    sizes = sizes or (QUICK if args.quick else FULL)
    started = time.perf_counter()
    print(
        f"payviz bench{' --quick' if args.quick else ''}: measuring {', '.join(groups)} ...",
        file=sys.stderr,
        flush=True,
    )
    figures = measure(groups, sizes)
    print(table(figures), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.json is not None:
        write_json(figures, args.json)
    return 0


def command(args: argparse.Namespace, fail: Callable[[str], Exception]) -> int:
    if args.command == "bench":
        return bench_command(args)
    return load_command.load_command(args, fail)
