"""Load runs: many checkouts at once in one Session, timed hop by hop on the wall clock.

The checkouts share one World, as customers share a shop: `concurrency` workers each run
checkouts one after another with `asyncio.gather`. Every exchange on the wire is timed from
the moment its request is recorded to the moment its answer is (a trace listener, so the
cost is one `perf_counter` per record); a `LoadMonitor` holds those samples where another
thread (the desktop app's dialog) can read them while the run goes on.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._types import DECISIONS, Decision, Mode, Party
from .actors.bank import POOR_CARD
from .clock import Clock
from .invariants import Violation, check
from .network import Transport
from .scenario import Scenario
from .session import CheckoutResult, Session
from .timelines import TimelineClock
from .trace import Message, Record
from .world import World

DEFAULT_MIX: tuple[tuple[Decision, float], ...] = (("approve", 0.8), ("decline", 0.2))
Link = tuple[Party, Party]


class MixError(ValueError):
    """A --mix that payviz cannot use, with a message a person can act on."""


def parse_mix(text: str) -> tuple[tuple[Decision, float], ...]:
    """`approve=0.8,decline=0.2` as (decision, share) pairs whose shares sum to 1."""
    known: dict[str, Decision] = {d: d for d in DECISIONS}
    pairs: list[tuple[Decision, float]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        decision = known.get(name.strip())
        if decision is None:
            raise MixError(f"unknown decision {name.strip()!r} (known: {', '.join(DECISIONS)})")
        try:
            share = float(weight) if weight else 1.0
        except ValueError:
            raise MixError(f"{name}: the share must be a number, got {weight!r}") from None
        if share < 0:
            raise MixError(f"{name}: the share must not be negative")
        pairs.append((decision, share))
    total = sum(share for _, share in pairs)
    if not pairs or total <= 0:
        raise MixError("the mix needs at least one decision with a positive share")
    return tuple((decision, share / total) for decision, share in pairs)


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to run: how many checkouts, how many at once, which outcomes and where."""

    count: int
    concurrency: int = 10
    mix: tuple[tuple[Decision, float], ...] = DEFAULT_MIX
    mode: Mode = "direct"
    transport: Transport = "inprocess"
    amount_minor: int = 1999
    seed: int = 0

    def decisions(self) -> list[Decision]:
        """The decision of every checkout, drawn from the mix (the same for the same seed)."""
        names = [decision for decision, _ in self.mix]
        weights = [share for _, share in self.mix]
        return random.Random(self.seed).choices(names, weights, k=self.count)


@dataclass(frozen=True, slots=True)
class HopSample:
    """One exchange on one link, timed on the wall clock (seconds since the run began)."""

    link: Link
    started: float
    seconds: float
    failed: bool


@dataclass
class LoadMonitor:
    """The live state of a load run; safe to read from another thread while it runs.

    Attributes:
        total: checkouts planned; done: checkouts finished (any outcome).
        hops: every timed exchange so far; finished: when each checkout ended (seconds
            since the start); durations: how long each took end to end; approved: how many
            ended paid; errors: checkouts that raised.
    """

    total: int
    done: int = 0
    approved: int = 0
    errors: int = 0
    started: float = field(default_factory=time.perf_counter)
    hops: list[HopSample] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    link_counts: dict[Link, int] = field(default_factory=dict)
    _open: dict[int, tuple[Link, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def on_record(self, record: Record) -> None:
        """Trace listener: open a timer on a request, close it on its answer."""
        if not isinstance(record, Message) or record.protocol == "email":
            return
        now = time.perf_counter() - self.started
        if record.direction == "request":
            link = (record.src, record.dst)
            self._open[record.exchange] = (link, now)
            with self._lock:
                self.link_counts[link] = self.link_counts.get(link, 0) + 1
            return
        opened = self._open.pop(record.exchange, None)
        if opened is not None:
            link, began = opened
            self.hops.append(HopSample(link, began, now - began, record.failed))

    def checkout_done(self, result: CheckoutResult | None, seconds: float) -> None:
        self.finished.append(self.elapsed())
        self.durations.append(seconds)
        self.done += 1
        if result is None:
            self.errors += 1
        elif result.order_status == "paid":
            self.approved += 1

    def snapshot_links(self) -> dict[Link, int]:
        with self._lock:
            return dict(self.link_counts)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A finished load run: outcomes, wall time, timed hops and the invariants' verdict."""

    plan: LoadPlan
    results: tuple[CheckoutResult, ...]
    errors: tuple[str, ...]
    elapsed: float
    hops: tuple[HopSample, ...]
    finished: tuple[float, ...]
    durations: tuple[float, ...]
    link_counts: dict[Link, int]
    violations: tuple[Violation, ...]
    records: int

    @property
    def throughput(self) -> float:
        """Checkouts per second of wall time."""
        return len(self.finished) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def approval_rate(self) -> float:
        paid = sum(1 for r in self.results if r.order_status == "paid")
        return paid / self.plan.count if self.plan.count else 0.0


def prepare_world(world: World, plan: LoadPlan) -> None:
    """Many customers share the test cards: fund them for the whole run and let the fraud
    velocity rule see them as the many people they stand for."""
    world.processor.velocity_limit = max(world.processor.velocity_limit, plan.count + 1)
    need = plan.count * plan.amount_minor
    for pan, account in world.bank.accounts.items():
        if pan != POOR_CARD:  # that card's point is to have no money
            account.balance_minor = max(account.balance_minor, need)


def clock_for(transport: Transport) -> Clock | None:
    """The session's clock: over real sockets, virtual time kept per checkout (see
    `timelines`); in-process, the session's default."""
    return TimelineClock() if transport == "loopback" else None


Progress = Callable[[LoadMonitor], None]


async def run_load(
    plan: LoadPlan, monitor: LoadMonitor | None = None, on_progress: Progress | None = None
) -> LoadResult:
    """Run `plan.count` checkouts, `plan.concurrency` at a time, and check the invariants."""
    if plan.count < 1 or plan.concurrency < 1:
        raise ValueError("a load run needs at least one checkout and one worker")
    monitor = monitor or LoadMonitor(plan.count)
    session = Session(transport=plan.transport, clock=clock_for(plan.transport), seed=plan.seed)
    session.trace.subscribe(monitor.on_record)
    await session.start()
    try:
        prepare_world(session.world, plan)
        decisions = iter(enumerate(plan.decisions()))
        results: list[CheckoutResult] = []
        errors: list[str] = []
        monitor.started = time.perf_counter()

        async def worker() -> None:
            for _, decision in decisions:
                scenario = Scenario(
                    mode=plan.mode, decision=decision, amount_minor=plan.amount_minor
                )
                result: CheckoutResult | None = None
                began = time.perf_counter()
                try:
                    result = await session.run_checkout(scenario)
                    results.append(result)
                except Exception as exc:  # one broken checkout must not stop the run
                    errors.append(f"{exc.__class__.__name__}: {exc}")
                monitor.checkout_done(result, time.perf_counter() - began)
                if on_progress is not None:
                    on_progress(monitor)

        await asyncio.gather(*(worker() for _ in range(min(plan.concurrency, plan.count))))
        await session.world.settle()
        elapsed = monitor.elapsed()
        violations = check(session.world)
        return LoadResult(
            plan=plan,
            results=tuple(sorted(results, key=lambda r: r.checkout)),
            errors=tuple(errors),
            elapsed=elapsed,
            hops=tuple(monitor.hops),
            finished=tuple(monitor.finished),
            durations=tuple(monitor.durations),
            link_counts=monitor.snapshot_links(),
            violations=tuple(violations),
            records=len(session.trace.records),
        )
    finally:
        await session.close()
