"""A Session runs checkouts in a World and reports what happened.

It knows nothing of Qt: the CLI drives it with `asyncio.run`, the desktop app from its
engine thread.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .actors.browser import Page
from .adversary import replay_notification
from .cards import mask_pan
from .clock import Clock, VirtualClock
from .context import CURRENT_RUN, RunContext
from .faults import FaultPlan
from .money import format_minor
from .network import Transport
from .scenario import Scenario
from .timelines import TimelineClock
from .trace import Message, StateChange, Trace
from .world import Secrets, World

THINK_SECONDS = 1.0
HOP_LATENCY_SECONDS = 0.004
REPLAY_AFTER_SECONDS = 600.0
RECONCILE_AFTER_SECONDS = 31 * 60.0  # past a hosted checkout session's 30 minutes


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """The outcome of one checkout, as the summary line of `payviz run` reports it."""

    checkout: int
    mode: str
    notify: str
    order_id: str | None
    order_status: str
    bank_response_code: str | None
    amount_minor: int
    currency: str
    card: str
    decline_reason: str | None
    customer_message: str
    balance_before_minor: int
    balance_after_minor: int
    first_seq: int
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        return {"type": "summary", **asdict(self)}

    def describe(self) -> str:
        total = format_minor(self.amount_minor, self.currency)
        text = f"order {self.order_id}: {self.order_status} ({total}, card {self.card})"
        if self.bank_response_code:
            text += f", bank answered {self.bank_response_code}"
        if self.decline_reason:
            text += f": {self.decline_reason}"
        return text


class Session:
    """Builds a world and runs checkouts in it.

    Attributes:
        trace: every message and state change so far.
        world: the actors (available after `start`).
        clock: the injected clock (virtual unless given).
    """

    def __init__(
        self,
        *,
        transport: Transport = "inprocess",
        clock: Clock | None = None,
        trace_path: Path | None = None,
        keylog_path: Path | None = None,
        db_path: Path | None = None,
        seed: int = 0,
        port_base: int | None = None,
        queued_notifications: bool = True,
        keys: Secrets | None = None,
        sweep_after: float | None = RECONCILE_AFTER_SECONDS,
    ) -> None:
        # Virtual time jumps whenever the event loop is idle; over real sockets a request
        # in the kernel looks idle too, so loopback runs keep time per checkout instead.
        self.clock: Clock = clock or (
            TimelineClock() if transport == "loopback" else VirtualClock()
        )
        self._keys = keys
        self.sweep_after = sweep_after
        self._port_base = port_base
        self._queued = queued_notifications
        self.trace = Trace(trace_path)
        self.transport = transport
        self.keylog_path = keylog_path
        self._db_path = db_path
        self._seed = seed
        self._world: World | None = None
        self._checkouts = 0

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError("the session has not been started")
        return self._world

    async def start(self) -> None:
        self._world = World(
            self.trace,
            self.clock,
            self.transport,
            self._db_path,
            self._seed,
            queued_notifications=self._queued,
            port_base=self._port_base,
            keys=self._keys,
        )
        if isinstance(self.clock, VirtualClock):
            # simulated time: every hop takes a few milliseconds, as on a real network
            self._world.network.latency = HOP_LATENCY_SECONDS
        await self._world.start()
        if self.keylog_path is not None:
            self.keylog_path.write_text(json.dumps(self.keylog(), indent=2), encoding="utf-8")

    def keylog(self) -> dict[str, object]:
        return self.world.keylog()

    async def close(self, *, settle: bool = True) -> None:
        """Stop the world; with settle, let pending notifications (and retries) finish."""
        if self._world is not None:
            await self._world.close(settle=settle)
            self._world = None
        self.trace.close()

    async def __aenter__(self) -> Session:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _pause(self) -> None:
        """The customer waits for the page: what the servers had queued goes out first."""
        await self.world.settle()
        await self.clock.sleep(THINK_SECONDS)

    async def _think(self) -> None:
        """The browser follows a redirect at once; queued notifications are still queued."""
        await self.clock.sleep(THINK_SECONDS)

    async def run_checkout(self, scenario: Scenario) -> CheckoutResult:
        """Run one checkout end to end and return its outcome."""
        world = self.world
        self._checkouts += 1
        number = self._checkouts
        token = CURRENT_RUN.set(RunContext(number, scenario.mode))
        # Checkouts may run concurrently (asyncio.gather): what the scenario asks of the
        # bank and the merchant is kept per checkout, read back through CURRENT_RUN.
        world.bank.scenarios[number] = (scenario.bank_override, scenario.bank_latency)
        world.merchant.notify_styles[number] = scenario.notify_style
        world.network.faults.set(number, FaultPlan(scenario.mode, scenario.fault_list))
        try:
            first_seq = self.trace.next_seq()
            card = scenario.card_number
            before = {pan: a.balance_minor for pan, a in world.bank.accounts.items()}
            if scenario.mode == "direct":
                page = await self._direct(scenario, card)
            else:
                page = await self._redirect(scenario, card)
            await world.settle()
            await self._afterwards(first_seq)
            return self._result(number, scenario, page, first_seq, before)
        finally:
            world.network.faults.pop(number)
            world.bank.scenarios.pop(number, None)
            world.merchant.notify_styles.pop(number, None)
            CURRENT_RUN.reset(token)

    async def _afterwards(self, first_seq: int) -> None:
        """What happens after the customer is gone: replays, then the merchant's sweep."""
        world = self.world
        plan = world.network.faults.current()
        if plan is not None and plan.take_named("replay-webhook"):
            await replay_notification(world, self.trace, REPLAY_AFTER_SECONDS)
        if self.sweep_after is None:
            return
        pending = [
            order_id
            for order_id in self._orders_of(CURRENT_RUN.get().checkout, first_seq)
            if (order := world.orders.get(order_id)) is not None and order.status == "pending"
        ]
        if pending:
            # The merchant's reconciliation job looks up every order nobody confirmed,
            # the customer's and any a resent form post opened beside it.
            await self.clock.sleep(self.sweep_after)
            for order_id in pending:
                await world.merchant.reconcile(order_id)
            await world.settle()

    def _orders_of(self, checkout: int, first_seq: int) -> list[str]:
        """Every order this checkout created, from the merchant's state changes."""
        found: dict[str, None] = {}
        for record in self.trace.records[first_seq - 1 :]:
            if (
                isinstance(record, StateChange)
                and record.key == "order"
                and record.checkout == checkout
            ):
                found[str(record.value["id"])] = None
        return list(found)

    async def _direct(self, scenario: Scenario, card: str) -> Page:
        browser = self.world.browser
        assert browser is not None
        amount = format_minor(scenario.amount_minor, scenario.currency).split(" ")[0]
        shop = self.world.network.url("merchant", "/checkout")
        form = await browser.open(
            f"{shop}?amount={amount.replace(',', '')}&currency={scenario.currency}&flow=direct"
        )
        if not form.forms:
            return form  # the shop's page did not load: the customer gives up
        page = await browser.submit(form, _card_fields(card, scenario.email), self._pause)
        if scenario.retry_card and page.text("order-status") == "failed" and page.forms:
            page = await browser.submit(page, _card_fields(scenario.retry_card), self._pause)
        return page

    async def _redirect(self, scenario: Scenario, card: str) -> Page:
        from .hosted_run import run_hosted_checkout

        return await run_hosted_checkout(self, scenario, card)

    def _result(
        self,
        number: int,
        scenario: Scenario,
        page: Page,
        first_seq: int,
        before: dict[str, int],
    ) -> CheckoutResult:
        world = self.world
        order_id = page.text("order-id") or self._last_order_id(number, first_seq)
        order = world.orders.get(order_id) if order_id else None
        # records[seq - 1] has that seq: read this checkout's own messages, not the whole trace
        messages = [
            m
            for m in self.trace.records[first_seq - 1 :]
            if isinstance(m, Message) and m.checkout == number
        ]
        # a 94 answers a resent copy, not the customer's payment: it is not the verdict
        codes = [
            m.fields["39"]
            for m in messages
            if m.mti == "0110" and m.fields.get("39") not in (None, "94")
        ]
        late = any(m.mti == "0110" and m.error for m in messages)
        card = order.card if order and order.card else mask_pan(scenario.card_number)
        retried = scenario.retry_card is not None and len(codes) > 1
        paying = scenario.retry_card if retried and scenario.retry_card else scenario.card_number
        return CheckoutResult(
            checkout=number,
            mode=scenario.mode,
            notify=scenario.notify_style,
            order_id=order_id,
            order_status=order.status if order else "failed",
            bank_response_code=("68" if late else codes[-1]) if codes else None,
            amount_minor=scenario.amount_minor,
            currency=scenario.currency,
            card=card,
            decline_reason=order.reason if order else page.text("customer-message") or None,
            customer_message=page.text("customer-message"),
            balance_before_minor=before[paying],
            balance_after_minor=world.bank.accounts[paying].balance_minor,
            first_seq=first_seq,
            last_seq=self.trace.next_seq() - 1,
        )

    def _last_order_id(self, number: int, first_seq: int) -> str | None:
        """The order this checkout created, from the merchant's state changes."""
        for record in reversed(self.trace.records):
            if record.seq < first_seq:
                break
            if (
                isinstance(record, StateChange)
                and record.key == "order"
                and record.checkout == number
            ):
                return str(record.value["id"])
        return None


def _card_fields(number: str, email: str | None = None) -> dict[str, str]:
    fields = {"card_number": number, "exp": "12/30", "cvc": "123"}
    if email is not None:
        fields["email"] = email
    return fields
