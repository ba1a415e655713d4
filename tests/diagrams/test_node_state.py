"""Node captions and token looks, derived from real trace records."""

from __future__ import annotations

from typing import Any

import pytest

from payviz.diagrams.node_state import (
    idle_states,
    legend_styles,
    node_states,
    token_style,
    token_text,
)
from payviz.diagrams.topology import ERROR_COLOUR
from payviz.engine.trace import Message, StateChange


def state(seq: int, party: str, key: str, value: Any, checkout: int = 1) -> StateChange:
    return StateChange(seq, seq / 100, checkout, party, key, value)  # type: ignore[arg-type]


def message(kind: str, direction: str = "request", **extra: Any) -> Message:
    fields: dict[str, Any] = {
        "seq": 7,
        "ts": 0.07,
        "checkout": 1,
        "mode": "direct",
        "src": "gateway",
        "dst": "processor",
        "step": 2,
        "title": "Gateway encrypts and forwards",
        "direction": direction,
        "protocol": "http",
        "exchange": 3,
        "summary": "POST /v1/authorizations",
        "kind": kind,
    }
    fields.update(extra)
    return Message(**fields)


def order(status: str, reason: str | None = None, currency: str = "USD") -> dict[str, Any]:
    return {
        "id": "ord_41",
        "status": status,
        "amount_minor": 4999,
        "currency": currency,
        "reason": reason,
    }


def account(balance: int, held: int, currency: str = "USD") -> dict[str, Any]:
    return {
        "card": "424242******4242",
        "balance_minor": balance,
        "held_minor": held,
        "currency": currency,
    }


def test_before_anything_happens_every_party_is_idle() -> None:
    states = node_states([], 10)
    assert states == idle_states()
    assert states["merchant"].caption == "no order yet"
    assert {s.tone for s in states.values()} == {"idle"}


def test_merchant_shows_order_id_and_status_with_the_amount() -> None:
    states = node_states([state(1, "merchant", "order", order("pending"))], 1)
    assert states["merchant"].lines == ("order ord_41", "pending · 49.99 USD")
    assert states["merchant"].tone == "neutral"


def test_a_paid_order_reads_as_good() -> None:
    states = node_states([state(4, "merchant", "order", order("paid"))], 4)
    assert states["merchant"].lines[-1] == "paid · 49.99 USD"
    assert states["merchant"].tone == "good"


def test_a_failed_order_shows_its_reason_and_reads_as_bad() -> None:
    records = [
        state(1, "merchant", "order", order("pending")),
        state(9, "merchant", "order", order("failed", "insufficient funds")),
    ]
    merchant = node_states(records, 9)["merchant"]
    assert "failed: insufficient funds" in merchant.caption
    assert merchant.tone == "bad"


def test_the_playhead_hides_what_has_not_happened_yet() -> None:
    records = [
        state(1, "merchant", "order", order("pending")),
        state(5, "bank", "account", account(100_000, 4999)),
        state(9, "merchant", "order", order("paid")),
    ]
    states = node_states(records, 8)
    assert "pending" in states["merchant"].caption
    assert states["bank"].lines == ("balance 1,000.00 USD", "on hold 49.99 USD")
    assert node_states(records, 0) == idle_states()


def test_bank_balance_and_holds_are_money_in_their_currency() -> None:
    records = [
        state(1, "bank", "account", account(100_000, 4999)),
        state(2, "bank", "account", account(95_001, 0)),
    ]
    assert node_states(records, 1)["bank"].caption == "balance 1,000.00 USD\non hold 49.99 USD"
    assert node_states(records, 2)["bank"].caption == "balance 950.01 USD\nno holds"
    yen = [state(1, "bank", "account", account(150_000, 1200, "JPY"))]
    assert node_states(yen, 1)["bank"].caption == "balance 150,000 JPY\non hold 1,200 JPY"


def test_the_bank_shows_its_last_answer_above_the_balance() -> None:
    declined = {**account(100_000, 0), "answer": "declined (51): insufficient funds"}
    approved = {**account(100_000, 4999), "answer": "approved (00)"}
    records = [state(1, "bank", "account", approved), state(2, "bank", "account", declined)]
    assert node_states(records, 1)["bank"].lines == (
        "approved (00)",
        "balance 1,000.00 USD",
        "on hold 49.99 USD",
    )
    # no hold to speak of after a decline: the answer takes that line
    assert node_states(records, 2)["bank"].lines == (
        "declined (51): insufficient funds",
        "balance 1,000.00 USD",
    )


@pytest.mark.parametrize(
    ("card", "answer"),
    [
        ("4000000000000002", "declined (05): do not honor"),
        ("4000000000009995", "declined (51): insufficient funds"),
    ],
)
def test_a_real_decline_reaches_the_bank_card(card: str, answer: str) -> None:
    from payviz.engine.scenario import Scenario
    from tests.conftest import record_checkout

    run = record_checkout(Scenario(mode="direct", card=card))
    bank = [r for r in run.records if isinstance(r, StateChange) and r.party == "bank"]
    assert [s.value["answer"] for s in bank] == [answer]
    assert bank[0].value["held_minor"] == 0
    last = max(r.seq for r in run.records)
    assert node_states(run.records, last)["bank"].lines[0] == answer


def test_gateway_and_processor_show_their_last_action() -> None:
    records = [
        state(1, "gateway", "last_action", "sealed the card in a JWE"),
        state(2, "processor", "last_action", "decrypted the card"),
        state(3, "processor", "last_action", "asked the bank"),
    ]
    states = node_states(records, 3)
    assert states["gateway"].caption == "sealed the card in a JWE"
    assert states["processor"].caption == "asked the bank"


def test_an_action_on_a_card_shows_its_last_four_as_a_card_would() -> None:
    records = [
        state(1, "gateway", "last_action", "sealed 424242******4242 in a JWE for the processor"),
        state(2, "processor", "last_action", "captured 19.99 USD from 400000******0002"),
    ]
    states = node_states(records, 2)
    assert states["gateway"].caption == "sealed •••• 4242 in a JWE for the processor"
    assert states["processor"].caption == "captured 19.99 USD from •••• 0002"
    assert "*" not in states["gateway"].caption


def test_messages_and_unknown_keys_leave_captions_alone() -> None:
    records: list[Message | StateChange] = [
        message("request", seq=1),
        state(2, "merchant", "mood", "cheerful"),
    ]
    assert node_states(records, 2) == idle_states()


def test_a_later_checkout_replaces_the_earlier_order() -> None:
    records = [
        state(1, "merchant", "order", order("paid")),
        state(2, "merchant", "order", {**order("pending"), "id": "ord_42"}, checkout=2),
    ]
    assert node_states(records, 2)["merchant"].lines[0] == "order ord_42"


def test_odd_values_still_make_a_caption() -> None:
    records = [
        state(1, "merchant", "order", "ord_41"),
        state(2, "bank", "account", {"balance_minor": 5, "currency": "XXX"}),
    ]
    states = node_states(records, 2)
    assert "ord_41" in states["merchant"].caption
    assert states["bank"].lines[0] == "balance 5 XXX"
    # a number JSON reads as infinity (1e400) is shown as it is, not a crash
    huge = [state(1, "bank", "account", {"balance_minor": float("inf"), "currency": "USD"})]
    assert node_states(huge, 1)["bank"].lines[0] == "balance inf USD"


# -- tokens ------------------------------------------------------------------------------


def test_requests_are_filled_and_responses_outlined_in_the_same_colour() -> None:
    request = token_style(message("request"))
    response = token_style(message("response", "response", status=200))
    assert request.filled
    assert not response.filled
    assert request.colour == response.colour
    assert request.glyph == response.glyph == "arrow"


def test_encrypted_payloads_carry_a_lock() -> None:
    style = token_style(message("encrypted", encrypted=True))
    assert style.glyph == "lock"
    assert style.colour != ERROR_COLOUR


def test_notifications_ring_a_bell_on_a_dotted_line() -> None:
    style = token_style(message("notification"))
    assert (style.glyph, style.line) == ("bell", "dotted")


def test_redirects_are_dashed() -> None:
    style = token_style(message("redirect", "response", status=303))
    assert style.line == "dashed"
    assert not style.filled


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("decline", {"protocol": "iso8583", "mti": "0110", "status": 200}),
        ("error", {"status": 402}),
        ("error", {"error": "timeout"}),
        ("response", {"status": 500}),
    ],
)
def test_failures_share_one_error_colour_and_a_cross(kind: str, extra: dict[str, Any]) -> None:
    style = token_style(message(kind, "response", **extra))
    assert style.colour == ERROR_COLOUR
    assert style.glyph == "cross"


def test_an_approved_iso_answer_is_not_an_error() -> None:
    style = token_style(message("iso8583", "response", protocol="iso8583", mti="0110", status=200))
    assert style.colour != ERROR_COLOUR
    assert style.glyph != "cross"


def test_the_legend_shows_every_look_a_token_can_have() -> None:
    looks = {(s.colour, s.glyph, s.line) for s in legend_styles()}
    for kind in ("request", "encrypted", "notification", "iso8583", "email", "decline"):
        for direction in ("request", "response"):
            style = token_style(message(kind, direction))
            assert (style.colour, style.glyph, style.line) in looks
    assert all(style.label for style in legend_styles())
    assert {style.glyph for style in legend_styles()} >= {"lock", "bell", "cross", "arrow"}


def test_token_text_names_what_travels() -> None:
    assert token_text(message("request", method="POST")) == "POST"
    assert token_text(message("response", "response", status=303)) == "303"
    assert token_text(message("iso8583", protocol="iso8583", mti="0100")) == "0100"
    assert token_text(message("email", protocol="email")) == "email"
    assert token_text(message("error", "response", error="timeout")) == "no reply"
