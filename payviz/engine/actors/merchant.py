"""The merchant: a shop with a checkout, orders in SQLite, a notification receiver.

In the direct flow it takes the card on its own form and posts order and card to its
gateway; in the redirect flow it never sees the card (see `merchant_redirect.py`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..capture import Recorder
from ..cards import CUSTOMER_MESSAGES, mask_pan
from ..clock import Clock
from ..context import CURRENT_RUN
from ..money import AmountError, format_minor, to_minor
from ..network import Network
from ..webhooks import SignatureError, Verifier
from . import merchant_pages as pages
from .card_form import CardForm, FormError, parse_card
from .common import error_body, make_app
from .merchant_db import Order, OrderBook

GATEWAY_ATTEMPTS = 4


class Merchant:
    """The merchant server.

    Attributes:
        orders: the SQLite order book.
        confirmation: "sync" or "async", how the gateway should confirm direct payments.
        redirect_notify: "return", "webhook" or "both" for hosted checkout.
        notify_styles: checkout number -> the style that checkout asked for; it wins over
            the two above for that checkout's requests.
    """

    def __init__(
        self,
        network: Network,
        recorder: Recorder,
        clock: Clock,
        orders: OrderBook,
        gateway_key: str,
        processor_key: str,
        own_secret: str,
        return_secret: str,
    ) -> None:
        self.network = network
        self.recorder = recorder
        self.clock = clock
        self.orders = orders
        self.gateway_key = gateway_key
        self.processor_key = processor_key
        self.return_secret = return_secret
        self._verifier = Verifier(own_secret, clock)
        self.confirmation = "sync"
        self.redirect_notify = "both"
        self.notify_styles: dict[int, str] = {}
        self.form_orders: dict[str, str] = {}  # checkout form token -> the order it made
        self.app = self._build()

    def notify_style(self, default: str) -> str:
        """The notification style of the checkout being served, else `default`."""
        return self.notify_styles.get(CURRENT_RUN.get().checkout, default)

    # -- state ---------------------------------------------------------------------------

    def publish(self, order: Order) -> None:
        self.recorder.state(
            "merchant",
            "order",
            {
                "id": order.id,
                "status": order.status,
                "amount_minor": order.amount_minor,
                "currency": order.currency,
                "reason": order.reason,
            },
        )

    def move(self, order_id: str, status: str, source: str, **extra: str | None) -> bool:
        moved = self.orders.move(order_id, status, source, self.clock.now(), **extra)
        order = self.orders.get(order_id)
        if moved and order is not None:
            self.publish(order)
            if status == "paid":
                self._confirm_by_email(order)
        return moved

    def conclude(
        self, order_id: str, status: str, source: str, report: Mapping[str, object]
    ) -> bool:
        """Move an order to paid or failed from a payment service's report of it (the
        gateway's answer, a notification, a status lookup): its card, code and reason."""
        reason = report.get("decline_reason") or report.get("reason")
        return self.move(
            order_id,
            status,
            source,
            card=_opt(report.get("card")),
            response_code=_opt(report.get("response_code")),
            reason=_opt(reason) if status == "failed" else None,
        )

    def _confirm_by_email(self, order: Order) -> None:
        subject = f"Order {order.id} confirmed"
        body = (
            f"Thank you for your order {order.id}.\n"
            f"We received {format_minor(order.amount_minor, order.currency)}"
            f"{' from card ' + order.card if order.card else ''}.\n"
        )
        self.orders.queue_email(order.id, order.email, subject, body, self.clock.now())
        self.recorder.email("merchant", "browser", subject, body)

    def customer_message(self, order: Order) -> str:
        if order.status == "paid":
            return f"A confirmation email is on its way to {order.email}."
        if order.status == "pending":
            return "We are waiting for the payment to be confirmed. This page refreshes itself."
        if order.response_code and order.response_code in CUSTOMER_MESSAGES:
            return CUSTOMER_MESSAGES[order.response_code]
        return order.reason or "The payment could not be completed. Please try another card."

    # -- the gateway ---------------------------------------------------------------------

    async def pay_via_gateway(self, order: Order, card: CardForm) -> None:
        """Post order and card to the gateway, retrying safely with one Idempotency-Key."""
        body = json.dumps(
            {
                "order_id": order.id,
                "amount_minor": order.amount_minor,
                "currency": order.currency,
                "card": {
                    "number": card.number,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "cvc": card.cvc,
                },
                "confirmation": self.notify_style(self.confirmation),
            },
            separators=(",", ":"),
        )
        headers = {
            "authorization": f"Bearer {self.gateway_key}",
            "idempotency-key": str(uuid.uuid4()),
            "content-type": "application/json",
        }
        client = self.network.client("merchant")
        response: httpx.Response | None = None
        for attempt in range(1, GATEWAY_ATTEMPTS + 1):
            try:
                response = await client.post(
                    self.network.url("gateway", "/v1/payments"), content=body, headers=headers
                )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500 and response.status_code != 409:
                break
            if attempt < GATEWAY_ATTEMPTS:
                await self.clock.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
        self._apply_gateway_answer(order, card, response)

    def _apply_gateway_answer(
        self, order: Order, card: CardForm, response: httpx.Response | None
    ) -> None:
        masked = mask_pan(card.number)
        if response is None or response.status_code >= 500:
            self.move(
                order.id,
                "failed",
                "gateway unreachable",
                card=masked,
                reason="the payment service could not be reached",
            )
            return
        data = response.json()
        if response.status_code >= 400:
            reason = data.get("error", {}).get("message", "refused by the gateway")
            self.move(order.id, "failed", "gateway refusal", card=masked, reason=reason)
            return
        self.orders.set_payment_ref(order.id, str(data.get("id")))
        outcome = {"succeeded": "paid", "failed": "failed"}.get(str(data.get("status")))
        if outcome is not None:  # "processing": the notification will tell
            self.conclude(order.id, outcome, "gateway response", {**data, "card": masked})

    # -- notifications -------------------------------------------------------------------

    async def reconcile(self, order_id: str) -> None:
        """The sweep for an order nobody confirmed: ask the payment service, then decide."""
        order = self.orders.get(order_id)
        if order is None or order.status != "pending":
            return
        if order.payment_ref is None:
            self.move(order.id, "failed", "reconciliation", reason="no payment was started")
            return
        if order.flow == "redirect":
            from .merchant_redirect import confirm_with_processor

            found = await confirm_with_processor(self, order.payment_ref)
            outcome = None if found is None else found.get("status")
            paid, failed = outcome == "complete", outcome in ("failed", "expired", "open")
        else:
            found = await self._lookup_payment(order.payment_ref)
            outcome = None if found is None else found.get("status")
            paid, failed = outcome == "succeeded", outcome == "failed"
        if paid and found is not None:
            self.conclude(order.id, "paid", "reconciliation", found)
        elif failed:
            left = {"reason": "the customer left without paying"}
            self.conclude(
                order.id,
                "failed",
                "reconciliation",
                left if outcome in ("open", "expired") else found or {},
            )
        else:
            self.orders.note(order.id, f"unresolved: the payment service says {outcome!r}")

    async def _lookup_payment(self, payment_id: str) -> dict[str, object] | None:
        try:
            response = await self.network.client("merchant").get(
                self.network.url("gateway", f"/v1/payments/{payment_id}"),
                headers={"authorization": f"Bearer {self.gateway_key}"},
            )
        except httpx.TransportError:
            return None
        data = response.json() if response.status_code == 200 else None
        return data if isinstance(data, dict) else None

    def apply_notification(self, event: dict[str, object], source: str) -> None:
        data = event.get("data")
        if not isinstance(data, dict):
            return
        order_id = str(data.get("order_id", ""))
        order = self.orders.get(order_id)
        if order is None:
            return
        if order.payment_ref is not None and data.get("payment_id") != order.payment_ref:
            # News of an earlier attempt (the customer has since retried with another card)
            # must not move the order the current attempt owns.
            return
        outcome = {"payment.succeeded": "paid", "payment.failed": "failed"}.get(
            str(event.get("type"))
        )
        if outcome is not None:
            self.conclude(order_id, outcome, source, data)

    # -- HTTP ----------------------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = make_app("payviz merchant")

        @app.get("/", response_class=HTMLResponse)
        async def shop(amount: str = "19.99", currency: str = "USD", flow: str = "direct") -> str:
            return pages.shop(amount, currency, flow)

        @app.get("/checkout", response_class=HTMLResponse)
        async def checkout_form(
            amount: str = "19.99", currency: str = "USD", flow: str = "direct"
        ) -> str:
            # one token per form shown: a second post of the same form (a double click, a
            # resent request) finds the order the first one made instead of a new charge
            return pages.checkout_form(amount, currency, flow, token=secrets.token_urlsafe(12))

        @app.post("/checkout")
        async def checkout(request: Request) -> Response:
            form = await _form(request)
            flow = form.get("flow", "direct")
            token = form.get("form_token", "")
            if token and token in self.form_orders:
                return RedirectResponse(f"/orders/{self.form_orders[token]}", status_code=303)
            try:
                if flow not in ("direct", "redirect"):
                    raise FormError(f"unknown flow {flow!r}")
                amount = to_minor(form.get("amount", ""), form.get("currency", ""))
                card = parse_card(form) if flow == "direct" else None
            except (FormError, AmountError) as exc:
                return HTMLResponse(
                    pages.checkout_form(
                        form.get("amount", ""), form.get("currency", ""), flow, str(exc)
                    ),
                    status_code=422,
                )
            order = Order(
                id="ord_" + secrets.token_hex(6),
                amount_minor=amount,
                currency=form["currency"].upper(),
                email=form.get("email", "") or "customer@example.com",
                flow=flow,
                status="pending",
                card=None,
                payment_ref=None,
                response_code=None,
                reason=None,
            )
            self.orders.create(order, self.clock.now())
            if token:
                self.form_orders[token] = order.id
            self.publish(order)
            if card is None:
                return await self.start_hosted_checkout(order)
            await self.pay_via_gateway(order, card)
            return RedirectResponse(f"/orders/{order.id}", status_code=303)

        @app.get("/orders/{order_id}", response_class=HTMLResponse)
        async def order_status(order_id: str) -> HTMLResponse:
            order = self.orders.get(order_id)
            if order is None:
                return HTMLResponse(pages.error_page("Unknown order", order_id), status_code=404)
            html = pages.order_page(
                order.id,
                order.status,
                order.amount_minor,
                order.currency,
                self.customer_message(order),
                order.flow,
            )
            return HTMLResponse(html)

        @app.post("/orders/{order_id}/retry")
        async def retry(order_id: str, request: Request) -> Response:
            order = self.orders.get(order_id)
            if order is None:
                return HTMLResponse(pages.error_page("Unknown order", order_id), status_code=404)
            if order.status != "failed":
                return HTMLResponse(
                    pages.error_page("Nothing to retry", f"order {order_id} is {order.status}"),
                    status_code=409,
                )
            form = await _form(request)
            card = None
            if order.flow == "direct":
                try:
                    card = parse_card(form)
                except FormError as exc:
                    return HTMLResponse(pages.error_page("Card refused", str(exc)), status_code=422)
            self.move(order.id, "pending", "customer retry")
            fresh = self.orders.get(order.id)
            assert fresh is not None
            if card is None:
                return await self.start_hosted_checkout(fresh)
            await self.pay_via_gateway(fresh, card)
            return RedirectResponse(f"/orders/{order.id}", status_code=303)

        @app.post("/webhooks/payviz")
        async def webhook(request: Request) -> JSONResponse:
            raw = (await request.body()).decode("utf-8", errors="replace")
            try:
                msg_id = self._verifier.verify(raw, dict(request.headers))
                event = json.loads(raw)
            except (SignatureError, ValueError) as exc:
                return JSONResponse(error_body("invalid_signature", str(exc)), status_code=400)
            if not self.orders.first_sighting(msg_id, self.clock.now()):
                return JSONResponse({"received": True, "duplicate": True})
            if isinstance(event, dict):
                self.apply_notification(event, f"notification {msg_id}")
            return JSONResponse({"received": True})

        self.add_redirect_routes(app)
        return app

    # The redirect flow lives in merchant_redirect.py; these hooks are filled in there.
    async def start_hosted_checkout(self, order: Order) -> Response:
        from .merchant_redirect import start_hosted_checkout

        return await start_hosted_checkout(self, order)

    def add_redirect_routes(self, app: FastAPI) -> None:
        from .merchant_redirect import add_routes

        add_routes(self, app)


async def _form(request: Request) -> dict[str, str]:
    """Form fields, decoded leniently: a malformed body yields an empty form, not a 500."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
