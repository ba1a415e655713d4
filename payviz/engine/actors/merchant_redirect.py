"""The merchant's side of hosted checkout (redirect flow).

The merchant opens a checkout session at the processor, redirects the customer there, and
later learns the outcome from the signed return URL (verified, then confirmed with an
authenticated status lookup) and/or the signed notification. It never sees the card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import return_url
from . import merchant_pages as pages

if TYPE_CHECKING:
    from .merchant import Merchant
    from .merchant_db import Order


async def start_hosted_checkout(merchant: Merchant, order: Order) -> Response:
    net = merchant.network
    response = await net.client("merchant").post(
        net.url("processor", "/v1/checkout/sessions"),
        json={
            "order_id": order.id,
            "amount_minor": order.amount_minor,
            "currency": order.currency,
            "return_url": net.url("merchant", "/return"),
            "notify_url": net.url("merchant", "/webhooks/payviz"),
            "notify": merchant.notify_style(merchant.redirect_notify),
        },
        headers={"authorization": f"Bearer {merchant.processor_key}"},
    )
    if response.status_code != 201:
        reason = response.json().get("error", {}).get("message", "the processor refused")
        merchant.move(order.id, "failed", "processor refusal", reason=reason)
        return HTMLResponse(pages.error_page("Checkout unavailable", reason), status_code=502)
    session = response.json()
    merchant.orders.set_payment_ref(order.id, str(session["id"]))
    return RedirectResponse(str(session["url"]), status_code=303)


async def confirm_with_processor(merchant: Merchant, session_id: str) -> dict[str, object] | None:
    net = merchant.network
    response = await net.client("merchant").get(
        net.url("processor", f"/v1/checkout/sessions/{session_id}"),
        headers={"authorization": f"Bearer {merchant.processor_key}"},
    )
    return response.json() if response.status_code == 200 else None


def add_routes(merchant: Merchant, app: FastAPI) -> None:
    @app.get("/return", response_class=HTMLResponse)
    async def back_from_processor(request: Request) -> Response:
        params = dict(request.query_params)
        order = merchant.orders.get(params.get("order_id", ""))
        if order is None or order.payment_ref != params.get("session_id"):
            return HTMLResponse(
                pages.error_page("Unknown order", "this return link matches no checkout"), 404
            )
        if "sig" in params or merchant.notify_style(merchant.redirect_notify) != "webhook":
            if not return_url.verify(params, merchant.return_secret):
                return HTMLResponse(
                    pages.error_page(
                        "Invalid return link",
                        "the payment result in this link was altered; nothing was changed",
                    ),
                    400,
                )
            # A valid signature proves the processor wrote the link, not that it is fresh or
            # final: the merchant asks the processor before it moves the order.
            status = await confirm_with_processor(merchant, str(params["session_id"]))
            if status is not None and status.get("order_id") == order.id:
                # the link and the processor must agree before the order moves
                agreed = {"complete": "paid", "failed": "failed"}.get(str(status.get("status")))
                if agreed is not None and agreed == params.get("status"):
                    merchant.conclude(order.id, agreed, "return URL + status lookup", status)
        return RedirectResponse(f"/orders/{order.id}", status_code=303)
