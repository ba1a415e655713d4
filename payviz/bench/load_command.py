"""`payviz load`: many concurrent checkouts, a progress bar, then a table of how it went."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from payviz.diagrams.load_stats import hop_latencies, percentile
from payviz.engine._types import MODES
from payviz.engine.load import LoadMonitor, LoadPlan, LoadResult, MixError, parse_mix, run_load

from .progress import ProgressBar

TRANSPORT_NAMES = {"inprocess": "in-process (ASGI)", "loopback": "loopback HTTPS"}


def add_parser(sub: Any) -> None:
    """Add `payviz load` to the CLI's subcommands."""
    load = sub.add_parser("load", help="run many checkouts at once and report latency per hop")
    load.add_argument("-n", type=int, default=200, help="checkouts to run (default 200)")
    load.add_argument("--concurrency", "-c", type=int, default=10, help="at once (default 10)")
    load.add_argument(
        "--mix", default="approve=0.8,decline=0.2", help="decision=share,... (bank outcomes)"
    )
    load.add_argument("--mode", choices=MODES, default="direct")
    load.add_argument("--transport", choices=("inprocess", "loopback"), default="inprocess")
    load.add_argument("--seed", type=int, default=0, help="seed of the mix's draw")


def plan_from_args(args: argparse.Namespace, fail: Callable[[str], Exception]) -> LoadPlan:
    if not 1 <= args.n <= 1_000_000:
        raise fail("-n must be between 1 and 1000000")
    if not 1 <= args.concurrency <= 1000:
        raise fail("--concurrency must be between 1 and 1000")
    try:
        mix = parse_mix(args.mix)
    except MixError as exc:
        raise fail(f"--mix: {exc}") from None
    return LoadPlan(
        count=args.n,
        concurrency=args.concurrency,
        mix=mix,
        mode=args.mode,
        transport=args.transport,
        seed=args.seed,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(result: LoadResult) -> list[str]:
    """The final table, as lines."""
    plan = result.plan
    paid = sum(1 for r in result.results if r.order_status == "paid")
    failed = len(result.results) - paid
    lines = [
        f"throughput      {result.throughput:.1f} checkouts/s"
        f" ({len(result.finished)} in {result.elapsed:.2f} s, {result.records} trace records)",
        f"approval rate   {result.approval_rate:.1%}"
        f" ({paid} paid, {failed} failed, {len(result.errors)} errors)",
    ]
    if result.durations:
        d = result.durations
        lines.append(
            "checkout time   p50 "
            + f"{percentile(d, 50) * 1000:.1f} ms, p95 {percentile(d, 95) * 1000:.1f} ms,"
            + f" p99 {percentile(d, 99) * 1000:.1f} ms (end to end, wall clock)"
        )
    if result.violations:
        lines.append(f"invariants      {len(result.violations)} VIOLATED")
        lines += [f"  - {v}" for v in result.violations[:20]]
    else:
        lines.append("invariants      all hold (money conserved, captures approved once,")
        lines.append("                orders resolved, no orphaned holds)")
    lines += [f"  error: {e}" for e in result.errors[:5]]
    lines.append("")
    lines.append(
        f"{'hop (requester->responder)':<28}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'failed':>8}"
    )
    for hop in hop_latencies(result.hops):
        lines.append(
            f"{hop.name:<28}{hop.count:>7}{_ms(hop.p50):>9}{_ms(hop.p95):>9}{_ms(hop.p99):>9}"
            f"{hop.failed:>8}"
        )
    lines.append("")
    lines.append(
        f"{plan.count} {plan.mode} checkouts, {plan.concurrency} at a time,"
        f" {TRANSPORT_NAMES[plan.transport]}; mix "
        + ", ".join(f"{d}={share:.2f}" for d, share in plan.mix)
    )
    return lines


def load_command(args: argparse.Namespace, fail: Callable[[str], Exception]) -> int:
    """Run the load; 0 when every checkout ran and every invariant holds, else 1."""
    plan = plan_from_args(args, fail)
    bar = ProgressBar(plan.count, "checkouts")
    monitor = LoadMonitor(plan.count)
    result = asyncio.run(run_load(plan, monitor, lambda m: bar.update(m.done)))
    bar.finish(monitor.done)
    for line in report(result):
        print(line, flush=True)
    return 0 if not result.violations and not result.errors else 1
