"""The browser's caption: what the customer has in front of them, read from real traces."""

from __future__ import annotations

from typing import Any

import pytest

from payviz.diagrams.customer_view import IDLE, LOOKBACK, customer_view
from payviz.diagrams.node_state import node_states
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, Record, StateChange

from .recorded import record_trace, records


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    """An approved direct checkout, then a declined one, in one session."""
    path = tmp_path_factory.mktemp("customer") / "direct.jsonl"
    record_trace(
        path,
        Scenario(mode="direct", decision="approve"),
        Scenario(mode="direct", decision="decline"),
    )
    return records(path)


@pytest.fixture(scope="module")
def redirect(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    path = tmp_path_factory.mktemp("customer") / "redirect.jsonl"
    return records(record_trace(path, Scenario(mode="redirect", decision="insufficient-funds")))


def first(trace: list[Record], checkout: int, **wanted: Any) -> Message:
    return next(
        r
        for r in trace
        if isinstance(r, Message)
        and r.checkout == checkout
        and all(getattr(r, key) == value for key, value in wanted.items())
    )


def browser_at(trace: list[Record], seq: int) -> tuple[tuple[str, ...], str]:
    state = node_states(trace, seq)["browser"]
    return state.lines, state.tone


def last_seq(trace: list[Record], checkout: int) -> int:
    return max(r.seq for r in trace if r.checkout == checkout)


def test_before_anything_happened_the_customer_is_ready_to_pay(direct: list[Record]) -> None:
    assert node_states(direct, 0)["browser"] == IDLE
    assert IDLE.lines == ("ready to pay",)


def test_after_pressing_pay_the_customer_waits_for_the_shop(direct: list[Record]) -> None:
    to_gateway = first(direct, 1, src="merchant", dst="gateway", direction="request")
    assert browser_at(direct, to_gateway.seq) == (("waiting for the shop",), "neutral")


def test_an_approved_payment_ends_on_the_order_page_with_its_verdict(direct: list[Record]) -> None:
    assert browser_at(direct, last_seq(direct, 1)) == (("payment went through",), "good")


def test_a_declined_payment_shows_the_reason_the_shop_gives_the_customer(
    direct: list[Record],
) -> None:
    lines, tone = browser_at(direct, last_seq(direct, 2))
    # The shop's own words, first sentence; the bank's code (05) is the merchant's to see.
    assert lines == ("Your bank declined the payment.",)
    assert tone == "bad"
    assert node_states(direct, last_seq(direct, 2))["merchant"].lines[-1].endswith("do not honor")


def test_a_new_checkout_starts_from_what_its_own_browser_does(direct: list[Record]) -> None:
    opening = first(direct, 2, src="browser", direction="request")
    assert browser_at(direct, opening.seq) == (("waiting for the shop",), "neutral")


def test_the_hosted_checkout_shows_where_the_redirect_goes_and_the_processor_page(
    redirect: list[Record],
) -> None:
    sent_on = first(redirect, 1, src="merchant", dst="browser", status=303)
    assert browser_at(redirect, sent_on.seq)[0] == ("sent on to the processor",)
    page = first(redirect, 1, src="processor", dst="browser", status=200)
    assert browser_at(redirect, page.seq)[0] == ("payviz processor: secure checkout",)
    lines, tone = browser_at(redirect, last_seq(redirect, 1))
    assert lines == ("The card does not have enough funds for this purchase.",)
    assert tone == "bad"


def page(seq: int, body: str, status: int | None = 200, **extra: Any) -> Message:
    fields: dict[str, Any] = {
        "seq": seq,
        "ts": seq / 100,
        "checkout": 1,
        "mode": "direct",
        "src": "merchant",
        "dst": "browser",
        "step": 7,
        "title": "Merchant updates the order",
        "direction": "response",
        "protocol": "http",
        "exchange": seq,
        "summary": f"{status} OK",
        "kind": "response",
        "status": status,
        "body": body,
    }
    fields.update(extra)
    return Message(**fields)


def test_a_page_without_a_headline_is_named_by_its_title_and_an_error_reads_bad() -> None:
    plain = page(1, "<html><head><title>Maintenance &amp; repairs</title></head></html>", 503)
    assert customer_view([plain], 1).lines == ("Maintenance & repairs",)
    assert customer_view([plain], 1).tone == "bad"
    assert customer_view([page(1, "", 200)], 1).lines == ("a page (200)",)


def test_a_page_that_never_came_reads_as_no_answer() -> None:
    lost = page(1, "", None, error="timeout after 30 s", kind="error")
    assert customer_view([lost], 1) == customer_view([lost], 1)._replace(
        lines=("no answer", "timeout after 30 s"), tone="bad"
    )


def test_a_form_page_that_reports_a_problem_shows_it() -> None:
    body = "<h1>Checkout</h1><div class='box'><p class='failed'>Card number is not valid.</p>"
    assert customer_view([page(1, body)], 1).lines == ("Card number is not valid.",)
    assert customer_view([page(1, body)], 1).tone == "bad"


def test_the_caption_looks_back_a_bounded_way_only() -> None:
    shown = page(1, "<h1 class='paid'>Thank you! Your payment went through.</h1>")
    quiet = [
        StateChange(seq, seq / 100, 1, "bank", "account", {}) for seq in range(2, 2 + LOOKBACK)
    ]
    trace: list[Message | StateChange] = [shown, *quiet]
    assert customer_view(trace, len(trace) - 1).lines == ("payment went through",)
    assert customer_view(trace, len(trace)) == IDLE


def test_an_email_to_the_customer_is_what_they_last_got(direct: list[Record]) -> None:
    email = first(direct, 1, protocol="email")
    assert browser_at(direct, email.seq)[0] == (email.summary,)
    assert email.summary.startswith("email: Order")


def test_a_body_that_is_not_text_reads_as_a_page_without_words() -> None:
    # A trace written by another tool may say "body": null; the caption must not fail.
    assert customer_view([page(1, None)], 1).lines == ("a page (200)",)  # type: ignore[arg-type]
