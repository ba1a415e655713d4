"""The wire: every actor by name and URL, and clients whose transport records each hop.

In-process, requests are routed to the actors' ASGI apps through `httpx.ASGITransport`
(no sockets). In loopback mode the same apps run under uvicorn on 127.0.0.1 with HTTPS
from the session's own CA (see `loopback.py`). Actor code cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

import httpx

from ._types import Party, party_from_user_agent, user_agent
from .adversary import tamper
from .capture import Exchange, Recorder
from .cards import mask_text
from .clock import Clock, DeadlineExceeded
from .context import CURRENT_RUN, RUN_HEADER
from .faults import DEFAULT_DELAY_SECONDS, LINK_FAULTS, REORDER_HOLD_SECONDS, FaultBook
from .middleware import CaptureMiddleware, RunForRequest

Transport = Literal["inprocess", "loopback"]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
TIMEOUT_EXTENSION = "payviz_timeout"
CLIENT_TIMEOUT = 30.0  # seconds an actor's HTTP client waits for an answer


class CapturingTransport(httpx.AsyncBaseTransport):
    """Records the request before it leaves and the answer (or its absence) when it comes.

    It is also where the wire misbehaves on purpose: each hop takes `latency` seconds of the
    clock each way, and the checkout's FaultPlan may drop, delay, duplicate, reset or
    tamper with a message. An answer that comes after the caller's timeout is recorded
    when it arrives, marked late and discarded.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        src: Party,
        network: Network,
    ) -> None:
        self._inner = inner
        self._src = src
        self._net = network

    async def _deliver(self, request: httpx.Request, held: float = 0.0) -> httpx.Response:
        if held:
            await self._net.clock.sleep(held)  # the wire holds it back (delay, reorder)
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        # Read and closed, the response is handed on as it came, its body in memory: what
        # `httpx.Response(status, headers=..., content=content)` made of it, without
        # copying the headers and reading the body a second time. Like that copy, it says
        # how long the body is when the server did not.
        if content and "content-length" not in response.headers:
            response.headers["Content-Length"] = str(len(content))
        return response

    def _record(
        self, exchange: Exchange, response: httpx.Response, error: str | None = None
    ) -> None:
        self._net.recorder.response(
            exchange, response.status_code, _plain(response.headers), response.content, error=error
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        net = self._net
        await request.aread()
        run = CURRENT_RUN.get()
        dst = net.party_of(request.url)
        plan = net.faults.get(run.checkout)
        if plan is not None:
            request = tamper(plan, self._src, dst, request)
            await request.aread()
        # The headers as the trace shows them are taken before the run header, which the
        # trace hides, joins them: the Recorder has nothing to take out.
        headers = _plain(request.headers)
        request.headers[RUN_HEADER] = run.header()
        exchange = net.recorder.request(
            self._src, dst, request.method, str(request.url), headers, request.content
        )
        fault = plan.take(LINK_FAULTS, self._src, dst) if plan is not None else None
        if net.latency:
            await net.clock.sleep(net.latency)
        if fault is not None:
            if fault.name == "drop":
                # nothing comes back: the caller learns it only when its timer fires
                waited = float(request.extensions.get(TIMEOUT_EXTENSION) or CLIENT_TIMEOUT)
                await net.clock.sleep(waited)
                net.recorder.failure(exchange, f"dropped on the wire: no answer in {waited:g} s")
                raise httpx.ReadTimeout("the request was dropped", request=request)
            if fault.name == "http-500":
                refusal = httpx.Response(
                    500,
                    json={"error": {"type": "api_error", "message": "injected fault http-500"}},
                )
                self._record(exchange, refusal, error=f"injected: {dst} never saw the request")
                return refusal
        held = 0.0
        if fault is not None and fault.name in ("delay", "reorder"):
            default = DEFAULT_DELAY_SECONDS if fault.name == "delay" else REORDER_HOLD_SECONDS
            held = fault.arg if fault.arg is not None else default
        response = await self._exchange(request, exchange, held)
        if fault is not None and fault.name == "reset":
            net.recorder.failure(exchange, "connection reset after the server answered (injected)")
            raise httpx.RemoteProtocolError("connection reset by peer", request=request)
        if net.latency:
            await net.clock.sleep(net.latency)
        self._record(exchange, response)
        if fault is not None and fault.name == "duplicate":
            copy = net.recorder.request(
                self._src, dst, request.method, str(request.url), headers, request.content
            )
            with contextlib.suppress(httpx.TransportError):
                self._record(copy, await self._deliver(request))
        return response

    async def _exchange(
        self, request: httpx.Request, exchange: Exchange, held: float
    ) -> httpx.Response:
        net = self._net
        timeout = request.extensions.get(TIMEOUT_EXTENSION)
        if timeout is None:
            try:
                return await self._deliver(request, held)
            except httpx.TransportError as exc:
                net.recorder.failure(exchange, f"{exc.__class__.__name__}: {exc}")
                raise
        delivery = asyncio.ensure_future(self._deliver(request, held))
        try:
            return await net.clock.within(asyncio.shield(delivery), float(timeout))
        except DeadlineExceeded as exc:
            net.recorder.failure(exchange, f"timeout: {exc}")
            net.straggle(
                delivery,
                lambda late: self._record(
                    exchange,
                    late,
                    error=f"late: arrived after the caller's {timeout:g} s timeout; discarded",
                ),
            )
            raise
        except httpx.TransportError as exc:
            net.recorder.failure(exchange, f"{exc.__class__.__name__}: {exc}")
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


def _plain(headers: httpx.Headers) -> dict[str, str]:
    """The headers as a dict, as `dict(headers)` gives it (names in lower case, repeated
    ones joined by ", "), in one pass: `dict(headers)` looks each name up again, scanning
    every header for each (a quarter of a millisecond a checkout)."""
    return dict(headers.items())


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, less its work on responses that set no cookie. For every
    response, httpx wraps the request in a urllib request for the standard library's jar
    (the URL parsed again, the headers copied name by name), only for the jar to find no
    Set-Cookie header; a response that has none cannot change the jar."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """An AsyncClient whose cookie jar is `_Cookies` (its `cookies` property is the one
    place httpx reads the jar from), and which parses each of the actors' endpoints once.

    httpx parses the URL of every request from its text (a fifth of what building a
    request costs), and the actors call the same few endpoints (`/v1/payments`,
    `/iso8583`, ...) in every checkout. An `httpx.URL` is immutable, so the one parsed
    the first time is the very URL parsing the same text again would give. Only URLs
    without a query and without a card number in their path are kept: a query can carry
    what a form carried, a card number too, and none is held here past its request.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = kwargs.get("cookies")

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._jar = _Cookies(cookies)

    def build_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Request:
        if isinstance(url, str) and "?" not in url:
            parsed = _PARSED_URLS.get(url)
            if parsed is None:
                parsed = httpx.URL(url)
                if mask_text(url) == url:
                    if len(_PARSED_URLS) >= _PARSED_URLS_MAX_ENTRIES:
                        _PARSED_URLS.clear()
                    _PARSED_URLS[url] = parsed
            url = parsed
        return super().build_request(method, url, **kwargs)


_PARSED_URLS: dict[str, httpx.URL] = {}
_PARSED_URLS_MAX_ENTRIES = 256


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
        self.faults = FaultBook()
        self.latency = 0.0  # seconds each way per hop, on the clock
        self._stragglers: set[asyncio.Future[httpx.Response]] = set()
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
        text = str(url)  # httpx builds the string anew on each str()
        for party, base in self._urls.items():
            if text.startswith(base):
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
            transport = CapturingTransport(self._inner(), party, self)
            self._clients[party] = _Client(
                transport=transport, headers=headers, timeout=CLIENT_TIMEOUT
            )
        return self._clients[party]

    def straggle(
        self, delivery: asyncio.Future[httpx.Response], on_late: Callable[[httpx.Response], None]
    ) -> None:
        """Keep an answer the caller gave up on; record it when (if) it arrives."""

        def arrived(done: asyncio.Future[httpx.Response]) -> None:
            self._stragglers.discard(done)
            if not done.cancelled() and done.exception() is None:
                on_late(done.result())

        self._stragglers.add(delivery)
        delivery.add_done_callback(arrived)

    def busy(self) -> bool:
        return bool(self._stragglers)

    async def drain(self) -> None:
        """Wait for the late answers still on their way."""
        while self._stragglers:
            await asyncio.gather(*list(self._stragglers), return_exceptions=True)

    async def close(self) -> None:
        for late in list(self._stragglers):
            late.cancel()
        await asyncio.gather(*list(self._stragglers), return_exceptions=True)
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
