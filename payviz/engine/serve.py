"""`payviz serve`: the actors as real HTTPS servers for a real browser.

Requests from the browser carry no payviz context, so each POST of the checkout form starts
a new checkout number; everything until the next one belongs to it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._types import Mode, Notify
from .clock import SystemClock
from .context import RunContext
from .session import Session


@dataclass(frozen=True, slots=True)
class ServeInfo:
    shop_url: str
    ca_cert_path: str
    urls: dict[str, str]


class BrowserRuns:
    """Numbers the checkouts of a real browser: one per POST /checkout."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.current = 0

    def __call__(self, method: str, path: str) -> RunContext:
        if method == "POST" and path == "/checkout":
            self.current += 1
        return RunContext(max(self.current, 1), self.mode)


async def serve(
    mode: Mode,
    notify: Notify,
    port_base: int | None,
    trace_path: Path | None,
    keylog_path: Path | None,
    ready: Callable[[ServeInfo], None],
    stop: asyncio.Event | None = None,
) -> Session:
    """Run until SIGINT/SIGTERM (or `stop`), then shut down with the trace complete."""
    session = Session(
        transport="loopback",
        clock=SystemClock(),
        trace_path=trace_path,
        keylog_path=keylog_path,
        port_base=port_base,
        queued_notifications=False,
    )
    await session.start()
    world = session.world
    world.network.run_for_browser = BrowserRuns(mode)
    if mode == "direct":
        world.merchant.confirmation = notify
    else:
        world.merchant.redirect_notify = notify
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        ready(
            ServeInfo(
                shop_url=world.network.url("merchant", f"/?flow={mode}"),
                ca_cert_path=world.network.ca_cert_path or "",
                urls={p: world.network.url(p) for p in world.network.apps},
            )
        )
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await session.close(settle=False)
    return session
