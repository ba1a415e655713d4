"""The processor's hosted checkout: sessions for merchants, the card page for customers.

The merchant creates a session server to server; the customer's browser is redirected to
the page, posts the card here, and is sent back to the merchant with a signed outcome.
The merchant never touches the card.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator

from .. import return_url
from ..money import MAX_AMOUNT_MINOR, AmountError, currency
from . import hosted_pages
from .card_form import FormError, parse_card
from .common import ActorError, bearer_token
from .merchant_pages import error_page

if TYPE_CHECKING:
    from .processor import Processor

SESSION_LIFETIME_SECONDS = 30 * 60


class SessionRequest(BaseModel):
    order_id: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(gt=0, le=MAX_AMOUNT_MINOR)
    currency: str = Field(min_length=3, max_length=3)
    return_url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://")
    notify_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    notify: Literal["return", "webhook", "both"] = "both"

    @field_validator("return_url", "notify_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        """A URL the processor can really send to later: a notification to one that does
        not parse would fail inside the delivery task, long after this request."""
        if value is None:
            return None
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an absolute http(s) URL")
        return value


@dataclass(slots=True)
class CheckoutSession:
    id: str
    merchant_id: str
    order_id: str
    amount_minor: int
    currency: str
    return_url: str
    notify_url: str | None
    notify: str
    created: float
    status: str = "open"  # open | complete | failed | expired
    response_code: str | None = None
    decline_reason: str | None = None
    card: str | None = None


def _public(session: CheckoutSession) -> dict[str, object]:
    view = asdict(session)
    view.pop("return_url")
    view.pop("notify_url")
    return view


def add_hosted_routes(processor: Processor, app: FastAPI) -> None:
    sessions: dict[str, CheckoutSession] = processor.checkout_sessions

    def merchant_of(request: Request) -> str:
        merchant = processor.merchant_keys.get(bearer_token(request) or "")
        if merchant is None:
            raise ActorError(401, "authentication_error", "missing or wrong API key")
        return merchant

    def live(session_id: str) -> CheckoutSession | Response:
        session = sessions.get(session_id)
        if session is None:
            return HTMLResponse(error_page("Unknown checkout", "no such checkout session"), 404)
        if (
            session.status == "open"
            and processor.clock.now() - session.created > SESSION_LIFETIME_SECONDS
        ):
            session.status = "expired"
        if session.status == "expired":
            return HTMLResponse(error_page("Checkout expired", "start the checkout again"), 410)
        if session.status != "open":
            return HTMLResponse(
                error_page("Already paid", f"this checkout is {session.status}"), 409
            )
        return session

    @app.post("/v1/checkout/sessions", status_code=201)
    async def create_session(body: SessionRequest, request: Request) -> dict[str, object]:
        merchant = merchant_of(request)
        try:
            currency(body.currency)
        except AmountError as exc:
            raise ActorError(422, "invalid_currency", str(exc)) from None
        session = CheckoutSession(
            id="cs_" + secrets.token_hex(8),
            merchant_id=merchant,
            order_id=body.order_id,
            amount_minor=body.amount_minor,
            currency=body.currency.upper(),
            return_url=body.return_url,
            notify_url=body.notify_url,
            notify=body.notify,
            created=processor.clock.now(),
        )
        sessions[session.id] = session
        processor._act(f"opened hosted checkout {session.id}")
        base = str(request.base_url).rstrip("/")
        return {**_public(session), "url": f"{base}/pay/{session.id}"}

    @app.get("/v1/checkout/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> dict[str, object]:
        merchant = merchant_of(request)
        session = sessions.get(session_id)
        if session is None or session.merchant_id != merchant:
            raise ActorError(404, "not_found", f"no checkout session {session_id}")
        return _public(session)

    @app.get("/pay/{session_id}", response_class=HTMLResponse)
    async def card_page(session_id: str) -> Response:
        found = live(session_id)
        if isinstance(found, Response):
            return found
        return HTMLResponse(
            hosted_pages.card_page(found.id, found.merchant_id, found.amount_minor, found.currency)
        )

    @app.post("/pay/{session_id}")
    async def pay(session_id: str, request: Request) -> Response:
        found = live(session_id)
        if isinstance(found, Response):
            return found
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        try:
            card = parse_card(form)
        except FormError as exc:
            page = hosted_pages.card_page(
                found.id, found.merchant_id, found.amount_minor, found.currency, str(exc)
            )
            return HTMLResponse(page, status_code=422)
        auth = await processor.authorize(
            card.number,
            found.amount_minor,
            found.currency,
            found.merchant_id,
            found.id,
            found.order_id,
        )
        found.status = "complete" if auth.status == "captured" else "failed"
        found.response_code = auth.response_code
        found.decline_reason = auth.reason
        found.card = auth.card
        if found.notify in ("webhook", "both") and found.notify_url:
            processor.notify("merchant", found.notify_url, auth)
        outcome = {"session_id": found.id, "order_id": found.order_id}
        if found.notify in ("return", "both"):
            outcome["status"] = "paid" if found.status == "complete" else "failed"
            outcome["code"] = found.response_code or ""
            query = return_url.signed_query(outcome, processor.return_secret)
        else:
            query = return_url.canonical(outcome)
        separator = "&" if "?" in found.return_url else "?"
        return RedirectResponse(found.return_url + separator + query, status_code=303)
