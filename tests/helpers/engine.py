"""Shared helpers for engine tests: run `payviz run`, drive a live Session, read traces."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from payviz.cli import main
from payviz.engine.session import Session
from payviz.engine.trace import Message
from payviz.engine.world import World

T = TypeVar("T")

APPROVED_CARD = "4242424242424242"


@dataclass(frozen=True)
class CliRun:
    """What one `payviz ...` invocation printed and returned."""

    status: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Every JSON line on stdout (for `--format json`)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == "message"]

    @property
    def summary(self) -> dict[str, Any]:
        summaries = [line for line in self.lines if line["type"] == "summary"]
        assert len(summaries) == 1, f"expected one summary line, got {len(summaries)}"
        return summaries[0]


def run_cli(*args: str) -> CliRun:
    """Call `payviz.cli.main` in-process and collect its output (usable in any fixture)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return CliRun(status, out.getvalue(), err.getvalue())


class LiveSession:
    """A started Session on a private event loop, for tests that talk to the actors.

    Attributes:
        session: the running Session (its world, trace and clock).
    """

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.session = Session(**options)
        self.run(self.session.start())

    @property
    def world(self) -> World:
        return self.session.world

    def run(self, awaitable: Awaitable[T]) -> T:
        async def _wrapped() -> T:
            return await awaitable

        return self.loop.run_until_complete(_wrapped())

    def messages_since(self, seq: int) -> list[Message]:
        return [m for m in self.session.trace.messages() if m.seq >= seq]

    def close(self) -> None:
        try:
            self.run(self.session.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


def index_after(
    messages: list[Message] | list[dict[str, Any]],
    start: int,
    predicate: Callable[[Any], bool],
    what: str,
) -> int:
    """The index of the first message at or after `start` that matches, or fail saying what."""
    for index in range(start, len(messages)):
        if predicate(messages[index]):
            return index
    raise AssertionError(f"no {what} after position {start}")


def iso(messages: Iterable[Message], mti: str) -> list[Message]:
    return [m for m in messages if m.mti == mti]
