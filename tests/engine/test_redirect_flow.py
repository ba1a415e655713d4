"""Hosted checkout (redirect flow), end to end over the engine's real services.

The customer's browser goes from the shop to the processor's own page and back; the merchant
learns the outcome from a signed return URL and from a signed notification, and never sees
the card. Every check here reads what a user of payviz can see: the messages of the trace,
the pages the browser gets, the order book and the bank's ledger.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import pytest
from standardwebhooks import Webhook

from payviz import cli
from payviz.engine import return_url
from payviz.engine._types import Decision
from payviz.engine.clock import VirtualClock
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.world import World

Msg = dict[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
WEBHOOK_PATH = "/webhooks/payviz"


# -- reading a trace ------------------------------------------------------------------------


def path_of(message: Msg) -> str:
    return urlsplit(message["url"] or "").path


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def listing(messages: list[Msg]) -> str:
    return "\n".join(f"{m['seq']:4d} {m['src']} -> {m['dst']}: {m['summary']}" for m in messages)


def request(
    src: str, dst: str, method: str, path: str | None = None, *, prefix: str | None = None
) -> Callable[[Msg], bool]:
    def match(m: Msg) -> bool:
        if (m["direction"], m["src"], m["dst"], m["method"]) != ("request", src, dst, method):
            return False
        if path is not None and path_of(m) != path:
            return False
        return prefix is None or path_of(m).startswith(prefix)

    return match


def answer(src: str, dst: str, status: int) -> Callable[[Msg], bool]:
    return lambda m: (
        (m["direction"], m["src"], m["dst"], m["status"])
        == (
            "response",
            src,
            dst,
            status,
        )
    )


def iso(src: str, dst: str, mti: str, **fields: str) -> Callable[[Msg], bool]:
    """An ISO 8583 message; fields are named f<number>, e.g. f39="00"."""

    def match(m: Msg) -> bool:
        if (m["protocol"], m["src"], m["dst"], m["mti"]) != ("iso8583", src, dst, mti):
            return False
        return all(m["fields"].get(k.removeprefix("f")) == v for k, v in fields.items())

    return match


def in_order(messages: list[Msg], *steps: tuple[str, Callable[[Msg], bool]]) -> list[Msg]:
    """The first message matching each step, each one after the previous; fails naming the
    step that is missing."""
    found: list[Msg] = []
    start = 0
    for label, matches in steps:
        for index in range(start, len(messages)):
            if matches(messages[index]):
                found.append(messages[index])
                start = index + 1
                break
        else:
            after = found[-1]["summary"] if found else "the start"
            raise AssertionError(f"no {label} after {after}:\n{listing(messages)}")
    return found


def response_to(messages: list[Msg], sent: Msg) -> Msg:
    for m in messages:
        if m["direction"] == "response" and m["exchange"] == sent["exchange"]:
            return m
    raise AssertionError(f"no answer to {sent['summary']}:\n{listing(messages)}")


def webhook_posts(messages: list[Msg]) -> list[Msg]:
    return [m for m in messages if request("processor", "merchant", "POST", WEBHOOK_PATH)(m)]


class PageText(HTMLParser):
    """The text of elements with an id, and the forms' fields, as a person reads a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.inputs: list[str] = []
        self.buttons: list[str] = []
        self._open: list[str] = []
        self._in_button = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.inputs.append(str(a["name"]))
        if tag == "button":
            self._in_button = True
            self.buttons.append("")
        if a.get("id"):
            self._open.append(str(a["id"]))
            self.ids[str(a["id"])] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element in self._open:
            self.ids[element] += data
        if self._in_button:
            self.buttons[-1] += data


# -- the command line ----------------------------------------------------------------------


@dataclass
class CliRun:
    messages: list[Msg]
    summary: Msg
    keylog: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def payviz_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[Callable[..., CliRun]]:
    """`payviz run --mode redirect --format json ...` in this process, output parsed."""

    def run(*args: str) -> CliRun:
        keylog = tmp_path / "keys.json"
        status = cli.main(
            ["run", "--mode", "redirect", "--format", "json", "--keylog", str(keylog), *args]
        )
        out = capsys.readouterr().out
        assert status == 0, out
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert lines, "payviz run printed nothing"
        assert lines[-1]["type"] == "summary", lines[-1]
        messages = [line for line in lines[:-1] if line["type"] == "message"]
        assert len(messages) == len(lines) - 1, "only messages come before the summary"
        return CliRun(messages, lines[-1], json.loads(keylog.read_text(encoding="utf-8")))

    return run


def test_hosted_checkout_shows_every_hop_in_order(payviz_run: Callable[..., CliRun]) -> None:
    run = payviz_run("--notify", "both")
    messages, summary = run.messages, run.summary
    order_id = summary["order_id"]
    assert summary["order_status"] == "paid"
    assert summary["mode"] == "redirect"
    assert summary["bank_response_code"] == "00"

    (
        checkout,
        create,
        created,
        to_processor,
        page_request,
        pay,
        auth,
        auth_answer,
        capture,
        capture_answer,
        back,
        returned,
        notification,
    ) = in_order(
        messages,
        ("checkout", request("browser", "merchant", "POST", "/checkout")),
        ("session creation", request("merchant", "processor", "POST", "/v1/checkout/sessions")),
        ("session created", answer("processor", "merchant", 201)),
        ("redirect to the processor", answer("merchant", "browser", 303)),
        ("hosted page", request("browser", "processor", "GET", prefix="/pay/")),
        ("card posted", request("browser", "processor", "POST", prefix="/pay/")),
        ("0100", iso("processor", "bank", "0100")),
        ("0110 approved", iso("bank", "processor", "0110", f39="00")),
        ("0220 capture", iso("processor", "bank", "0220")),
        ("0230 captured", iso("bank", "processor", "0230", f39="00")),
        ("redirect back to the shop", answer("processor", "browser", 303)),
        ("return", request("browser", "merchant", "GET", "/return")),
        ("notification", request("processor", "merchant", "POST", WEBHOOK_PATH)),
    )

    # The merchant opens the session server to server, for this order, with its return URL.
    session_request = json.loads(create["body"])
    assert session_request["order_id"] == order_id
    assert session_request["amount_minor"] == 1999
    assert origin(session_request["return_url"]) == origin(checkout["url"])
    session_id = json.loads(created["body"])["id"]
    assert created["exchange"] == create["exchange"]

    # ... and answers the customer's POST with a redirect to the processor's page.
    assert to_processor["exchange"] == checkout["exchange"]
    location = to_processor["headers"]["location"]
    assert origin(location) == origin(create["url"])
    assert urlsplit(location).path == f"/pay/{session_id}"

    # The browser loads that page: HTML with the card form, on the processor's site.
    assert page_request["url"] == location
    page = response_to(messages, page_request)
    assert page["status"] == 200
    assert page["headers"]["content-type"].startswith("text/html")
    assert {"card_number", "exp", "cvc"} <= set(PageText(page["body"]).inputs)
    assert path_of(pay) == f"/pay/{session_id}"

    # The processor asks the bank for the amount, then captures it.
    assert auth["fields"]["4"] == f"{1999:012d}"
    assert auth["fields"]["2"] == "424242******4242"
    assert capture["fields"]["11"] == auth["fields"]["11"] == auth_answer["fields"]["11"]
    assert capture_answer["fields"]["11"] == auth["fields"]["11"]

    # The card POST is answered with a redirect to the shop's return URL, outcome signed.
    assert back["exchange"] == pay["exchange"]
    link = back["headers"]["location"]
    assert origin(link) == origin(checkout["url"])
    assert urlsplit(link).path == "/return"
    outcome = query_of(link)
    assert outcome == {
        "session_id": session_id,
        "order_id": order_id,
        "status": "paid",
        "code": "00",
        "sig": outcome["sig"],
    }
    signed, _, sig = urlsplit(link).query.rpartition("&sig=")
    key = base64.b64decode(run.keylog["return_url_secret"].removeprefix("whsec_"))
    assert sig == hmac.new(key, signed.encode(), hashlib.sha256).hexdigest()

    # The browser follows it to the shop.
    assert returned["url"] == link
    assert response_to(messages, returned)["status"] == 303

    # The processor's notification verifies with the merchant's secret from the key log.
    event = Webhook(run.keylog["webhook_secrets"]["merchant"]).verify(
        notification["body"], notification["headers"]
    )
    assert event["type"] == "payment.succeeded"
    assert event["data"]["order_id"] == order_id
    assert event["data"]["payment_id"] == session_id
    assert response_to(messages, notification)["status"] == 200


def test_webhook_alone_fulfils_an_abandoned_checkout(payviz_run: Callable[..., CliRun]) -> None:
    run = payviz_run("--notify", "webhook", "--abandon-after-payment")
    assert run.summary["order_status"] == "paid"
    assert not [m for m in run.messages if request("browser", "merchant", "GET", "/return")(m)]
    (notification,) = webhook_posts(run.messages)
    event = Webhook(run.keylog["webhook_secrets"]["merchant"]).verify(
        notification["body"], notification["headers"]
    )
    assert event["type"] == "payment.succeeded"
    assert event["data"]["order_id"] == run.summary["order_id"]
    assert response_to(run.messages, notification)["status"] == 200


def test_return_url_alone_leaves_an_abandoned_order_to_the_reconciliation_sweep(
    payviz_run: Callable[..., CliRun],
) -> None:
    run = payviz_run("--notify", "return", "--abandon-after-payment")
    summary = run.summary
    # The bank approved and the money moved, yet the shop did not know: the customer closed
    # the tab before the return page loaded and no notification was asked for. Only the
    # merchant's reconciliation sweep, 31 minutes later, finds the payment.
    assert summary["bank_response_code"] == "00"
    assert summary["balance_after_minor"] == summary["balance_before_minor"] - 1999
    assert not [m for m in run.messages if request("browser", "merchant", "GET", "/return")(m)]
    assert not webhook_posts(run.messages)
    assert not [m for m in run.messages if m["kind"] == "notification"]
    lookups = [
        m
        for m in run.messages
        if m["src"] == "merchant" and m["dst"] == "processor" and m["method"] == "GET"
    ]
    assert len(lookups) == 1, "one status lookup by the sweep"
    capture = next(m for m in run.messages if m["mti"] == "0230")
    assert lookups[0]["ts"] - capture["ts"] > 30 * 60
    assert summary["order_status"] == "paid"
    assert summary["invariants"] == []


def test_retry_with_another_card_pays_the_same_order(payviz_run: Callable[..., CliRun]) -> None:
    run = payviz_run("--decision", "decline", "--retry-card", APPROVED_CARD)
    messages, order_id = run.messages, run.summary["order_id"]
    assert run.summary["order_status"] == "paid"

    (
        first_session,
        first_pay,
        declined,
        first_back,
        decline_page_request,
        retry,
        second_session,
        second_pay,
        approved,
        second_back,
    ) = in_order(
        messages,
        ("session", request("merchant", "processor", "POST", "/v1/checkout/sessions")),
        ("card posted", request("browser", "processor", "POST", prefix="/pay/")),
        ("0110 declined", iso("bank", "processor", "0110", f39="05")),
        ("redirect back", answer("processor", "browser", 303)),
        ("order page", request("browser", "merchant", "GET", f"/orders/{order_id}")),
        ("retry", request("browser", "merchant", "POST", f"/orders/{order_id}/retry")),
        ("second session", request("merchant", "processor", "POST", "/v1/checkout/sessions")),
        ("second card posted", request("browser", "processor", "POST", prefix="/pay/")),
        ("0110 approved", iso("bank", "processor", "0110", f39="00")),
        ("redirect back", answer("processor", "browser", 303)),
    )
    # Both attempts are for the same order, each in its own checkout session.
    assert json.loads(first_session["body"])["order_id"] == order_id
    assert json.loads(second_session["body"])["order_id"] == order_id
    assert path_of(first_pay) != path_of(second_pay)
    assert [m["fields"]["39"] for m in messages if m["mti"] == "0110"] == ["05", "00"]
    first, second = (
        query_of(first_back["headers"]["location"]),
        query_of(second_back["headers"]["location"]),
    )
    assert (first["order_id"], first["status"]) == (order_id, "failed")
    assert (second["order_id"], second["status"]) == (order_id, "paid")
    assert declined["seq"] < retry["seq"] < approved["seq"]

    # Between the attempts the customer read the decline in words, with a way to retry.
    decline_page = response_to(messages, decline_page_request)
    text = PageText(decline_page["body"])
    assert text.ids["order-status"] == "failed"
    message = text.ids["customer-message"]
    assert "declined" in message
    assert not re.search(r"\d", message), message
    assert "honor" not in message
    assert any("another card" in button for button in text.buttons)


# -- the engine in-process -----------------------------------------------------------------


def with_session(body: Callable[[Session, VirtualClock], Awaitable[T]], *, sweep: bool = True) -> T:
    """Run `body` in a fresh in-process session on a virtual clock (without the merchant's
    reconciliation sweep when a test needs an order left pending)."""

    async def go() -> T:
        clock = VirtualClock()
        session = Session(clock=clock, sweep_after=None if not sweep else 31 * 60.0)
        await session.start()
        try:
            return await body(session, clock)
        finally:
            await session.close()

    return asyncio.run(go())


def trace_of(session: Session) -> list[Msg]:
    return [m.to_json() for m in session.trace.messages()]


def signed_return_link(messages: list[Msg], order_id: str) -> str:
    for m in messages:
        location = m["headers"].get("location", "") if m["direction"] == "response" else ""
        if urlsplit(location).path == "/return" and query_of(location)["order_id"] == order_id:
            assert "sig" in query_of(location), location
            return str(location)
    raise AssertionError(f"no return link for {order_id}:\n{listing(messages)}")


def abandoned(decision: Decision) -> Scenario:
    """The customer pays on the processor's page and closes the tab: the order stays pending
    with a genuine signed return link in the trace that nobody followed yet."""
    return Scenario(mode="redirect", notify="return", decision=decision, abandon_after_payment=True)


def test_an_edited_return_url_never_marks_the_order_paid() -> None:
    async def body(session: Session, _: VirtualClock) -> None:
        world = session.world
        result = await session.run_checkout(abandoned("decline"))
        order_id = result.order_id
        assert order_id is not None
        assert result.order_status == "pending"
        link = signed_return_link(trace_of(session), order_id)
        assert query_of(link)["status"] == "failed"
        before = world.orders.transitions(order_id)
        browser = world.network.client("browser")

        edits = {
            "status": link.replace("status=failed", "status=paid"),
            "status and code": link.replace("status=failed", "status=paid").replace(
                "code=05", "code=00"
            ),
            "signature removed": link.replace("status=failed", "status=paid").split("&sig=")[0],
        }
        for edit, forged in edits.items():
            assert forged != link
            response = await browser.get(forged)
            assert 400 <= response.status_code < 500, (edit, response.status_code)
            assert "nothing was changed" in response.text, edit
            order = world.orders.get(order_id)
            assert order is not None
            assert order.status == "pending", edit
            assert world.orders.transitions(order_id) == before, edit

        # The genuine link is accepted: it was the edit that was refused.
        response = await browser.get(link)
        assert response.status_code == 303
        order = world.orders.get(order_id)
        assert order is not None
        assert order.status == "failed"
        assert world.orders.transitions(order_id)[:-1] == before
        assert world.orders.transitions(order_id)[-1][:2] == ("pending", "failed")

    with_session(body, sweep=False)


def test_a_signed_return_url_for_another_order_is_refused() -> None:
    async def body(session: Session, _: VirtualClock) -> None:
        world = session.world
        declined = await session.run_checkout(abandoned("decline"))
        approved = await session.run_checkout(abandoned("approve"))
        orders = {}
        for result in (declined, approved):
            assert result.order_id is not None
            order = world.orders.get(result.order_id)
            assert order is not None
            assert order.status == "pending"
            orders[result.order_id] = order
        (a, order_a), (b, order_b) = orders.items()
        before = {oid: world.orders.transitions(oid) for oid in orders}
        browser = world.network.client("browser")
        shop_return = world.network.url("merchant", "/return")

        # Signed with the processor's real key, but the session belongs to another order.
        for session_id, order_id in ((order_b.payment_ref, a), (order_a.payment_ref, b)):
            assert session_id is not None
            params = {"session_id": session_id, "order_id": order_id, "status": "paid"}
            params["code"] = "00"
            link = f"{shop_return}?{return_url.signed_query(params, world.secrets.return_secret)}"
            response = await browser.get(link)
            assert 400 <= response.status_code < 500, (order_id, response.status_code)

        # A correctly signed "paid" for the declined order's own session is checked with
        # the processor, which knows better.
        assert order_a.payment_ref is not None
        params = {"session_id": order_a.payment_ref, "order_id": a, "status": "paid", "code": "00"}
        link = f"{shop_return}?{return_url.signed_query(params, world.secrets.return_secret)}"
        response = await browser.get(link)
        assert response.status_code < 500
        page = await browser.get(world.network.url("merchant", f"/orders/{a}"))
        assert PageText(page.text).ids["order-status"] != "paid"

        for order_id in orders:
            order = world.orders.get(order_id)
            assert order is not None
            assert order.status == "pending"
            assert world.orders.transitions(order_id) == before[order_id]

    with_session(body, sweep=False)


class FailFirstNotifications:
    """Pure ASGI: the merchant's endpoint is down (503) for the first `failures` POSTs to
    /webhooks/payviz; after that every request reaches the real merchant."""

    def __init__(self, app: ASGIApp, failures: int) -> None:
        self.app = app
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.failures > 0
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == WEBHOOK_PATH
        ):
            self.failures -= 1
            while True:
                event = await receive()
                if event["type"] != "http.request" or not event.get("more_body", False):
                    break
            body = b'{"error":{"type":"unavailable","message":"try again later"}}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_notification_is_retried_until_delivered_and_applied_once() -> None:
    async def body(session: Session, clock: VirtualClock) -> None:
        world = session.world
        # Wrapped before the merchant has served a request, so every client meets it.
        world.merchant.app.add_middleware(FailFirstNotifications, failures=2)
        started = clock.now()
        result = await session.run_checkout(
            Scenario(mode="redirect", notify="webhook", abandon_after_payment=True)
        )
        order_id = result.order_id
        assert order_id is not None
        assert result.order_status == "paid"
        messages = trace_of(session)

        attempts = webhook_posts(messages)
        assert len(attempts) == 3, listing(messages)
        assert len({m["headers"]["webhook-id"] for m in attempts}) == 1
        assert [response_to(messages, m)["status"] for m in attempts] == [503, 503, 200]
        # Retries follow the schedule (5 s, then 5 min, with jitter) on the virtual clock.
        gaps = [later["ts"] - earlier["ts"] for earlier, later in itertools.pairwise(attempts)]
        assert 4.5 <= gaps[0] <= 5.5
        assert 4.5 * 60 <= gaps[0] + gaps[1] <= 5.5 * 60
        assert clock.now() - started >= 4.5 * 60
        transitions = world.orders.transitions(order_id)
        assert [t[:2] for t in transitions] == [(None, "pending"), ("pending", "paid")]

        # The same notification again, byte for byte: acknowledged as a duplicate, no effect.
        delivered = attempts[-1]
        response = await world.network.client("processor").post(
            delivered["url"], content=delivered["body"].encode(), headers=delivered["headers"]
        )
        assert response.status_code == 200
        assert response.json() == {"received": True, "duplicate": True}
        assert world.orders.transitions(order_id) == transitions
        assert len(world.orders.outbox()) == 1  # one confirmation email, not two

    with_session(body)


def test_a_late_failure_notice_for_the_first_attempt_does_not_undo_a_retry() -> None:
    async def body(session: Session, _: VirtualClock) -> None:
        world = session.world
        world.merchant.redirect_notify = "both"
        browser = world.network.client("browser")
        shop = world.network.url("merchant", "/checkout")
        form = {"amount": "19.99", "currency": "USD", "flow": "redirect", "email": "c@example.com"}
        first = await browser.post(shop, data=form)
        assert first.status_code == 303
        card = {"card_number": DECLINED_CARD, "exp": "12/30", "cvc": "123"}
        paid = await browser.post(first.headers["location"], data=card)
        link = paid.headers["location"]
        order_id = query_of(link)["order_id"]
        assert (await browser.get(link)).status_code == 303  # the return marks it failed
        # The processor's payment.failed notice is still on its way when the customer
        # retries with another card.
        retry = await browser.post(world.network.url("merchant", f"/orders/{order_id}/retry"))
        assert retry.status_code == 303
        await world.settle()  # ... and now it arrives
        card = {"card_number": APPROVED_CARD, "exp": "12/30", "cvc": "123"}
        paid = await browser.post(retry.headers["location"], data=card)
        await browser.get(paid.headers["location"])
        await world.settle()
        order = world.orders.get(order_id)
        assert order is not None
        assert order.status == "paid", world.orders.transitions(order_id)

    with_session(body)


# -- the merchant never sees the card ------------------------------------------------------


class SeenByMerchant:
    """Pure ASGI: keeps every request as it reaches the merchant, before anything redacts it."""

    def __init__(self, app: ASGIApp, sink: list[str]) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if event["type"] != "http.request" or not event.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = "\n".join(f"{k.decode()}: {v.decode()}" for k, v in scope["headers"])
        query = scope.get("query_string", b"").decode()
        self.sink.append(
            f"{scope['method']} {scope['path']}?{query}\n{headers}\n\n"
            + body.decode("utf-8", errors="replace")
        )
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])")
_CVC_VALUE = re.compile(r"""\b(?:cvc|cvv)\d?\b["']?\s*[:=]""", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_data_in(text: str, typed: tuple[str, ...]) -> list[str]:
    """Card numbers (Luhn-valid 13-19 digit runs, or the numbers typed) and CVC values."""
    found: list[str] = []
    for variant in {text, unquote_plus(text)}:
        for run in _DIGIT_RUN.findall(variant):
            digits = re.sub(r"\D", "", run)
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(f"card number {run!r}")
        found += [f"card number {n}" for n in typed if n in re.sub(r"[ -]", "", variant)]
        found += [f"CVC field {m.group(0)!r}" for m in _CVC_VALUE.finditer(variant)]
    return found


def test_the_merchant_never_receives_card_data_in_redirect_mode() -> None:
    typed = (APPROVED_CARD, DECLINED_CARD)

    async def body(session: Session, _: VirtualClock) -> None:
        world = session.world
        raw: list[str] = []
        world.merchant.app.add_middleware(SeenByMerchant, sink=raw)
        for scenario in (
            Scenario(mode="redirect", notify="both"),
            Scenario(mode="redirect", notify="webhook"),
            Scenario(mode="redirect", notify="return"),
            Scenario(mode="redirect", decision="decline", retry_card=APPROVED_CARD),
        ):
            result = await session.run_checkout(scenario)
            assert result.order_status == "paid", scenario
        to_merchant = [m for m in trace_of(session) if m["dst"] == "merchant"]
        heard = {seen.split("?", 1)[0] for seen in raw}
        assert {"POST /checkout", "GET /return", f"POST {WEBHOOK_PATH}"} <= heard, heard
        assert any(line.endswith("/retry") for line in heard), heard
        assert {m["src"] for m in to_merchant} == {"browser", "processor"}
        for m in to_merchant:
            wire = "\n".join([m["url"] or "", json.dumps(m["headers"]), m["body"]])
            assert not card_data_in(wire, typed), (m["summary"], card_data_in(wire, typed))
        for seen in raw:
            assert not card_data_in(seen, typed), (seen.splitlines()[0], card_data_in(seen, typed))

        # The same scan does see the card when the merchant takes it itself (direct flow).
        raw.clear()
        await session.run_checkout(Scenario(mode="direct"))
        found = [hit for seen in raw for hit in card_data_in(seen, typed)]
        assert f"card number {APPROVED_CARD!r}" in found
        assert any(hit.startswith("CVC field") for hit in found)

    with_session(body)


# -- bad input at the actors ---------------------------------------------------------------


def bank_state(world: World) -> tuple[list[Any], dict[str, tuple[int, dict[str, int]]]]:
    accounts = {pan: (a.balance_minor, dict(a.holds)) for pan, a in world.bank.accounts.items()}
    return list(world.bank.ledger), accounts


def signed(secret: str, msg_id: str, when: float, body: str) -> dict[str, str]:
    stamp = datetime.fromtimestamp(int(when), tz=UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when)),
        "webhook-signature": Webhook(secret).sign(msg_id, stamp, body),
    }


def test_bad_input_is_refused_with_4xx_and_changes_nothing() -> None:
    async def body(session: Session, clock: VirtualClock) -> None:
        world = session.world
        world.merchant.redirect_notify = "both"
        browser = world.network.client("browser")
        merchant = world.network.client("merchant")
        key = {"authorization": f"Bearer {world.secrets.merchant_processor_key}"}
        wrong_key = {"authorization": "Bearer pk_shop_not_the_key"}

        checkout = await browser.post(
            world.network.url("merchant", "/checkout"),
            data={"amount": "19.99", "currency": "USD", "flow": "redirect"},
        )
        assert checkout.status_code == 303
        pay_url = checkout.headers["location"]
        session_id = urlsplit(pay_url).path.rsplit("/", 1)[-1]
        lookup = f"{world.network.url('processor', '/v1/checkout/sessions')}/{session_id}"
        order_id = (await merchant.get(lookup, headers=key)).json()["order_id"]
        orders_before = world.orders.transitions(order_id)
        bank_before = bank_state(world)

        async def still_open() -> None:
            status = await merchant.get(lookup, headers=key)
            assert status.status_code == 200
            assert status.json()["status"] == "open"
            assert (await browser.get(pay_url)).status_code == 200

        # Malformed card forms: the page comes back (422) saying what is wrong.
        form = {"card_number": APPROVED_CARD, "exp": "12/30", "cvc": "123"}
        for problem, changes in {
            "fails the Luhn check": {"card_number": "4242424242424241"},
            "not one of them": {"card_number": "5555555555554444"},
            "only digits": {"card_number": "4242-abcd"},
            "expiry must be MM/YY": {"exp": "13/30"},
            "expiry must be MM/YY ": {"exp": "1230"},
            "CVC must be 3 or 4 digits": {"cvc": "12"},
        }.items():
            response = await browser.post(pay_url, data=form | changes)
            assert response.status_code == 422, problem
            assert response.headers["content-type"].startswith("text/html")
            assert problem.strip() in response.text
            assert {"card_number", "exp", "cvc"} <= set(PageText(response.text).inputs)
            await still_open()
        for raw_body in (b"", b"\xff\xfe%%%&&==", b"card_number=%E0%A4%A"):
            response = await browser.post(
                pay_url,
                content=raw_body,
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 422, raw_body
            await still_open()

        # Unknown checkout sessions.
        unknown = world.network.url("processor", "/pay/cs_0000000000000000")
        assert (await browser.get(unknown)).status_code == 404
        assert (await browser.post(unknown, data=form)).status_code == 404
        missing = f"{world.network.url('processor', '/v1/checkout/sessions')}/cs_00000000"
        assert (await merchant.get(missing, headers=key)).status_code == 404

        # The processor's API without the right key.
        create = {
            "order_id": order_id,
            "amount_minor": 1999,
            "currency": "USD",
            "return_url": world.network.url("merchant", "/return"),
        }
        sessions = world.network.url("processor", "/v1/checkout/sessions")
        for headers in (wrong_key, {}):
            response = await merchant.post(sessions, json=create, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["type"] == "authentication_error"
            response = await merchant.get(lookup, headers=headers)
            assert response.status_code == 401
            assert session_id not in response.text
        assert len(world.processor.checkout_sessions) == 1

        # Notifications the merchant must not believe.
        secret = world.secrets.webhook_secrets["merchant"]
        event = json.dumps(
            {"type": "payment.succeeded", "data": {"order_id": order_id, "response_code": "00"}}
        )
        other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        genuine = signed(secret, "msg_forged0001", clock.now(), event)
        forgeries = {
            "wrong secret": (event, signed(other, "msg_forged0002", clock.now(), event)),
            "body edited": (event.replace("00", "05"), genuine),
            "replayed late": (event, signed(secret, "msg_forged0003", clock.now() - 600, event)),
            "unsigned": (event, {"content-type": "application/json"}),
        }
        hook = world.network.url("merchant", WEBHOOK_PATH)
        for name, (content, headers) in forgeries.items():
            response = await world.network.client("processor").post(
                hook, content=content, headers=headers
            )
            assert response.status_code == 400, name
            assert response.json()["error"]["type"] == "invalid_signature"

        # Thirty-one minutes later the checkout has expired.
        clock.advance(31 * 60)
        assert (await browser.get(pay_url)).status_code == 410
        assert (await browser.post(pay_url, data=form)).status_code == 410

        messages = trace_of(session)
        answers = [m for m in messages if m["direction"] == "response"]
        assert answers
        assert not [m for m in answers if (m["status"] or 0) >= 500 or m["error"]]
        assert not [m for m in messages if m["protocol"] == "iso8583"]
        forged = webhook_posts(messages)
        assert len(forged) == len(forgeries)
        assert {response_to(messages, m)["status"] for m in forged} == {400}
        assert world.orders.transitions(order_id) == orders_before
        order = world.orders.get(order_id)
        assert order is not None
        assert order.status == "pending"
        assert bank_state(world) == bank_before

    with_session(body)
