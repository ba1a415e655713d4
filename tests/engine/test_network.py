"""The wire's clients: what an actor's HTTP client keeps between requests, and what the
trace records of each hop's headers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from payviz.engine.capture import Recorder
from payviz.engine.clock import VirtualClock
from payviz.engine.network import Network
from payviz.engine.trace import Message, Trace

Scope = MutableMapping[str, Any]


def _shop(seen: list[str]) -> Callable[..., Awaitable[None]]:
    """An app that sets a session cookie on /login and notes the Cookie header it gets."""

    async def app(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await receive()
        headers = dict(scope["headers"])
        seen.append(headers.get(b"cookie", b"").decode())
        extra = [(b"set-cookie", b"session=s1; Path=/")] if scope["path"] == "/login" else []
        extra += [(b"x-trace", b"one"), (b"x-trace", b"two")]
        await send({"type": "http.response.start", "status": 200, "headers": extra})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_a_cookie_an_actor_sets_is_sent_back_and_headers_are_recorded_whole() -> None:
    async def go() -> tuple[list[str], list[Message]]:
        trace = Trace()
        clock = VirtualClock()
        network = Network(Recorder(trace, clock), clock)
        seen: list[str] = []
        network.register("merchant", _shop(seen))
        client = network.client("browser")
        try:
            await client.get(network.url("merchant", "/"))
            await client.get(network.url("merchant", "/login"))
            await client.get(network.url("merchant", "/orders"))
        finally:
            await network.close()
        return seen, trace.messages()

    seen, messages = asyncio.run(go())
    assert seen == ["", "", "session=s1"]  # no cookie until one was set, then sent back
    login = next(m for m in messages if m.direction == "response" and m.headers.get("set-cookie"))
    assert login.headers["set-cookie"] == "session=s1; Path=/"
    assert login.headers["x-trace"] == "one, two"  # repeated headers joined, as dict() does


def test_an_answer_without_a_length_is_recorded_and_handed_on_with_one() -> None:
    async def app(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await receive()
        body = b"" if scope["path"] == "/empty" else b"plain words"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def go() -> tuple[list[tuple[bytes, dict[str, str]]], list[Message]]:
        trace = Trace()
        clock = VirtualClock()
        network = Network(Recorder(trace, clock), clock)
        network.register("merchant", app)
        client = network.client("browser")
        answers = []
        try:
            for path in ("/words", "/empty"):
                response = await client.get(network.url("merchant", path))
                answers.append((response.content, dict(response.headers)))
        finally:
            await network.close()
        return answers, trace.messages()

    answers, messages = asyncio.run(go())
    assert answers == [(b"plain words", {"content-length": "11"}), (b"", {})]
    recorded = [(m.body, m.headers) for m in messages if m.direction == "response"]
    assert recorded == [("plain words", {"content-length": "11"}), ("", {})]


def test_endpoints_parsed_once_are_the_urls_asked_for_and_no_query_is_kept() -> None:
    from payviz.engine import network as wire

    async def app(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def go() -> list[Message]:
        trace = Trace()
        clock = VirtualClock()
        network = Network(Recorder(trace, clock), clock)
        network.register("gateway", app)
        client = network.client("merchant")
        try:
            for _ in range(2):
                await client.post(network.url("gateway", "/v1/payments"), content=b"{}")
            await client.get(network.url("gateway", "/pay?card=4242424242424242"))
            await client.get(network.url("gateway", "/orders/4242424242424242"))
        finally:
            await network.close()
        return trace.messages()

    messages = asyncio.run(go())
    assert [m.url for m in messages if m.direction == "request"] == [
        "https://gateway.payviz.test/v1/payments",
        "https://gateway.payviz.test/v1/payments",
        "https://gateway.payviz.test/pay?card=424242******4242",
        "https://gateway.payviz.test/orders/424242******4242",
    ]
    # kept parsed: the endpoint called again and again, never a card number (query or path)
    assert "https://gateway.payviz.test/v1/payments" in wire._PARSED_URLS
    assert not any("4242424242424242" in text for text in wire._PARSED_URLS)
