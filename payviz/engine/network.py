"""The wire: every actor by name and URL, and clients whose transport records each hop.

In-process, requests are routed to the actors' ASGI apps through `httpx.ASGITransport`
(no sockets). In loopback mode the same apps run under uvicorn on 127.0.0.1 with HTTPS
from the session's own CA (see `loopback.py`). Actor code cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

import httpx

from ._types import Party, party_from_user_agent, user_agent
from .capture import Recorder
from .clock import Clock, DeadlineExceeded
from .context import CURRENT_RUN, RUN_HEADER
from .middleware import CaptureMiddleware, RunForRequest

Transport = Literal["inprocess", "loopback"]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
TIMEOUT_EXTENSION = "payviz_timeout"


class CapturingTransport(httpx.AsyncBaseTransport):
    """Records the request before it leaves and the answer (or its absence) when it comes."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        src: Party,
        recorder: Recorder,
        clock: Clock,
        party_of: Callable[[httpx.URL], Party],
    ) -> None:
        self._inner = inner
        self._src = src
        self._recorder = recorder
        self._clock = clock
        self._party_of = party_of

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        request.headers[RUN_HEADER] = CURRENT_RUN.get().header()
        exchange = self._recorder.request(
            self._src,
            self._party_of(request.url),
            request.method,
            str(request.url),
            dict(request.headers),
            body,
        )
        timeout = request.extensions.get(TIMEOUT_EXTENSION)
        answered: list[httpx.Response] = []

        async def send() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            await response.aclose()
            answered.append(
                httpx.Response(response.status_code, headers=response.headers, content=content)
            )
            return answered[0]

        try:
            if timeout is None:
                response = await send()
            else:
                response = await self._clock.within(send(), float(timeout))
        except DeadlineExceeded as exc:
            if answered:
                late = answered[0]
                self._recorder.response(
                    exchange,
                    late.status_code,
                    dict(late.headers),
                    late.content,
                    error=f"late: {exc}; the caller had given up and discarded it",
                )
            else:
                self._recorder.failure(exchange, f"timeout: {exc}")
            raise
        except httpx.TransportError as exc:
            self._recorder.failure(exchange, f"{exc.__class__.__name__}: {exc}")
            raise
        self._recorder.response(
            exchange, response.status_code, dict(response.headers), response.content
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _HostRouter(httpx.AsyncBaseTransport):
    """Routes https://<party>.payviz.test to that party's ASGI app."""

    def __init__(self, apps: dict[str, httpx.ASGITransport]) -> None:
        self._apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self._apps.get(request.url.host)
        if target is None:
            raise httpx.ConnectError(f"no actor at {request.url.host}", request=request)
        return await target.handle_async_request(request)


class Network:
    """Knows every actor by name and URL and hands out capturing clients.

    Attributes:
        transport: "inprocess" or "loopback".
        apps: the ASGI app of each actor.
    """

    def __init__(
        self,
        recorder: Recorder,
        clock: Clock,
        transport: Transport = "inprocess",
        port_base: int | None = None,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.transport = transport
        self.port_base = port_base
        self.run_for_browser: RunForRequest = lambda method, path: CURRENT_RUN.get()
        self.apps: dict[Party, ASGIApp] = {}
        self._urls: dict[Party, str] = {}
        self._clients: dict[Party, httpx.AsyncClient] = {}
        self._servers: Any = None

    def register(self, party: Party, app: ASGIApp) -> None:
        """Put an actor on the wire, behind the middleware that captures outside clients."""
        self.apps[party] = CaptureMiddleware(
            app, party, self.recorder, lambda method, path: self.run_for_browser(method, path)
        )
        self._urls[party] = f"https://{party}.payviz.test"

    def url(self, party: Party, path: str = "") -> str:
        return self._urls[party] + path

    def party_of(self, url: httpx.URL) -> Party:
        for party, base in self._urls.items():
            if str(url).startswith(base):
                return party
        return "browser"

    async def start(self) -> None:
        if self.transport == "loopback":
            from .loopback import LoopbackServers

            self._servers = LoopbackServers(
                {str(k): v for k, v in self.apps.items()}, port_base=self.port_base
            )
            await self._servers.start()
            self._urls.update(self._servers.urls)

    @property
    def ca_cert_path(self) -> str | None:
        return None if self._servers is None else str(self._servers.ca_cert_path)

    @property
    def ca_cert_pem(self) -> str | None:
        return None if self._servers is None else str(self._servers.ca_cert_pem)

    def _inner(self) -> httpx.AsyncBaseTransport:
        if self._servers is not None:
            return httpx.AsyncHTTPTransport(verify=self._servers.client_ssl_context())
        routes = {
            f"{party}.payviz.test": httpx.ASGITransport(app=app) for party, app in self.apps.items()
        }
        return _HostRouter(routes)

    def client(self, party: Party) -> httpx.AsyncClient:
        """The HTTP client `party` uses; it announces itself in User-Agent."""
        if party not in self._clients:
            headers = {"user-agent": user_agent(party)} if party != "browser" else {}
            transport = CapturingTransport(
                self._inner(), party, self.recorder, self.clock, self.party_of
            )
            self._clients[party] = httpx.AsyncClient(
                transport=transport, headers=headers, timeout=30.0
            )
        return self._clients[party]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        if self._servers is not None:
            await self._servers.stop()
            self._servers = None


__all__ = [
    "TIMEOUT_EXTENSION",
    "CapturingTransport",
    "Network",
    "Transport",
    "party_from_user_agent",
]
