"""Real traces for the export tests: checkouts run by a Session and written to a file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import Message, Record, read_trace


def record_trace(path: Path, *scenarios: Scenario) -> Path:
    """Run the checkouts in one in-process session, writing the trace to `path`."""

    async def go() -> None:
        async with Session(trace_path=path) as session:
            for scenario in scenarios:
                await session.run_checkout(scenario)

    asyncio.run(go())
    return path


def records(path: Path) -> list[Record]:
    return read_trace(path)


def messages(path: Path) -> list[Message]:
    return [r for r in read_trace(path) if isinstance(r, Message)]


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
