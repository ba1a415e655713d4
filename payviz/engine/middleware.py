"""The actors' edge: restore the checkout context, and capture clients payviz did not make.

payviz's own clients send `x-payviz-run` and are captured in their transport; here the
middleware only restores the ContextVar from that header, which matters when the request
crossed a real socket (loopback). A request without it comes from outside payviz, a real
browser pointed at `payviz serve`: the middleware records it and its response here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._types import Party, party_from_user_agent
from .capture import Recorder
from .context import CURRENT_RUN, RUN_HEADER, RunContext

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
RunForRequest = Callable[[str, str], RunContext]


_RUN_HEADER = RUN_HEADER.encode("latin-1")


def _run_header(raw_headers: list[tuple[bytes, bytes]]) -> str:
    """The value of the run header among ASGI's raw (name, value) pairs, or ""."""
    for name, value in raw_headers:
        if len(name) == len(_RUN_HEADER) and name.lower() == _RUN_HEADER:
            return value.decode("latin-1")
    return ""


class CaptureMiddleware:
    """Wraps one actor's ASGI app."""

    def __init__(self, app: App, party: Party, recorder: Recorder, run_for: RunForRequest):
        self.app = app
        self.party = party
        self.recorder = recorder
        self.run_for = run_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_headers = scope["headers"]
        run = RunContext.from_header(_run_header(raw_headers))
        if run is not None:
            token = CURRENT_RUN.set(run)
            try:
                await self.app(scope, receive, send)
            finally:
                CURRENT_RUN.reset(token)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        token = CURRENT_RUN.set(self.run_for(scope["method"], scope["path"]))
        try:
            await self._captured(scope, receive, send, headers)
        finally:
            CURRENT_RUN.reset(token)

    async def _captured(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        chunks: list[bytes] = []
        while True:
            event = await receive()
            if event["type"] != "http.request":
                break
            chunks.append(event.get("body", b""))
            if not event.get("more_body", False):
                break
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{scope.get('scheme', 'https')}://{headers.get('host', '')}{scope['path']}"
        if query:
            url += "?" + query
        exchange = self.recorder.request(
            party_from_user_agent(headers.get("user-agent")),
            self.party,
            scope["method"],
            url,
            headers,
            body,
        )
        delivered = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        response_headers: dict[str, str] = {}
        response_body: list[bytes] = []

        async def capture(event: MutableMapping[str, Any]) -> None:
            nonlocal status
            if event["type"] == "http.response.start":
                status = int(event["status"])
                response_headers.update(
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in event.get("headers", [])
                )
            elif event["type"] == "http.response.body":
                response_body.append(event.get("body", b""))
                if not event.get("more_body", False):
                    self.recorder.response(
                        exchange, status, response_headers, b"".join(response_body)
                    )
            await send(event)

        await self.app(scope, replay, capture)
