"""Virtual time kept per checkout: for concurrent checkouts over real sockets.

`VirtualClock` jumps when the event loop has nothing ready to run. Over loopback HTTPS a
request waiting in the kernel looks exactly like that, so the clock would jump past a bank
call's deadline while the answer is still on its way. `TimelineClock` never jumps on its
own: each checkout has its own timeline, which only that checkout's sleeps move (the bank's
latency included: the actors' middleware restores the checkout from the run header on the
far side of a socket). A deadline is judged on the caller's own timeline, so one checkout's
think time never counts against another's bank call, however many run at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from .clock import DeadlineExceeded
from .context import CURRENT_RUN

T = TypeVar("T")


class TimelineClock:
    """A `Clock` whose time is the current checkout's own.

    A checkout's timeline starts at the frontier (the latest time any timeline reached)
    the first time it reads the clock; outside any checkout the time is the frontier.

    Attributes:
        frontier: the latest virtual time reached by any checkout.
    """

    def __init__(self, start: float | None = None) -> None:
        self.frontier = time.time() if start is None else start
        self._timelines: dict[int, float] = {}

    def now(self) -> float:
        checkout = CURRENT_RUN.get().checkout
        if checkout == 0:
            return self.frontier
        moment = self._timelines.get(checkout)
        if moment is None:
            moment = self._timelines[checkout] = self.frontier
        return moment

    def advance(self, seconds: float) -> None:
        """Move every timeline forward (tests, and time passing for the whole world)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.frontier += seconds
        for checkout in self._timelines:
            self._timelines[checkout] += seconds

    async def sleep(self, seconds: float) -> None:
        moment = self.now() + max(0.0, seconds)
        checkout = CURRENT_RUN.get().checkout
        if checkout != 0:
            self._timelines[checkout] = moment
        self.frontier = max(self.frontier, moment)
        await asyncio.sleep(0)

    async def within(self, awaitable: Awaitable[T], limit: float) -> T:
        started = self.now()
        result = await awaitable
        elapsed = self.now() - started
        if elapsed > limit:
            raise DeadlineExceeded(limit, elapsed)
        return result

    def forget(self, checkout: int) -> None:
        """Drop a finished checkout's timeline (a long load run keeps memory flat)."""
        self._timelines.pop(checkout, None)
