"""trace.write: what recording every message costs, as a share of a checkout's run time.

Checkouts run with the trace written to a JSON Lines file (flushed per record, as
`payviz run --trace` does). Two shares are measured: writing the file (the records of the
run replayed into a second file sink, less the same replay into memory) and the whole
recording (everything the Recorder does: classify, mask card numbers, build the record,
append and write it), timed around the Recorder's entry points during the run itself.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from payviz.engine.load import LoadPlan, prepare_world
from payviz.engine.session import Session
from payviz.engine.trace import Record, Trace

from .engine import SCENARIO
from .report import Figure

ENTRY_POINTS = ("request", "response", "failure", "state", "email")


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    return wrapper


def _replay(records: list[Record], path: Path | None) -> float:
    trace = Trace(path)
    started = time.perf_counter()
    for record in records:
        trace.append(record)
    elapsed = time.perf_counter() - started
    trace.close()
    return elapsed


async def _run(checkouts: int, folder: Path) -> tuple[float, float, list[Record]]:
    session = Session(trace_path=folder / "run.jsonl")
    await session.start()
    prepare_world(session.world, LoadPlan(count=checkouts + 5))
    for _ in range(3):
        await session.run_checkout(SCENARIO)
    spent = [0.0]
    recorder = session.world.recorder
    for name in ENTRY_POINTS:
        setattr(recorder, name, _timed(getattr(recorder, name), spent))
    first = len(session.trace.records)
    started = time.perf_counter()
    for _ in range(checkouts):
        await session.run_checkout(SCENARIO)
    total = time.perf_counter() - started
    records = session.trace.records[first:]
    await session.close()
    return total, spent[0], records


def measure_trace_write(checkouts: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="payviz-bench-") as name:
        folder = Path(name)
        total, recording, records = asyncio.run(_run(checkouts, folder))
        writing = min(_replay(records, folder / "replay.jsonl") for _ in range(3))
        in_memory = min(_replay(records, None) for _ in range(3))
    write_share = max(writing - in_memory, 0.0) / total
    record_share = recording / total
    return Figure(
        "trace.write",
        record_share * 100,
        "% of run time",
        "<= 10 %",
        None,
        record_share <= 0.10,
        {
            "file_write_percent": write_share * 100,
            "records_per_checkout": len(records) / checkouts,
            "us_per_record_written": (writing - in_memory) / len(records) * 1e6,
            "ms_per_checkout": total / checkouts * 1000,
        },
    )
