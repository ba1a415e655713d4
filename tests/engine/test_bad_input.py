"""Bad input at every actor: a 4xx with a reason (never a 500), in the trace, nothing changed.

Every request goes through the world's own capturing clients, as another actor would send
it, so the refusal is also checked as the trace records it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from payviz.engine import iso_messages
from payviz.engine._types import Party
from payviz.engine.cards import redact
from payviz.engine.clock import VirtualClock
from payviz.engine.jwe import Decrypter, JweError
from payviz.engine.trace import Message
from payviz.engine.webhooks import Signer, new_secret
from payviz.engine.world import World
from tests.helpers.engine import APPROVED_CARD, LiveSession

Body = Callable[[World], bytes]
Headers = Callable[[World], dict[str, str]]

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
ISO = {"content-type": iso_messages.CONTENT_TYPE}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveSession]:
    harness = LiveSession()
    try:
        yield harness
    finally:
        harness.close()


def snapshot(live: LiveSession) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    world = live.world
    return {
        "published": [
            (s.party, s.key, json.dumps(s.value, sort_keys=True))
            for s in live.session.trace.states()
            if s.key in ("order", "account")
        ],
        "payments": json.dumps(world.gateway.payments, sort_keys=True),
        "authorizations": sorted(world.processor.authorizations),
        "ledger": list(world.bank.ledger),
        "accounts": {p: (a.balance_minor, dict(a.holds)) for p, a in world.bank.accounts.items()},
        "deliveries": len(world.dispatcher.deliveries),
    }


@dataclass(frozen=True)
class Refusal:
    status: int
    body: str
    request: Message
    response: Message


def send(
    live: LiveSession, sender: Party, target: Party, path: str, body: bytes, headers: dict[str, str]
) -> Refusal:
    """Post as `sender` through its capturing client; return the answer as the trace saw it."""
    first = live.session.trace.next_seq()
    client = live.world.network.client(sender)
    url = live.world.network.url(target, path)
    response = live.run(client.post(url, content=body, headers=headers))
    messages = live.messages_since(first)
    assert len(messages) == 2, [m.summary for m in messages]
    request, answer = messages
    assert (request.src, request.dst, request.direction) == (sender, target, "request")
    assert (answer.src, answer.dst, answer.direction) == (target, sender, "response")
    assert request.exchange == answer.exchange
    assert answer.status == response.status_code
    assert answer.failed
    return Refusal(response.status_code, response.text, request, answer)


def assert_refused(refusal: Refusal, status: int, code: str, reason: str) -> None:
    assert refusal.status == status, refusal.body
    error = json.loads(refusal.body)["error"]
    assert error["type"] == code
    assert reason.lower() in error["message"].lower()
    assert refusal.response.body == redact(refusal.body), "the trace holds the reason too"


# -- the gateway's payment API -----------------------------------------------------------


def payment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "ord_bad_input",
        "amount_minor": 1999,
        "currency": "USD",
        "card": {"number": APPROVED_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    }
    body.update(changes)
    return body


def card(number: str) -> dict[str, Any]:
    return {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def merchant_key(world: World) -> dict[str, str]:
    return {**JSON, "authorization": f"Bearer {world.secrets.gateway_api_key}"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b'{"order_id": "ord_1", "amount_minor": ', "invalid json", id="malformed"),
        pytest.param(json.dumps({"order_id": "ord_1"}).encode(), "field required", id="missing"),
        pytest.param(
            json.dumps(payment(amount_minor=-1999)).encode(), "greater than 0", id="negative"
        ),
        pytest.param(
            json.dumps(payment(card=card("4111111111111111"))).encode(),
            "accepts only test cards",
            id="unknown-card",
        ),
        pytest.param(
            json.dumps(payment(card=card("4242424242424241"))).encode(),
            "luhn",
            id="luhn-invalid-card",
        ),
        pytest.param(
            json.dumps(payment(currency="XXX")).encode(), "unknown currency", id="currency"
        ),
    ],
)
def test_gateway_refuses_a_bad_payment(live: LiveSession, body: bytes, reason: str) -> None:
    before = snapshot(live)
    refusal = send(live, "merchant", "gateway", "/v1/payments", body, merchant_key(live.world))
    assert_refused(refusal, 422, "invalid_request", reason)
    assert "4111111111111111" not in refusal.request.body + refusal.response.body
    assert snapshot(live) == before


def test_gateway_refuses_a_wrong_api_key(live: LiveSession) -> None:
    before = snapshot(live)
    headers = {**JSON, "authorization": "Bearer sk_test_not_a_real_key"}
    body = json.dumps(payment()).encode()
    refusal = send(live, "merchant", "gateway", "/v1/payments", body, headers)
    assert_refused(refusal, 401, "authentication_error", "API key")
    assert snapshot(live) == before


# -- signed notifications at the gateway and the merchant ---------------------------------

RECEIVERS: dict[str, tuple[Party, Party, str]] = {
    "gateway": ("processor", "gateway", "/v1/notifications"),
    "merchant": ("gateway", "merchant", "/webhooks/payviz"),
}
EVENT = json.dumps(
    {
        "type": "payment.succeeded",
        "data": {"order_id": "ord_forged", "payment_id": "pay_forged", "response_code": "00"},
    },
    separators=(",", ":"),
)


def _signed(secret: str, clock: Any, body: str) -> dict[str, str]:
    return {**JSON, **Signer(secret, clock).headers("msg_forged", body)}


def wrong_secret(world: World, receiver: str, now: float) -> tuple[str, dict[str, str]]:
    return EVENT, _signed(new_secret(), VirtualClock(now), EVENT)


def tampered_body(world: World, receiver: str, now: float) -> tuple[str, dict[str, str]]:
    secret = world.secrets.webhook_secrets[receiver]
    honest = EVENT.replace("payment.succeeded", "payment.failed")
    return EVENT, _signed(secret, VirtualClock(now), honest)


def stale(world: World, receiver: str, now: float) -> tuple[str, dict[str, str]]:
    secret = world.secrets.webhook_secrets[receiver]
    return EVENT, _signed(secret, VirtualClock(now - 301), EVENT)


def unsigned(world: World, receiver: str, now: float) -> tuple[str, dict[str, str]]:
    return EVENT, dict(JSON)


@pytest.mark.parametrize("receiver", list(RECEIVERS))
@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(wrong_secret, "no webhook-signature matches", id="wrong-secret"),
        pytest.param(tampered_body, "no webhook-signature matches", id="tampered-body"),
        pytest.param(stale, "s old (tolerance 300 s)", id="301s-old"),
        pytest.param(unsigned, "missing webhook-id", id="unsigned"),
    ],
)
def test_a_bad_notification_signature_is_refused(
    live: LiveSession,
    receiver: str,
    forge: Callable[[World, str, float], tuple[str, dict[str, str]]],
    reason: str,
) -> None:
    sender, target, path = RECEIVERS[receiver]
    body, headers = forge(live.world, receiver, live.session.clock.now())
    before = snapshot(live)
    refusal = send(live, sender, target, path, body.encode(), headers)
    assert_refused(refusal, 400, "invalid_signature", reason)
    assert snapshot(live) == before, "nothing relayed, no order moved"


def test_gateway_refuses_a_signed_notification_that_is_not_an_event(live: LiveSession) -> None:
    secret = live.world.secrets.webhook_secrets["gateway"]
    body = "not json at all"
    headers = _signed(secret, live.session.clock, body)
    before = snapshot(live)
    refusal = send(live, "processor", "gateway", "/v1/notifications", body.encode(), headers)
    assert_refused(refusal, 400, "invalid_request", "JSON object")
    assert snapshot(live) == before


# -- the processor ----------------------------------------------------------------------


def flip_one_ciphertext_byte(token: str) -> str:
    parts = token.split(".")
    cipher = bytearray(base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)))
    cipher[len(cipher) // 2] ^= 0x01
    parts[3] = base64.urlsafe_b64encode(bytes(cipher)).rstrip(b"=").decode()
    return ".".join(parts)


def authorization(world: World, number: str = APPROVED_CARD, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchant_id": "merchant_payviz_shop",
        "payment_id": "pay_bad_input",
        "order_id": "ord_bad_input",
        "amount_minor": 1999,
        "currency": "USD",
        "payment": world.gateway.encrypter.seal(card(number)),
    }
    body.update(changes)
    return body


def gateway_key(world: World) -> dict[str, str]:
    return {**JSON, "authorization": f"Bearer {world.secrets.processor_api_key}"}


PROCESSOR_CASES: list[Any] = [
    pytest.param(
        lambda w: json.dumps(
            authorization(w, payment=flip_one_ciphertext_byte(authorization(w)["payment"]))
        ).encode(),
        gateway_key,
        400,
        "decryption_failed",
        "decryption failed",
        id="tampered-jwe",
    ),
    pytest.param(
        lambda w: json.dumps(authorization(w, "4111111111111111")).encode(),
        gateway_key,
        422,
        "invalid_card",
        "accepts only test cards",
        id="unknown-card",
    ),
    pytest.param(
        lambda w: json.dumps(authorization(w, amount_minor=-1)).encode(),
        gateway_key,
        422,
        "invalid_request",
        "greater than 0",
        id="negative-amount",
    ),
    pytest.param(
        lambda w: b'{"merchant_id": "m", "payment":',
        gateway_key,
        422,
        "invalid_request",
        "JSON",
        id="malformed-json",
    ),
    pytest.param(
        lambda w: json.dumps({"merchant_id": "merchant_payviz_shop"}).encode(),
        gateway_key,
        422,
        "invalid_request",
        "field required",
        id="missing-fields",
    ),
    pytest.param(
        lambda w: json.dumps(authorization(w)).encode(),
        lambda w: {**JSON, "authorization": "Bearer gw_live_wrong"},
        401,
        "authentication_error",
        "API key",
        id="wrong-api-key",
    ),
]


@pytest.mark.parametrize(("body", "headers", "status", "code", "reason"), PROCESSOR_CASES)
def test_processor_refuses_bad_input(
    live: LiveSession, body: Body, headers: Headers, status: int, code: str, reason: str
) -> None:
    before = snapshot(live)
    refusal = send(
        live, "gateway", "processor", "/v1/authorizations", body(live.world), headers(live.world)
    )
    assert_refused(refusal, status, code, reason)
    assert snapshot(live) == before, "no authorization, no bank call"


def test_the_untampered_token_opens(live: LiveSession) -> None:
    """The control for the tampered-JWE case: the same kind of token, not flipped, opens."""
    token = authorization(live.world)["payment"]
    opener = Decrypter(live.world.secrets.processor_keys)
    assert opener.open(token)["number"] == APPROVED_CARD
    with pytest.raises(JweError):
        opener.open(flip_one_ciphertext_byte(token))


# -- the merchant's checkout ------------------------------------------------------------


def checkout(**changes: str) -> bytes:
    form = {
        "amount": "19.99",
        "currency": "USD",
        "flow": "direct",
        "card_number": APPROVED_CARD,
        "exp": "12/30",
        "cvc": "123",
    }
    form.update(changes)
    return urlencode({k: v for k, v in form.items() if v != "<absent>"}).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"\xff\xfe%%%&&==", "unknown currency", id="malformed-form"),
        pytest.param(checkout(card_number="<absent>"), "only digits", id="missing-card"),
        pytest.param(checkout(amount="-19.99"), "amount must be positive", id="negative"),
        pytest.param(checkout(card_number="4111111111111111"), "only test cards", id="unknown"),
        pytest.param(checkout(card_number="4242424242424241"), "Luhn", id="luhn-invalid"),
        pytest.param(checkout(cvc="12"), "CVC must be 3 or 4 digits", id="short-cvc"),
    ],
)
def test_merchant_refuses_a_bad_checkout_form(live: LiveSession, body: bytes, reason: str) -> None:
    before = snapshot(live)
    refusal = send(live, "browser", "merchant", "/checkout", body, FORM)
    assert refusal.status == 422
    assert reason in refusal.body, "the form comes back with the reason on it"
    assert "<form" in refusal.body
    assert refusal.response.body == redact(refusal.body)
    assert "4111111111111111" not in refusal.request.body + refusal.response.body
    assert snapshot(live) == before, "no order created"


# -- the bank's ISO 8583 endpoint -------------------------------------------------------


def iso_fields(**changes: str | None) -> dict[str, str]:
    fields = {
        "t": "0100",
        "2": APPROVED_CARD,
        "3": "000000",
        "4": "000000001999",
        "7": "1126120000",
        "11": "900001",
        "37": "000000900001",
        "41": "PAYVIZ01",
        "42": "merchant_payviz",
        "49": "840",
    }
    for key, value in changes.items():
        name = key.removeprefix("f")
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        pytest.param(b"0100 this is not ISO 8583", "invalid_iso8583", "cannot decode", id="junk"),
        pytest.param(
            iso_messages.encode(iso_fields())[:-7], "invalid_iso8583", "cannot decode", id="cut"
        ),
        pytest.param(
            iso_messages.encode(iso_fields(f4="-00000001999")),
            "invalid_iso8583",
            "field 4",
            id="negative-amount",
        ),
        pytest.param(
            iso_messages.encode(iso_fields(f4="0000000019x9")),
            "invalid_iso8583",
            "field 4",
            id="non-numeric-amount",
        ),
        pytest.param(
            iso_messages.encode(iso_fields(f2=None)),
            "invalid_iso8583",
            "needs field 2",
            id="missing-pan",
        ),
        pytest.param(
            iso_messages.encode(iso_fields(f4=None)),
            "invalid_iso8583",
            "needs field 4",
            id="missing-amount",
        ),
        pytest.param(
            iso_messages.encode(iso_fields(t="0800")),
            "unsupported_mti",
            "0800",
            id="unsupported-mti",
        ),
    ],
)
def test_bank_refuses_malformed_iso8583(
    live: LiveSession, body: bytes, code: str, reason: str
) -> None:
    before = snapshot(live)
    refusal = send(live, "processor", "bank", "/iso8583", body, ISO)
    assert_refused(refusal, 400, code, reason)
    assert APPROVED_CARD not in refusal.body
    assert snapshot(live) == before, "no ledger entry, balance unchanged"


def test_an_undecodable_message_is_recorded_without_its_bytes(live: LiveSession) -> None:
    body = iso_messages.encode(iso_fields())[:-7]
    refusal = send(live, "processor", "bank", "/iso8583", body, ISO)
    request = refusal.request
    assert request.protocol == "iso8583"
    assert request.error is not None
    assert "cannot decode" in request.error
    assert request.raw is None, "no fields, so nothing could be masked: the bytes are not kept"
    assert APPROVED_CARD not in json.dumps(request.to_json())


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"f2": "4111111111111111", "f11": "900014"}, "14", id="unknown-card"),
        pytest.param({"f4": "000000000000", "f11": "900013"}, "13", id="zero-amount"),
    ],
)
def test_bank_declines_in_iso8583_what_it_cannot_authorize(
    live: LiveSession, changes: dict[str, str], code: str
) -> None:
    """Well-formed requests it will not approve: an ISO decline (field 39), not an HTTP error."""
    before = snapshot(live)
    first = live.session.trace.next_seq()
    client = live.world.network.client("processor")
    raw = iso_messages.encode(iso_fields(**changes))
    url = live.world.network.url("bank", "/iso8583")
    response = live.run(client.post(url, content=raw, headers=ISO))
    assert response.status_code == 200
    reply = iso_messages.decode(response.content)
    assert (reply["t"], reply["39"]) == ("0110", code)
    answer = live.messages_since(first)[-1]
    assert answer.kind == "decline"
    assert answer.fields["39"] == code
    assert "4111111111111111" not in json.dumps(answer.to_json())
    assert snapshot(live) == before, "no hold"


def test_a_card_number_in_a_url_path_never_reaches_the_trace(live: LiveSession) -> None:
    """A 404 for an unknown order whose id is a card number: masked in url, summary and
    headers (a Referer that carries one in its query string)."""
    before = snapshot(live)
    first = live.session.trace.next_seq()
    client = live.world.network.client("browser")
    url = live.world.network.url("merchant", f"/orders/{APPROVED_CARD}")
    referer = live.world.network.url("merchant", f"/checkout?card_number={APPROVED_CARD}")
    response = live.run(client.get(url, headers={"referer": referer}))
    assert response.status_code == 404
    assert "Unknown order" in response.text
    recorded = live.messages_since(first)
    assert [m.direction for m in recorded] == ["request", "response"]
    assert recorded[0].summary == "GET /orders/424242******4242"
    assert recorded[0].headers["referer"].endswith("card_number=424242******4242")
    assert APPROVED_CARD not in json.dumps([m.to_json() for m in recorded])
    assert snapshot(live) == before
