"""The direct flow end to end, as `payviz run` shows it and as the world ends up."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from payviz.engine.scenario import Scenario
from tests.helpers.engine import APPROVED_CARD, CliRun, LiveSession, index_after, iso, run_cli

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")

Msg = dict[str, Any]


def _request(src: str, dst: str, method: str, path: str) -> Any:
    """A request on that link; a `path` ending in "/" matches everything below it."""

    def match(m: Msg) -> bool:
        if m["direction"] != "request" or (m["src"], m["dst"], m["method"]) != (src, dst, method):
            return False
        where = urlsplit(m["url"]).path
        return where.startswith(path) if path.endswith("/") else where == path

    return match


def _iso(src: str, dst: str, mti: str) -> Any:
    return lambda m: (m["src"], m["dst"], m["mti"]) == (src, dst, mti)


def _b64url_json(part: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


@pytest.fixture(scope="module")
def approved() -> CliRun:
    run = run_cli("run", "--mode", "direct", "--decision", "approve", "--format", "json")
    assert run.status == 0, run.stderr
    return run


class TestApprovedPayment:
    def test_the_handshake_appears_in_order(self, approved: CliRun) -> None:
        messages = approved.messages
        at = index_after(
            messages, 0, _request("browser", "merchant", "POST", "/checkout"), "checkout post"
        )
        at = index_after(
            messages,
            at + 1,
            _request("merchant", "gateway", "POST", "/v1/payments"),
            "payment request",
        )
        at = index_after(
            messages,
            at + 1,
            _request("gateway", "processor", "POST", "/v1/authorizations"),
            "JWE to the processor",
        )
        at = index_after(messages, at + 1, _iso("processor", "bank", "0100"), "0100")
        at = index_after(messages, at + 1, _iso("bank", "processor", "0110"), "0110")
        at = index_after(messages, at + 1, _iso("processor", "bank", "0220"), "0220 capture")
        at = index_after(messages, at + 1, _iso("bank", "processor", "0230"), "0230")
        at = index_after(
            messages,
            at + 1,
            _request("processor", "gateway", "POST", "/v1/notifications"),
            "notification to the gateway",
        )
        at = index_after(
            messages,
            at + 1,
            _request("gateway", "merchant", "POST", "/webhooks/payviz"),
            "notification to the merchant",
        )
        at = index_after(
            messages, at + 1, _request("browser", "merchant", "GET", "/orders/"), "order page"
        )
        page = messages[at + 1]
        assert (page["src"], page["dst"], page["status"]) == ("merchant", "browser", 200)
        assert page is messages[-1], "the order page is the last thing the customer sees"

    def test_the_merchant_sends_an_idempotency_key(self, approved: CliRun) -> None:
        [payment] = filter(
            _request("merchant", "gateway", "POST", "/v1/payments"), approved.messages
        )
        assert UUID4.match(payment["headers"]["idempotency-key"])

    def test_the_card_travels_to_the_processor_only_inside_a_jwe(self, approved: CliRun) -> None:
        [forward] = filter(
            _request("gateway", "processor", "POST", "/v1/authorizations"), approved.messages
        )
        assert forward["encrypted"] is True
        body = json.loads(forward["body"])
        assert "card" not in body
        assert APPROVED_CARD not in forward["body"]
        assert "424242" not in forward["body"], "not even the masked card travels in clear"
        parts = body["payment"].split(".")
        assert len(parts) == 5, "a compact JWE has five parts"
        header = _b64url_json(parts[0])
        assert header["alg"] == "RSA-OAEP-256"
        assert header["enc"] == "A256GCM"
        assert re.fullmatch(r"[0-9a-f]{64}", header["kid"]), "kid is a SHA-256 of the key"

    def test_the_bank_approves_with_00(self, approved: CliRun) -> None:
        [answer] = filter(_iso("bank", "processor", "0110"), approved.messages)
        assert answer["fields"]["39"] == "00"
        [request] = filter(_iso("processor", "bank", "0100"), approved.messages)
        assert int(request["fields"]["4"]) == approved.summary["amount_minor"]

    def test_the_capture_is_acknowledged(self, approved: CliRun) -> None:
        [capture] = filter(_iso("processor", "bank", "0220"), approved.messages)
        [ack] = filter(_iso("bank", "processor", "0230"), approved.messages)
        assert int(capture["fields"]["4"]) == approved.summary["amount_minor"]
        assert ack["fields"]["39"] == "00"

    @pytest.mark.parametrize(
        ("src", "dst", "path"),
        [
            ("processor", "gateway", "/v1/notifications"),
            ("gateway", "merchant", "/webhooks/payviz"),
        ],
    )
    def test_notifications_are_signed(
        self, approved: CliRun, src: str, dst: str, path: str
    ) -> None:
        [note] = filter(_request(src, dst, "POST", path), approved.messages)
        for header in WEBHOOK_HEADERS:
            assert note["headers"].get(header), f"{header} missing"
        assert note["headers"]["webhook-signature"].startswith("v1,")
        assert json.loads(note["body"])["type"] == "payment.succeeded"
        answers = [
            m
            for m in approved.messages
            if m["exchange"] == note["exchange"] and m["direction"] == "response"
        ]
        assert [m["status"] for m in answers] == [200]

    def test_the_order_page_says_paid(self, approved: CliRun) -> None:
        page = approved.messages[-1]
        assert "id='order-status' class='paid'>paid<" in page["body"]
        assert approved.summary["order_id"] in page["body"]

    def test_summary_paid_and_balance_down_by_exactly_the_amount(self, approved: CliRun) -> None:
        summary = approved.summary
        assert summary["order_status"] == "paid"
        assert summary["bank_response_code"] == "00"
        assert summary["amount_minor"] == 1999
        assert summary["balance_before_minor"] - summary["balance_after_minor"] == 1999

    def test_the_output_never_shows_the_card_number(self, approved: CliRun) -> None:
        assert APPROVED_CARD not in approved.stdout
        assert approved.summary["card"] == "424242******4242"


DECLINES = [
    ("4000000000000002", "05"),
    ("4000000000009995", "51"),
    ("4000000000009987", "41"),
    ("4000000000009979", "43"),
    ("4000000000000069", "54"),
    ("4000000000000119", "96"),
]


@pytest.mark.parametrize(("card", "code"), DECLINES)
def test_every_test_card_gives_its_code_and_fails_the_order(card: str, code: str) -> None:
    run = run_cli("run", "--mode", "direct", "--card", card, "--format", "json")
    assert run.status == 0, run.stderr
    answers = [m for m in run.messages if m["mti"] == "0110"]
    assert [m["fields"]["39"] for m in answers] == [code]
    summary = run.summary
    assert summary["order_status"] == "failed"
    assert summary["bank_response_code"] == code
    assert summary["decline_reason"]
    assert not [m for m in run.messages if m["mti"] in ("0220", "0230")], "nothing is captured"
    assert summary["balance_after_minor"] == summary["balance_before_minor"]
    assert "id='order-status' class='failed'>failed<" in run.messages[-1]["body"]
    assert card not in run.stdout


@pytest.fixture
def live() -> Iterator[LiveSession]:
    harness = LiveSession()
    try:
        yield harness
    finally:
        harness.close()


def test_a_bank_timeout_is_reversed_and_leaves_no_hold(live: LiveSession) -> None:
    result = live.run(live.session.run_checkout(Scenario(mode="direct", decision="timeout")))
    messages = live.session.trace.messages()
    [request] = iso(messages, "0100")
    [late] = iso(messages, "0110")
    assert late.error is not None
    assert "late" in late.error, "the answer came after the processor gave up"
    [reversal] = iso(messages, "0420")
    [ack] = iso(messages, "0430")
    [gave_up] = [
        m for m in messages if m.src == "bank" and m.error and m.error.startswith("timeout")
    ]
    assert messages.index(request) < messages.index(gave_up) < messages.index(reversal)
    assert messages.index(reversal) < messages.index(ack) < messages.index(late)
    # the processor's timer fired at 10 s; the bank's answer came at 35 s, after the 0430
    assert gave_up.ts - request.ts == pytest.approx(10, abs=0.1)
    assert late.ts - request.ts == pytest.approx(35, abs=0.1)
    assert reversal.fields["90"].startswith("0100" + request.fields["11"])
    assert ack.fields["39"] == "00"
    assert not iso(messages, "0220")
    bank = live.world.bank
    assert bank.open_holds() == 0
    assert [e.kind for e in bank.ledger] == ["hold", "release"]
    assert result.order_status == "failed"
    assert result.bank_response_code == "68"
    assert result.balance_after_minor == result.balance_before_minor


def test_timeout_in_payviz_run_shows_the_reversal() -> None:
    run = run_cli("run", "--decision", "timeout", "--format", "json")
    assert run.status == 0, run.stderr
    mtis = [m["mti"] for m in run.messages if m["mti"]]
    assert mtis == ["0100", "0420", "0430", "0110"]  # the late 0110 comes last
    assert run.summary["order_status"] == "failed"


def test_async_notification_marks_the_order_paid(live: LiveSession) -> None:
    result = live.run(
        live.session.run_checkout(Scenario(mode="direct", notify="async", decision="approve"))
    )
    assert result.order_status == "paid"
    assert result.balance_before_minor - result.balance_after_minor == result.amount_minor
    messages = live.session.trace.messages()
    accepted = next(m for m in messages if (m.src, m.dst, m.status) == ("gateway", "merchant", 202))
    assert json.loads(accepted.body)["status"] == "processing"
    assert result.order_id is not None
    transitions = live.world.orders.transitions(result.order_id)
    assert transitions[0][1] == "pending"
    [(before, _, source)] = [t for t in transitions if t[1] == "paid"]
    assert before == "pending"
    assert source.startswith("notification msg_"), "paid because the notification said so"


@pytest.mark.parametrize(("notify", "step"), [("async", 1), ("sync", 7)])
def test_the_shops_answer_to_pay_is_the_step_its_order_is_at(
    live: LiveSession, notify: str, step: int
) -> None:
    # With an asynchronous answer the shop sends the customer to the order page while the
    # order is still pending: that ends the checkout (step 1); with a synchronous one the
    # order is paid first, and the same redirect shows the outcome (step 7).
    first = live.session.trace.next_seq()
    live.run(live.session.run_checkout(Scenario(mode="direct", notify=notify)))  # type: ignore[arg-type]
    [redirect] = [m for m in live.messages_since(first) if m.src == "merchant" and m.status == 303]
    assert (redirect.step, redirect.title) == (
        step,
        "User checkout" if step == 1 else "Merchant updates the order",
    )


@pytest.mark.parametrize(
    "card",
    [
        pytest.param("4242424242424241", id="luhn-invalid"),
        pytest.param("4111111111111111", id="not-a-test-card"),
        pytest.param("5555555555554444", id="not-a-test-card-mastercard"),
    ],
)
def test_a_refused_card_exits_2_with_one_line_and_no_trace(card: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    run = run_cli("run", "--card", card, "--format", "json", "--trace", str(trace))
    assert run.status == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("payviz: error: ")
    assert card[-4:] in lines[0], "the message names the card by its last four"
    assert card not in run.stderr, "but never in full"
    assert run.stdout == ""
    assert not trace.exists()


def test_a_card_typed_in_groups_pays_like_the_plain_number() -> None:
    run = run_cli("run", "--card", "4242 4242 4242 4242", "--format", "json")
    assert run.status == 0, run.stderr
    assert run.summary["order_status"] == "paid"
    assert run.summary["card"] == "424242******4242"
    assert "4242 4242 4242 4242" not in run.stdout


def test_a_retry_with_another_card_reports_the_paying_cards_balance() -> None:
    run = run_cli(
        "run",
        "--card",
        "4000000000009995",
        "--retry-card",
        "4242424242424242",
        "--format",
        "json",
    )
    assert run.status == 0, run.stderr
    summary = run.summary
    assert summary["order_status"] == "paid"
    assert [m["fields"]["39"] for m in run.messages if m["mti"] == "0110"] == ["51", "00"]
    assert summary["balance_before_minor"] - summary["balance_after_minor"] == 1999
