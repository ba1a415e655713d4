"""At-least-once delivery of signed notifications, with retries on the injected clock.

Every attempt is a real HTTP request (and so a message in the trace); the webhook id stays
the same across attempts, the signature is made afresh for each.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from .clock import Clock
from .webhooks import Signer

# Standard Webhooks spirit: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_SCHEDULE: tuple[float, ...] = (
    0,
    5,
    300,
    1800,
    7200,
    18000,
    36000,
    50400,
    72000,
    86400,
)


@dataclass(slots=True)
class Delivery:
    """The fate of one notification: attempts made and how it ended."""

    msg_id: str
    url: str
    attempts: int = 0
    status: str = "pending"  # pending | delivered | failed | disabled


class Dispatcher:
    """Sends notifications in the background and retries them on a backoff schedule.

    With `queued=True` (scripted runs) notifications wait in an outbox until `flush`, the
    way a sender's queue worker picks them up a moment after the request that caused them;
    this keeps a run's message order the same every time. Otherwise they leave at once.
    """

    def __init__(
        self, clock: Clock, rng: random.Random | None = None, *, queued: bool = False
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random(0)
        self._tasks: set[asyncio.Task[Delivery]] = set()
        # Each job keeps the context it was sent in: whichever checkout flushes the outbox,
        # a notification belongs to (and is recorded for) the checkout that caused it.
        self._outbox: list[tuple[Coroutine[Any, Any, Delivery], contextvars.Context]] = []
        self.queued = queued
        self.deliveries: list[Delivery] = []
        self.schedule = RETRY_SCHEDULE

    def send(
        self,
        client: httpx.AsyncClient,
        url: str,
        body: str,
        signer: Signer,
        msg_id: str,
        on_done: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        delivery = Delivery(msg_id, url)
        self.deliveries.append(delivery)
        job = self._run(client, delivery, body, signer, on_done)
        if self.queued:
            self._outbox.append((job, contextvars.copy_context()))
        else:
            self._start(job, contextvars.copy_context())
        return delivery

    def _start(self, job: Coroutine[Any, Any, Delivery], context: contextvars.Context) -> None:
        task = asyncio.get_running_loop().create_task(job, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def flush(self) -> None:
        """Start every queued notification."""
        jobs, self._outbox = self._outbox, []
        for job, context in jobs:
            self._start(job, context)

    async def _run(
        self,
        client: httpx.AsyncClient,
        delivery: Delivery,
        body: str,
        signer: Signer,
        on_done: Callable[[Delivery], None] | None,
    ) -> Delivery:
        previous = 0.0
        for planned in self.schedule:
            wait = planned - previous
            previous = planned
            if wait > 0:
                # +-10 % jitter so that many receivers' retries do not arrive in lockstep
                await self._clock.sleep(wait * self._rng.uniform(0.9, 1.1))
            delivery.attempts += 1
            headers = {"content-type": "application/json", **signer.headers(delivery.msg_id, body)}
            try:
                response = await client.post(delivery.url, content=body, headers=headers)
            except httpx.TransportError:
                continue
            if 200 <= response.status_code < 300:
                delivery.status = "delivered"
                break
            if response.status_code == 410:
                delivery.status = "disabled"
                break
        else:
            delivery.status = "failed"
        if on_done is not None:
            on_done(delivery)
        return delivery

    def busy(self) -> bool:
        return bool(self._tasks or self._outbox)

    async def idle(self) -> None:
        """Send what is queued and wait until no delivery is in flight (retries included)."""
        self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
            self.flush()

    async def cancel(self) -> None:
        """Drop queued notifications and stop retrying (the session is closing)."""
        for job, _ in self._outbox:
            job.close()
        self._outbox.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
