"""`payviz chaos`: randomized scenarios with faults, and the invariants after each run."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from .engine.chaos import ChaosRun, chaos


def add_chaos_parser(sub: Any) -> None:
    parser = sub.add_parser("chaos", help="run randomized faulty checkouts, check invariants")
    parser.add_argument("--runs", type=int, default=100, help="how many checkouts")
    parser.add_argument("--seed", type=int, default=1, help="first seed; run i uses seed + i")


def _bar(done: int, total: int, broken: int, width: int = 30) -> str:
    filled = width * done // total
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs, {broken} broken"


def chaos_command(args: argparse.Namespace) -> int:
    from .cli import UsageError

    if not 1 <= args.runs <= 1_000_000:
        raise UsageError("--runs must be between 1 and 1000000")
    broken = 0
    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(done: int, run: ChaosRun) -> None:
        nonlocal broken
        broken += bool(run.violations)
        if tty or done == args.runs or done % max(1, args.runs // 20) == 0:
            end = "\n" if done == args.runs else ""
            print(_bar(done, args.runs, broken), end=end, file=sys.stderr, flush=True)

    report = asyncio.run(chaos(args.runs, args.seed, progress))
    elapsed = time.perf_counter() - started
    for run in report.violations:
        faults = ",".join(run.scenario.faults) or "none"
        print(f"seed {run.seed}: {run.scenario.mode}, faults {faults}, order {run.order_status}")
        for violation in run.violations:
            print(f"  {violation}")
    paid = sum(run.order_status == "paid" for run in report.runs)
    print(
        f"chaos: {len(report.runs)} runs in {elapsed:.1f} s ({len(report.runs) / elapsed:.0f}/s), "
        f"{paid} paid, {len(report.violations)} with invariant violations"
    )
    return 1 if report.violations else 0
