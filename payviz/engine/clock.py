"""Injected time: the wall clock for real servers, a virtual one for runs and tests.

Webhook tolerance, retry schedules, bank timeouts and hold expiry all read this clock, so a
run that retries a notification for hours finishes in milliseconds and tests never sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The awaited answer did not come within the caller's timeout."""

    def __init__(self, timeout: float, elapsed: float | None) -> None:
        self.timeout = timeout
        self.elapsed = elapsed
        late = "" if elapsed is None else f"; it came after {elapsed:.1f} s"
        super().__init__(f"no answer within {timeout:g} s{late}")


class Clock(Protocol):
    """Unix time in seconds, sleeping and deadlines."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def within(self, awaitable: Awaitable[T], limit: float) -> T: ...


class SystemClock:
    """Real time, for `payviz serve` where a person clicks through a checkout."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def within(self, awaitable: Awaitable[T], limit: float) -> T:
        try:
            return await asyncio.wait_for(awaitable, limit)
        except TimeoutError:
            raise DeadlineExceeded(limit, None) from None


class VirtualClock:
    """Time that jumps: `sleep` advances the clock at once instead of waiting.

    A deadline is judged on the virtual time the awaited work took: an answer that arrives
    later than the timeout is discarded, exactly as a caller whose timer fired would do.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    async def within(self, awaitable: Awaitable[T], limit: float) -> T:
        started = self._now
        result = await awaitable
        elapsed = self._now - started
        if elapsed > limit:
            raise DeadlineExceeded(limit, elapsed)
        return result
