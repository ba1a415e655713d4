"""engine.inprocess and engine.loopback: full direct checkouts per second against the floor.

Checkouts run one after another in one Session on one event loop (one core): real JWE,
ISO 8583, Standard Webhooks HMAC, SQLite and capture of every message. The floor is the
same operations done bare (see `floor.py`), measured in the same run; rounds alternate
between the two and each keeps its best round, so a noisy neighbour hurts both alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from payviz.engine.load import LoadPlan, clock_for, prepare_world
from payviz.engine.network import Transport
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session

from .floor import (
    FRAMEWORK_BODY,
    FRAMEWORK_HEADERS,
    OperationCounts,
    asgi_client,
    framework_app,
    time_bare,
    time_round_trips,
)
from .https_floor import https_client
from .report import Figure

SCENARIO = Scenario(mode="direct", decision="approve")


@asynccontextmanager
async def _session(transport: Transport, checkouts: int) -> AsyncIterator[Session]:
    session = Session(transport=transport, clock=clock_for(transport))
    await session.start()
    prepare_world(session.world, LoadPlan(count=checkouts * 4))
    try:
        yield session
    finally:
        await session.close()


async def time_checkouts(session: Session, checkouts: int) -> float:
    """Seconds per direct checkout, run one after another."""
    started = time.perf_counter()
    for _ in range(checkouts):
        await session.run_checkout(SCENARIO)
    return (time.perf_counter() - started) / checkouts


async def count_operations(session: Session) -> OperationCounts:
    """What one direct checkout does, read from the trace of a real one."""
    result = await session.run_checkout(SCENARIO)
    return OperationCounts.from_messages(session.trace.messages(result.checkout))


async def measure_inprocess(checkouts: int, rounds: int) -> Figure:
    async with _session("inprocess", checkouts * rounds + 8) as session:
        counts = await count_operations(session)
        for _ in range(5):
            await session.run_checkout(SCENARIO)  # warm-up
        real, floor, framework = [], [], []
        async with asgi_client() as client, asgi_client(framework_app()) as fastapi_client:
            for _ in range(rounds):
                real.append(await time_checkouts(session, checkouts))
                floor.append(await time_bare(counts, checkouts, client))
                framework.append(
                    await time_bare(
                        counts,
                        checkouts,
                        fastapi_client,
                        body=FRAMEWORK_BODY,
                        headers=FRAMEWORK_HEADERS,
                    )
                )
    best, bare, with_framework = min(real), min(floor), min(framework)
    return _checkout_figure(
        "engine.inprocess",
        best,
        bare,
        1.5,
        {
            "floor_checkouts_per_s": 1 / bare,
            # The same floor with its round trips answered by a FastAPI endpoint (validated
            # JSON body, a header) instead of a bare ASGI app: the actors' framework alone.
            "framework_floor_ms_per_checkout": with_framework * 1000,
            "framework_ratio": with_framework / bare,
            "ratio_to_framework_floor": best / with_framework,
            "round_trips": counts.round_trips,
            "jwe": counts.jwe,
            "iso8583_messages": counts.iso,
            "notifications": counts.notifications,
        },
    )


async def measure_loopback(checkouts: int, rounds: int) -> Figure:
    async with _session("loopback", checkouts * rounds + 8) as session:
        counts = await count_operations(session)
        for _ in range(3):
            await session.run_checkout(SCENARIO)
        real, floor = [], []
        async with https_client() as client:
            for _ in range(rounds):
                real.append(await time_checkouts(session, checkouts))
                trips = await time_round_trips(counts.round_trips * checkouts, client)
                floor.append(trips * counts.round_trips)
    best, bare = min(real), min(floor)
    return _checkout_figure(
        "engine.loopback",
        best,
        bare,
        2.0,
        {
            "round_trips": counts.round_trips,
            "floor_ms_per_round_trip": bare / counts.round_trips * 1000,
        },
    )


def _checkout_figure(
    name: str, best: float, bare: float, limit: float, extra: dict[str, float]
) -> Figure:
    """Checkouts per second from the best round's seconds per checkout, judged by its
    ratio to the floor's seconds per checkout."""
    ratio = best / bare
    return Figure(
        name=name,
        value=1 / best,
        unit="checkouts/s",
        target=f"<= {limit:g}x floor time",
        ratio=ratio,
        passed=ratio <= limit,
        extra={"ms_per_checkout": best * 1000, "floor_ms_per_checkout": bare * 1000, **extra},
    )


def run_engine(checkouts: int, rounds: int) -> list[Figure]:
    return [
        asyncio.run(measure_inprocess(checkouts, rounds)),
        asyncio.run(measure_loopback(max(checkouts // 2, 1), rounds)),
    ]


__all__ = ["measure_inprocess", "measure_loopback", "run_engine"]
