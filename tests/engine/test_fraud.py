"""The processor's fraud rules decline before the bank is ever asked, with a reason."""

from __future__ import annotations

import asyncio

from payviz.engine.actors.processor import AMOUNT_LIMIT_MINOR, VELOCITY_LIMIT
from payviz.engine.scenario import Scenario
from payviz.engine.session import CheckoutResult, Session


def run(*scenarios: Scenario) -> tuple[list[CheckoutResult], Session]:
    async def go() -> tuple[list[CheckoutResult], Session]:
        async with Session() as session:
            return [await session.run_checkout(s) for s in scenarios], session

    return asyncio.run(go())


def test_an_amount_over_the_limit_is_declined_without_asking_the_bank() -> None:
    [result], session = run(Scenario(amount_minor=AMOUNT_LIMIT_MINOR + 1))
    assert result.order_status == "failed"
    assert result.decline_reason is not None
    assert "fraud rule" in result.decline_reason
    assert "limit" in result.decline_reason
    assert not [m for m in session.trace.messages() if m.protocol == "iso8583"]
    assert result.balance_after_minor == result.balance_before_minor
    assert "amount is over the limit" in result.customer_message


def test_too_many_attempts_with_one_card_trip_the_velocity_rule() -> None:
    results, session = run(*[Scenario(amount_minor=100) for _ in range(VELOCITY_LIMIT + 1)])
    assert [r.order_status for r in results[:VELOCITY_LIMIT]] == ["paid"] * VELOCITY_LIMIT
    blocked = results[-1]
    assert blocked.order_status == "failed"
    assert blocked.decline_reason is not None
    assert "attempts with this card" in blocked.decline_reason
    last = [m for m in session.trace.messages(blocked.checkout) if m.protocol == "iso8583"]
    assert last == [], "the bank never saw the blocked attempt"
    assert blocked.balance_after_minor == blocked.balance_before_minor
