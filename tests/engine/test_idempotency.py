"""Idempotency keys: a retried payment is charged once and answered with the stored response."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from payviz.engine import iso_messages
from payviz.engine.actors.idempotency import (
    KEY_LIFETIME_SECONDS,
    MAX_KEY_LENGTH,
    IdempotencyError,
    IdempotencyStore,
)
from payviz.engine.clock import VirtualClock
from tests.helpers.engine import APPROVED_CARD, LiveSession, iso


@pytest.fixture
def live() -> Iterator[LiveSession]:
    harness = LiveSession()
    try:
        yield harness
    finally:
        harness.close()


def payment_body(order_id: str = "ord_idem", amount_minor: int = 1999) -> bytes:
    return json.dumps(
        {
            "order_id": order_id,
            "amount_minor": amount_minor,
            "currency": "USD",
            "card": {"number": APPROVED_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
        separators=(",", ":"),
    ).encode()


def post_payment(live: LiveSession, body: bytes, key: str) -> httpx.Response:
    """POST /v1/payments as the merchant does, through its capturing client."""
    return live.run(_post(live, body, key))


def holds(live: LiveSession) -> list[Any]:
    return [e for e in live.world.bank.ledger if e.kind == "hold"]


def test_a_retry_with_the_same_key_is_charged_once_and_replayed(live: LiveSession) -> None:
    key = str(uuid.uuid4())
    body = payment_body()
    balance = live.world.bank.accounts[APPROVED_CARD].balance_minor

    first = post_payment(live, body, key)
    live.run(live.world.settle())
    second = post_payment(live, body, key)
    live.run(live.world.settle())

    assert first.status_code == 201
    assert json.loads(first.content)["status"] == "succeeded"
    assert "idempotent-replayed" not in first.headers
    assert second.status_code == first.status_code
    assert second.content == first.content, "the stored response, byte for byte"
    assert second.headers["idempotent-replayed"] == "true"

    messages = live.session.trace.messages()
    assert len(iso(messages, "0100")) == 1, "the bank was asked once"
    assert len(holds(live)) == 1
    assert balance - live.world.bank.accounts[APPROVED_CARD].balance_minor == 1999
    assert len(live.world.gateway.payments) == 1
    replay = [m for m in messages if m.headers.get("idempotent-replayed") == "true"]
    assert len(replay) == 1, "the trace shows the replay"
    assert replay[0].body == first.content.decode()


def test_the_same_key_with_another_body_is_an_idempotency_error(live: LiveSession) -> None:
    key = str(uuid.uuid4())
    assert post_payment(live, payment_body(amount_minor=1999), key).status_code == 201
    live.run(live.world.settle())
    before = (len(holds(live)), len(iso(live.session.trace.messages(), "0100")))

    refused = post_payment(live, payment_body(amount_minor=2999), key)

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["type"] == "idempotency_error"
    assert "different parameters" in error["message"]
    assert (len(holds(live)), len(iso(live.session.trace.messages(), "0100"))) == before


class BankOnHold(VirtualClock):
    """Virtual time whose `BANK_PAUSE`-second sleep (the bank's latency) waits for a release.

    The injected clock is the seam: the test decides when the bank answers, so a retry can
    arrive while the first request is certainly still running, with no real waiting.
    """

    BANK_PAUSE = 7.0

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds == self.BANK_PAUSE:
            self.reached.set()
            await self.release.wait()
        await super().sleep(seconds)


def test_a_retry_while_the_first_request_runs_gets_409() -> None:
    clock = BankOnHold()
    live = LiveSession(clock=clock)
    try:
        live.world.bank.latency = BankOnHold.BANK_PAUSE
        key = str(uuid.uuid4())
        body = payment_body()

        async def retry_while_running() -> tuple[httpx.Response, httpx.Response]:
            first = asyncio.ensure_future(_post(live, body, key))
            await clock.reached.wait()  # the first request is at the bank
            second = await _post(live, body, key)
            clock.release.set()
            return await first, second

        first, second = live.run(retry_while_running())
        live.run(live.world.settle())
        assert second.status_code == 409
        assert second.json()["error"]["type"] == "idempotency_key_in_use"
        assert first.status_code == 201
        assert len(holds(live)) == 1
        third = post_payment(live, body, key)
        assert third.headers["idempotent-replayed"] == "true"
        assert third.content == first.content
    finally:
        live.close()


async def _post(live: LiveSession, body: bytes, key: str) -> httpx.Response:
    world = live.world
    return await world.network.client("merchant").post(
        world.network.url("gateway", "/v1/payments"),
        content=body,
        headers={
            "authorization": f"Bearer {world.secrets.gateway_api_key}",
            "idempotency-key": key,
            "content-type": "application/json",
        },
    )


def test_a_resent_authorization_with_the_same_stan_holds_once(live: LiveSession) -> None:
    fields = {
        "t": "0100",
        "2": APPROVED_CARD,
        "3": "000000",
        "4": "000000001999",
        "7": "1126120000",
        "11": "700001",
        "37": "000000700001",
        "41": "PAYVIZ01",
        "42": "merchant_payviz",
        "49": "840",
    }
    client = live.world.network.client("processor")
    url = live.world.network.url("bank", "/iso8583")
    headers = {"content-type": iso_messages.CONTENT_TYPE}
    answers = [
        iso_messages.decode(
            live.run(client.post(url, content=iso_messages.encode(fields), headers=headers)).content
        )
        for _ in range(2)
    ]
    assert [a["39"] for a in answers] == ["00", "94"], "the repeat is a duplicate transmission"
    assert len(holds(live)) == 1
    assert live.world.bank.open_holds() == 1


# -- the store itself, on a virtual clock ----------------------------------------------


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_800_000_000.0)


@pytest.fixture
def store(clock: VirtualClock) -> IdempotencyStore:
    return IdempotencyStore(clock)


def test_store_replays_the_finished_response(store: IdempotencyStore) -> None:
    assert store.begin("acct", "key-1", b"body") is None
    store.finish("acct", "key-1", 201, b'{"id":"pay_1"}')
    stored = store.begin("acct", "key-1", b"body")
    assert stored is not None
    assert (stored.status, stored.body) == (201, b'{"id":"pay_1"}')


def test_store_refuses_a_key_still_in_flight_with_409(store: IdempotencyStore) -> None:
    assert store.begin("acct", "key-1", b"body") is None
    with pytest.raises(IdempotencyError) as refused:
        store.begin("acct", "key-1", b"body")
    assert (refused.value.status, refused.value.code) == (409, "idempotency_key_in_use")


def test_store_refuses_other_parameters(store: IdempotencyStore) -> None:
    store.begin("acct", "key-1", b"body")
    store.finish("acct", "key-1", 201, b"{}")
    with pytest.raises(IdempotencyError) as refused:
        store.begin("acct", "key-1", b"another body")
    assert (refused.value.status, refused.value.code) == (422, "idempotency_error")


def test_store_keeps_keys_apart_per_account(store: IdempotencyStore) -> None:
    store.begin("acct-a", "key-1", b"body")
    assert store.begin("acct-b", "key-1", b"body") is None


def test_store_lets_a_retry_run_after_an_abandoned_first_attempt(
    store: IdempotencyStore,
) -> None:
    store.begin("acct", "key-1", b"body")
    store.abandon("acct", "key-1")
    assert store.begin("acct", "key-1", b"body") is None


def test_store_prunes_keys_after_24_hours(store: IdempotencyStore, clock: VirtualClock) -> None:
    store.begin("acct", "key-1", b"body")
    store.finish("acct", "key-1", 201, b"{}")
    clock.advance(KEY_LIFETIME_SECONDS)
    assert store.begin("acct", "key-1", b"body") is not None, "still kept at exactly 24 h"
    clock.advance(1)
    assert store.begin("acct", "key-1", b"body") is None, "pruned: runs afresh"
    store.finish("acct", "key-1", 201, b"{}")
    clock.advance(KEY_LIFETIME_SECONDS + 1)
    assert store.begin("acct", "key-1", b"another body") is None, "any body once pruned"


@pytest.mark.parametrize("key", ["", "k" * (MAX_KEY_LENGTH + 1)])
def test_store_refuses_empty_or_overlong_keys(store: IdempotencyStore, key: str) -> None:
    with pytest.raises(IdempotencyError) as refused:
        store.begin("acct", key, b"body")
    assert (refused.value.status, refused.value.code) == (400, "idempotency_error")


def test_a_key_of_255_characters_is_fine(store: IdempotencyStore) -> None:
    assert store.begin("acct", "k" * MAX_KEY_LENGTH, b"body") is None


def test_a_request_still_running_after_24_hours_is_not_pruned(
    store: IdempotencyStore, clock: VirtualClock
) -> None:
    """The first request may outlive the key's lifetime (a bank that answers very late):
    pruning must not pull its entry away, or finishing it fails and a retry runs twice."""
    store.begin("acct", "slow", b"body")
    clock.advance(KEY_LIFETIME_SECONDS + 1)
    assert store.begin("acct", "other", b"body") is None  # prunes what has expired
    with pytest.raises(IdempotencyError) as refused:
        store.begin("acct", "slow", b"body")
    assert refused.value.status == 409, "still running"
    store.finish("acct", "slow", 201, b"{}")
    clock.advance(KEY_LIFETIME_SECONDS)
    stored = store.begin("acct", "slow", b"body")
    assert stored is not None, "kept for 24 h from its answer"
    assert stored.status == 201
