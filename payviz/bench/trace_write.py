"""trace.write: what recording every message costs, as a share of a checkout's run time.

Checkouts run with the trace written to a JSON Lines file (flushed per record, as
`payviz run --trace` does). Two shares are measured: writing the file (the records of the
run replayed into a second file sink, less the same replay into memory) and the whole
recording (everything the Recorder does: classify, mask card numbers, build the record,
append and write it), timed around the Recorder's entry points during the run itself, in
rounds: the figure is the median round's share.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import statistics
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
ROUNDS = 5  # the checkouts run in this many rounds; the figure is the median round's share


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """`function`, its time added to spent[0]: a wrapper with the very parameters of
    `function`, so that the call timed is the call payviz makes. A wrapper taking
    `*args, **kwargs` passes them on with its own packing inside the timed window: timed
    around a method that does nothing, in a run, that was 0.25-0.26 % of run time, against
    0.18-0.19 % this way (the clock read twice, and one call)."""
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in parameters):
        raise TypeError(f"{function.__name__}: only plain parameters are timed")
    scope: dict[str, Any] = {"__function": function, "__clock": time.perf_counter}
    declared = []
    for parameter in parameters:
        name = parameter.name
        if parameter.default is inspect.Parameter.empty:
            declared.append(name)
        else:
            scope[f"__default_{name}"] = parameter.default
            declared.append(f"{name}=__default_{name}")
    source = "\n".join(
        [
            f"def wrapper({', '.join(declared)}):",
            "    started = __clock()",
            f"    result = __function({', '.join(p.name for p in parameters)})",
            "    __spent[0] += __clock() - started",
            "    return result",
        ]
    )
    scope["__spent"] = spent
    exec(source, scope)  # the source is made above, of the method's parameter names
    wrapper: Callable[..., Any] = functools.wraps(function)(scope["wrapper"])
    return wrapper


def _replay(records: list[Record], path: Path | None) -> float:
    trace = Trace(path)
    started = time.perf_counter()
    for record in records:
        trace.append(record)
    elapsed = time.perf_counter() - started
    trace.close()
    return elapsed


async def _run(checkouts: int, folder: Path) -> tuple[list[tuple[float, float]], list[Record]]:
    """(run time, time in the Recorder) of each round of checkouts, and their records."""
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
    rounds = []
    per_round = max(checkouts // ROUNDS, 1)
    for _ in range(max(checkouts // per_round, 1)):
        spent[0] = 0.0
        started = time.perf_counter()
        for _ in range(per_round):
            await session.run_checkout(SCENARIO)
        rounds.append((time.perf_counter() - started, spent[0]))
    records = session.trace.records[first:]
    await session.close()
    return rounds, records


def measure_trace_write(checkouts: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="payviz-bench-") as name:
        folder = Path(name)
        rounds, records = asyncio.run(_run(checkouts, folder))
        writing = min(_replay(records, folder / "replay.jsonl") for _ in range(3))
        in_memory = min(_replay(records, None) for _ in range(3))
    total = sum(run for run, _ in rounds)
    ran = max(checkouts // ROUNDS, 1) * len(rounds)
    shares = [recording / run for run, recording in rounds]
    # The median round: a busy neighbour may land inside the Recorder's calls (the share
    # looks higher) or between them (lower); the middle round is neither.
    record_share = statistics.median(shares)
    write_share = max(writing - in_memory, 0.0) / total
    return Figure(
        "trace.write",
        record_share * 100,
        "% of run time",
        "<= 10 %",
        None,
        record_share <= 0.10,
        {
            "file_write_percent": write_share * 100,
            "records_per_checkout": len(records) / ran,
            "us_per_record_written": (writing - in_memory) / len(records) * 1e6,
            "ms_per_checkout": total / ran * 1000,
            "rounds": len(rounds),
            "lowest_percent": min(shares) * 100,
            "highest_percent": max(shares) * 100,
        },
    )
