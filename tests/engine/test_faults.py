"""Every fault payviz can inject, through a real run: the defence shows in the trace, and
the engine's invariants hold afterwards (`invariants.check(world) == []`).

Each run is a fresh Session on the virtual clock, so retries minutes apart cost nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from payviz.cli import main
from payviz.engine.actors.bank import LedgerEntry
from payviz.engine.actors.merchant_db import Order
from payviz.engine.actors.processor import Authorization
from payviz.engine.faults import FAULT_NAMES
from payviz.engine.invariants import Violation, check
from payviz.engine.scenario import Scenario
from payviz.engine.session import CheckoutResult, Session
from payviz.engine.trace import Message
from payviz.engine.world import Secrets
from tests.helpers.engine import run_cli

KEYS = Secrets.generate()  # one RSA key pair for every run of this module: faster, same rules

Transition = tuple[str | None, str, str]


@dataclass(frozen=True)
class FaultRun:
    """What one checkout with faults left behind, read before the world closed."""

    result: CheckoutResult
    messages: list[Message]
    order: Order | None
    transitions: list[Transition]
    open_holds: int
    ledger: list[LedgerEntry]
    authorizations: list[Authorization]
    violations: list[Violation]

    def iso(self, mti: str) -> list[Message]:
        return [m for m in self.messages if m.protocol == "iso8583" and m.mti == mti]

    def http(self, src: str, dst: str, method: str, path: str) -> list[Message]:
        """Requests src -> dst on that route, in order."""
        return [
            m
            for m in self.messages
            if m.direction == "request"
            and m.protocol == "http"
            and (m.src, m.dst, m.method) == (src, dst, method)
            and m.url is not None
            and m.url.split("?")[0].endswith(path)
        ]

    def answer(self, request: Message) -> Message:
        """The first response to one request (or the record of its absence); a late answer
        to the same exchange comes after it."""
        return next(
            m for m in self.messages if m.exchange == request.exchange and m.direction == "response"
        )

    def moves_to(self, status: str) -> list[Transition]:
        return [t for t in self.transitions if t[1] == status]


def run_with(*faults: str, **scenario: Any) -> FaultRun:
    """Run one checkout with these faults in a fresh world and keep what the tests read."""

    async def go() -> FaultRun:
        async with Session(keys=KEYS) as session:
            result = await session.run_checkout(Scenario(faults=faults, **scenario))
            world = session.world
            order = world.orders.get(result.order_id) if result.order_id else None
            return FaultRun(
                result=result,
                messages=session.trace.messages(),
                order=order,
                transitions=world.orders.transitions(order.id) if order else [],
                open_holds=world.bank.open_holds(),
                ledger=list(world.bank.ledger),
                authorizations=list(world.processor.authorizations.values()),
                violations=check(world),
            )

    return asyncio.run(go())


def body_of(message: Message) -> dict[str, Any]:
    data = json.loads(message.body)
    assert isinstance(data, dict)
    return data


# -- link faults ---------------------------------------------------------------------------


def test_duplicate_notification_is_delivered_twice_and_applied_once() -> None:
    run = run_with("duplicate@gateway-merchant", notify="async")
    deliveries = run.http("gateway", "merchant", "POST", "/webhooks/payviz")
    assert len(deliveries) == 2
    first, second = deliveries
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert run.answer(first).status == 200
    duplicate = run.answer(second)
    assert duplicate.status == 200
    assert body_of(duplicate).get("duplicate") is True
    # the notification, not the 202, paid the order: and only once
    assert run.moves_to("paid") == [
        ("pending", "paid", f"notification {first.headers['webhook-id']}")
    ]
    assert len(run.transitions) == 2
    assert [e.kind for e in run.ledger].count("debit") == 1
    assert run.violations == []


def test_http_500_from_the_gateway_is_retried_with_the_same_idempotency_key() -> None:
    run = run_with("http-500@merchant-gateway")
    posts = run.http("merchant", "gateway", "POST", "/v1/payments")
    assert len(posts) == 2
    refused = run.answer(posts[0])
    assert refused.status == 500
    assert refused.error is not None
    assert "never saw the request" in refused.error
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert run.answer(posts[1]).status == 201
    assert len(run.iso("0100")) == 1
    assert len(run.authorizations) == 1
    assert run.result.order_status == "paid"
    assert run.violations == []


def test_http_500_through_the_cli_reports_no_broken_invariant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["run", "--fault", "http-500@merchant-gateway", "--format", "json"])
    *messages, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert summary["type"] == "summary"
    assert summary["order_status"] == "paid"
    assert summary["invariants"] == []
    posts = [
        m
        for m in messages
        if (m["src"], m["dst"], m["method"]) == ("merchant", "gateway", "POST")
        and m["url"].endswith("/v1/payments")
    ]
    assert len(posts) == 2
    assert len({m["headers"]["idempotency-key"] for m in posts}) == 1
    assert [m["status"] for m in messages if m["status"] == 500] == [500]
    assert sum(1 for m in messages if m["mti"] == "0100") == 1


def test_reset_after_the_gateway_answered_is_replayed_from_the_idempotency_store() -> None:
    run = run_with("reset@merchant-gateway")
    first, retry = run.http("merchant", "gateway", "POST", "/v1/payments")
    lost = run.answer(first)
    assert lost.status is None
    assert lost.error is not None
    assert "reset" in lost.error
    assert first.headers["idempotency-key"] == retry.headers["idempotency-key"]
    replayed = run.answer(retry)
    assert replayed.status == 201
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert len(run.iso("0100")) == 1
    assert len(run.authorizations) == 1
    assert run.result.order_status == "paid"
    assert run.violations == []


def test_reset_between_gateway_and_processor_is_retried_as_the_same_payment() -> None:
    run = run_with("reset@gateway-processor")
    first, retry = run.http("gateway", "processor", "POST", "/v1/authorizations")
    assert run.answer(first).error is not None
    assert body_of(first)["payment_id"] == body_of(retry)["payment_id"]
    assert run.answer(retry).status == 200
    assert len(run.iso("0100")) == 1  # the processor answered the retry from its records
    assert len(run.authorizations) == 1
    assert run.result.order_status == "paid"
    assert run.violations == []


def test_dropped_notification_is_retried_after_about_five_seconds() -> None:
    run = run_with("drop@gateway-merchant", notify="async")
    first, retry = run.http("gateway", "merchant", "POST", "/webhooks/payviz")
    silence = run.answer(first)
    assert silence.status is None
    assert silence.error is not None
    assert "dropped" in silence.error
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    # the sender gave up when its timer fired, then waited 5 s (+-10 % jitter) on the clock
    assert 4.5 <= retry.ts - silence.ts <= 5.6
    assert run.answer(retry).status == 200
    assert run.moves_to("paid") == [
        ("pending", "paid", f"notification {retry.headers['webhook-id']}")
    ]
    assert run.violations == []


def test_delayed_bank_answer_is_reversed_and_recorded_late() -> None:
    run = run_with("delay@processor-bank=12")
    [request] = run.iso("0100")
    silence = run.answer(request)
    assert silence.error is not None
    assert silence.error.startswith("timeout")
    [reversal] = run.iso("0420")
    [acknowledged] = run.iso("0430")
    [late] = run.iso("0110")
    assert silence.seq < reversal.seq < acknowledged.seq < late.seq
    assert late.error is not None
    assert "late" in late.error
    assert reversal.fields["90"].startswith("0100" + request.fields["11"])
    assert run.open_holds == 0
    assert run.result.order_status == "failed"
    assert run.result.bank_response_code == "68"
    assert [e.kind for e in run.ledger].count("debit") == 0
    assert run.violations == []


def test_reordered_notification_arrives_late_and_moves_the_order_once() -> None:
    run = run_with("reorder", mode="redirect", notify="webhook")
    [notification] = run.http("processor", "merchant", "POST", "/webhooks/payviz")
    answered = run.answer(notification)
    assert answered.status == 200
    assert answered.ts - notification.ts >= 60  # held back on the wire
    pages = run.http("browser", "merchant", "GET", f"/orders/{run.result.order_id}")
    assert pages[0].seq < answered.seq  # the customer saw the order before the news came
    assert run.moves_to("paid") == [
        ("pending", "paid", f"notification {notification.headers['webhook-id']}")
    ]
    assert run.result.order_status == "paid"
    assert run.violations == []


def test_reordered_notification_after_the_return_page_changes_nothing() -> None:
    run = run_with("reorder", mode="redirect", notify="both")
    [notification] = run.http("processor", "merchant", "POST", "/webhooks/payviz")
    returned = run.http("browser", "merchant", "GET", "/return")
    assert returned[0].seq < notification.seq
    assert run.moves_to("paid") == [("pending", "paid", "return URL + status lookup")]
    assert run.violations == []


# -- adversarial faults --------------------------------------------------------------------


def test_tampered_jwe_is_refused_before_any_iso_8583_message() -> None:
    run = run_with("tamper-jwe")
    [forwarded] = run.http("gateway", "processor", "POST", "/v1/authorizations")
    refused = run.answer(forwarded)
    assert refused.status is not None
    assert 400 <= refused.status < 500
    assert body_of(refused)["error"]["type"] == "decryption_failed"
    assert [m for m in run.messages if m.protocol == "iso8583"] == []
    assert run.authorizations == []
    assert run.ledger == []
    assert run.result.order_status == "failed"
    assert run.violations == []


def test_forged_return_url_is_refused_and_the_order_is_not_paid() -> None:
    run = run_with("forge-return", mode="redirect", decision="decline")
    [forged] = run.http("browser", "merchant", "GET", "/return")
    assert forged.url is not None
    assert "status=paid" in forged.url  # what the attacker turned "failed" into
    refused = run.answer(forged)
    assert refused.status is not None
    assert 400 <= refused.status < 500
    assert run.moves_to("paid") == []
    assert run.result.order_status == "failed"
    assert all(e.kind != "debit" for e in run.ledger)
    assert run.violations == []


def test_replayed_notification_ten_minutes_later_is_refused() -> None:
    run = run_with("replay-webhook", notify="async")
    [original] = run.http("gateway", "merchant", "POST", "/webhooks/payviz")
    [replay] = run.http("browser", "merchant", "POST", "/webhooks/payviz")
    assert replay.headers["webhook-id"] == original.headers["webhook-id"]
    assert replay.headers["webhook-signature"] == original.headers["webhook-signature"]
    assert replay.body == original.body
    assert replay.ts - original.ts >= 600
    refused = run.answer(replay)
    assert refused.status == 400
    assert "old" in body_of(refused)["error"]["message"]
    assert run.transitions == [
        (None, "pending", "checkout"),
        ("pending", "paid", f"notification {original.headers['webhook-id']}"),
    ]
    assert run.violations == []


def test_bad_signature_is_refused_then_a_fresh_delivery_succeeds() -> None:
    run = run_with("bad-signature", notify="async")
    forged, retry = run.http("gateway", "merchant", "POST", "/webhooks/payviz")
    refused = run.answer(forged)
    assert refused.status == 400
    assert body_of(refused)["error"]["type"] == "invalid_signature"
    assert retry.headers["webhook-id"] == forged.headers["webhook-id"]
    assert retry.headers["webhook-signature"] != forged.headers["webhook-signature"]
    assert run.answer(retry).status == 200
    assert run.moves_to("paid") == [
        ("pending", "paid", f"notification {retry.headers['webhook-id']}")
    ]
    assert run.violations == []


def test_wrong_api_key_is_refused_and_the_order_fails_with_a_reason() -> None:
    run = run_with("wrong-api-key")
    [post] = run.http("merchant", "gateway", "POST", "/v1/payments")
    refused = run.answer(post)
    assert refused.status == 401
    assert body_of(refused)["error"]["type"] == "authentication_error"
    assert run.order is not None
    assert run.order.status == "failed"
    assert run.order.reason
    assert "API key" in run.order.reason
    assert run.authorizations == []
    assert [m for m in run.messages if m.protocol == "iso8583"] == []
    assert run.violations == []


# -- bank faults ---------------------------------------------------------------------------


def test_bank_timeout_is_reversed_and_acknowledged() -> None:
    run = run_with("timeout")
    [reversal] = run.iso("0420")
    [acknowledged] = run.iso("0430")
    assert reversal.seq < acknowledged.seq
    [late] = run.iso("0110")
    assert late.error is not None
    assert "late" in late.error
    assert [e.kind for e in run.ledger] == ["hold", "release"]
    assert run.open_holds == 0
    assert run.result.order_status == "failed"
    assert run.violations == []


def test_bank_timeout_with_the_first_reversal_dropped_repeats_it_until_acknowledged() -> None:
    # Link faults fire on the first message they match, in the order given: the 0100 takes
    # the (harmless) delay, so the drop falls on the 0420 reversal.
    run = run_with("timeout", "delay@processor-bank=1", "drop@processor-bank")
    [reversal] = run.iso("0420")
    lost = run.answer(reversal)
    assert lost.error is not None
    assert "dropped" in lost.error
    repeats = run.iso("0421")
    assert len(repeats) >= 1
    assert repeats[0].ts - lost.ts >= 5  # the first step of the reversal backoff
    assert repeats[0].fields["90"] == reversal.fields["90"]
    [acknowledged] = run.iso("0430")
    assert acknowledged.seq > repeats[-1].seq
    assert [e.kind for e in run.ledger] == ["hold", "release"]
    assert run.open_holds == 0
    assert run.result.order_status == "failed"
    assert run.violations == []


def test_bank_timeout_with_a_plain_drop_loses_the_0100_instead() -> None:
    # What `timeout` + `drop@processor-bank` really does: the drop takes the first message
    # on the link, the 0100, so the bank never sees it (and never gets to be slow); the
    # processor still reverses, once, and the bank acknowledges a reversal of nothing.
    run = run_with("timeout", "drop@processor-bank")
    [request] = run.iso("0100")
    assert run.answer(request).error is not None
    assert run.iso("0110") == []
    assert len(run.iso("0420")) == 1
    assert run.iso("0421") == []
    assert len(run.iso("0430")) == 1
    assert run.ledger == []
    assert run.open_holds == 0
    assert run.result.order_status == "failed"
    assert run.violations == []


def test_bank_unavailable_declines_with_91_and_says_so_in_words() -> None:
    run = run_with("unavailable")
    [answer] = run.iso("0110")
    assert answer.fields["39"] == "91"
    assert run.result.order_status == "failed"
    assert run.result.bank_response_code == "91"
    message = run.result.customer_message
    assert "bank" in message.lower()
    assert not any(char.isdigit() for char in message)
    assert run.open_holds == 0
    assert run.ledger == []
    assert run.violations == []


def test_a_duplicated_0100_after_a_91_is_a_duplicate_transmission_not_a_new_hold() -> None:
    # The copy reaches the bank after the "unavailable" fault has fired: it used to be
    # approved as a new purchase, leaving a hold nobody would ever capture or reverse.
    run = run_with("duplicate@processor-bank", "unavailable")
    first, copy = run.iso("0100")
    assert first.fields["11"] == copy.fields["11"]
    assert [m.fields["39"] for m in run.iso("0110")] == ["91", "94"]
    assert run.ledger == []
    assert run.open_holds == 0
    assert run.result.order_status == "failed"
    assert run.violations == []


def test_a_duplicated_hosted_checkout_post_leaves_no_order_pending() -> None:
    # the delay takes the first browser -> merchant message (GET), the duplicate the POST
    run = run_with(
        "delay@browser-merchant=1", "duplicate@browser-merchant", mode="redirect", notify="return"
    )
    assert len(run.http("browser", "merchant", "POST", "/checkout")) == 2
    assert run.violations == []


def test_every_fault_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [name for name in FAULT_NAMES if f'"{name}' not in source]
    assert missing == []


# -- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["bogus", "delay@x-y", "delay@processor-bank=soon", "timeout@processor-bank"]
)
def test_bad_fault_spec_exits_2_with_one_line(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["run", "--fault", spec])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("payviz: error:")


def test_a_checkout_form_posted_twice_makes_one_order_and_one_charge() -> None:
    run = run_cli(
        "run",
        "--fault",
        "delay@browser-merchant=1",  # takes the form's GET, so the duplicate takes the POST
        "--fault",
        "duplicate@browser-merchant",
        "--format",
        "json",
    )
    assert run.status == 0, run.stderr
    posts = [m for m in run.messages if m["method"] == "POST" and m["url"].endswith("/checkout")]
    assert len(posts) == 2, "the same form went to the shop twice"
    assert [m["mti"] for m in run.messages if m["mti"] == "0100"] == ["0100"]
    redirects = [
        m["headers"]["location"]
        for m in run.messages
        if m["src"] == "merchant" and m["dst"] == "browser" and m["status"] == 303
    ]
    assert len(redirects) == 2
    assert len(set(redirects)) == 1, "both posts lead to the same order"
    assert run.summary["order_status"] == "paid"
    assert run.summary["balance_before_minor"] - run.summary["balance_after_minor"] == 1999
    assert run.summary["invariants"] == []
