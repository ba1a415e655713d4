"""The scripted customer's path through hosted checkout (redirect flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .actors.browser import Page
from .money import format_minor

if TYPE_CHECKING:
    from .scenario import Scenario
    from .session import Session


def _card(number: str) -> dict[str, str]:
    return {"card_number": number, "exp": "12/30", "cvc": "123"}


async def run_hosted_checkout(session: Session, scenario: Scenario, card: str) -> Page:
    """Shop -> checkout -> redirect to the processor's page -> pay -> back to the shop."""
    browser = session.world.browser
    assert browser is not None
    pause = session._pause
    amount = format_minor(scenario.amount_minor, scenario.currency).split(" ")[0].replace(",", "")
    shop = session.world.network.url("merchant", "/checkout")
    form = await browser.open(f"{shop}?amount={amount}&currency={scenario.currency}&flow=redirect")
    if not form.forms:
        return form
    hosted = await browser.submit(form, {"email": scenario.email}, pause)
    if not hosted.forms:
        return hosted  # an error page instead of the processor's form: the customer stops
    abandon = scenario.abandon_after_payment
    page = await browser.submit(hosted, _card(card), session._think, follow=not abandon)
    if abandon:
        return page
    page = await _wait_while_processing(session, page)
    if scenario.retry_card and page.text("order-status") == "failed" and page.forms:
        # The customer reads the decline before choosing another card: a person's pause,
        # in which the processor's queued notifications go out as they would in real life.
        await pause()
        hosted = await browser.submit(page, {}, pause)
        if not hosted.forms:
            return hosted
        page = await browser.submit(hosted, _card(scenario.retry_card), session._think)
        page = await _wait_while_processing(session, page)
    return page


async def _wait_while_processing(session: Session, page: Page) -> Page:
    """A pending order page refreshes itself; the browser reloads it once things settle."""
    browser = session.world.browser
    assert browser is not None
    if page.text("order-status") == "pending":
        await session._pause()
        return await browser.open(page.url)
    return page
