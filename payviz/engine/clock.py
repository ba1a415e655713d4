"""Injected time: the wall clock for real servers, a virtual one for runs and tests.

Webhook tolerance, retry schedules, bank timeouts and hold expiry all read this clock, so a
run that retries a notification for hours finishes in milliseconds and tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
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
    """Virtual time that runs as fast as the work allows, in the right order.

    Sleepers wait on the clock, not on the wall: whenever the event loop has nothing else
    ready to run, the clock jumps to the earliest sleeper's deadline and wakes it (the
    "autojump" of trio's MockClock). Five minutes of retries cost microseconds, yet events
    still happen in the order their times say, and `within` is a real race between the
    work and a timer on this clock.
    """

    # How many loop iterations to wait for other ready work before jumping anyway; a task
    # that only ever yields (asyncio.sleep(0) in a loop) must not freeze time.
    PATIENCE = 1000

    def __init__(self, start: float | None = None) -> None:
        self._start = time.time() if start is None else start
        # Time is kept as seconds since the start: sums of small numbers stay exact to far
        # below a microsecond, where adding each sleep to a Unix time (a double whose step
        # is a quarter of a microsecond) drifted, and a trace's times read 0.039999 for 0.04.
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._jumper: asyncio.Handle | None = None
        self._waited = 0  # loop iterations the pending jumper has waited for ready work

    def now(self) -> float:
        return self._start + self._elapsed

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (tests); sleepers now due wake on the next jump."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._elapsed += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        due = self._elapsed + seconds
        if self._idle_until(loop, due):
            # Nothing else could run before this sleeper wakes: jump now, as the loop would
            # after one idle turn, without the turn.
            self._elapsed = due
            return
        waiter: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (due, next(self._order), waiter))
        self._schedule_jump(loop)
        await waiter

    def _idle_until(self, loop: asyncio.AbstractEventLoop, due: float) -> bool:
        """Whether no other work is ready and no other sleeper is due by `due`.

        The clock's own pending jump does not count as other work: with nothing else
        ready, it would run next, find the loop idle and wake the earliest sleeper, which
        is this one; this sleeper then goes on with a fresh jump pending. So when the jump
        is all there is, time moves now and the jump starts waiting afresh, the same.
        """
        ready = getattr(loop, "_ready", None)  # CPython's queue of runnable callbacks
        if ready is None:
            return False
        jumper = self._jumper
        if jumper is None:
            if ready:
                return False
        elif len(ready) != 1 or ready[0] is not jumper:
            return False
        sleepers = self._sleepers
        while sleepers and sleepers[0][2].done():
            heapq.heappop(sleepers)  # cancelled sleepers
        if sleepers and sleepers[0][0] <= due:
            return False
        self._waited = 0
        return True

    def _schedule_jump(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._jumper is None:
            self._waited = 0
            self._jumper = loop.call_soon(self._jump_when_idle, loop)

    def _jump_when_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        ready = getattr(loop, "_ready", None)  # CPython's queue of runnable callbacks
        if ready and self._waited < self.PATIENCE:
            self._waited += 1
            self._jumper = loop.call_soon(self._jump_when_idle, loop)
            return
        self._jumper = None
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleepers
        if not self._sleepers:
            return
        due = self._sleepers[0][0]
        self._elapsed = max(self._elapsed, due)
        while self._sleepers and self._sleepers[0][0] <= self._elapsed:
            _, _, waiter = heapq.heappop(self._sleepers)
            if not waiter.done():
                waiter.set_result(None)
        if self._sleepers:
            self._schedule_jump(loop)

    async def within(self, awaitable: Awaitable[T], limit: float) -> T:
        work = asyncio.ensure_future(awaitable)
        timer = asyncio.ensure_future(self.sleep(limit))
        try:
            await asyncio.wait({work, timer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            work.cancel()
            raise
        finally:
            timer.cancel()
        if work.done():
            return work.result()
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        raise DeadlineExceeded(limit, None)
