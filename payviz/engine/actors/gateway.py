"""The payment gateway: the merchant's API, card encryption and notification relay.

It authenticates merchants by API key, honours `Idempotency-Key`, seals the card in a JWE
for the processor, forwards, and relays the processor's signed notification to the
merchant, signed again with the merchant's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from ..capture import Recorder
from ..cards import CardError, check_test_card, mask_pan
from ..clock import Clock
from ..delivery import Dispatcher
from ..jwe import Encrypter
from ..money import MAX_AMOUNT_MINOR, AmountError, currency
from ..network import Network
from ..webhooks import SignatureError, Signer, Verifier, new_message_id
from .common import ActorError, bearer_token, error_body, make_app
from .idempotency import IdempotencyError, IdempotencyStore

FORWARD_ATTEMPTS = 3


class CardDetails(BaseModel):
    number: str = Field(min_length=12, max_length=23)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(pattern=r"^\d{3,4}$")


class PaymentRequest(BaseModel):
    order_id: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(gt=0, le=MAX_AMOUNT_MINOR)
    currency: str = Field(min_length=3, max_length=3)
    card: CardDetails
    confirmation: Literal["sync", "async"] = "sync"


class Gateway:
    """The payment gateway.

    Attributes:
        merchants: API key -> merchant id.
        payments: payment id -> its latest public view.
    """

    def __init__(
        self,
        network: Network,
        recorder: Recorder,
        clock: Clock,
        dispatcher: Dispatcher,
        processor_kid: str,
        processor_public_pem: str,
        processor_key: str,
        own_secret: str,
        merchant_secret: str,
        merchants: dict[str, str],
    ) -> None:
        self.network = network
        self.recorder = recorder
        self.clock = clock
        self.dispatcher = dispatcher
        self.encrypter = Encrypter(processor_kid, processor_public_pem)
        self.processor_key = processor_key
        self._verifier = Verifier(own_secret, clock)
        self._merchant_signer = Signer(merchant_secret, clock)
        self.merchants = merchants
        self.payments: dict[str, dict[str, object]] = {}
        self._seen_notifications: set[str] = set()
        self.idempotency = IdempotencyStore(clock)
        self._background: set[asyncio.Task[None]] = set()
        self.app = self._build()

    def _act(self, text: str) -> None:
        self.recorder.state("gateway", "last_action", text)

    def _merchant(self, request: Request) -> str:
        merchant = self.merchants.get(bearer_token(request) or "")
        if merchant is None:
            raise ActorError(401, "authentication_error", "missing or wrong API key")
        return merchant

    async def _forward(
        self, merchant: str, payment_id: str, body: PaymentRequest
    ) -> dict[str, object]:
        card = body.card
        token = self.encrypter.seal(card.model_dump())
        self._act(f"sealed {mask_pan(card.number)} in a JWE for the processor")
        response = await self._post_to_processor(
            {
                "merchant_id": merchant,
                "payment_id": payment_id,
                "order_id": body.order_id,
                "amount_minor": body.amount_minor,
                "currency": body.currency,
                "payment": token,
            }
        )
        view: dict[str, object] = {
            "id": payment_id,
            "order_id": body.order_id,
            "amount_minor": body.amount_minor,
            "currency": body.currency,
            "card": mask_pan(card.number),
        }
        if response is None or response.status_code >= 500 or response.status_code == 409:
            # The outcome is unknown (the processor may have charged): say so, and let the
            # processor's notification decide. Never call it failed.
            view.update(status="processing", response_code=None, decline_reason=None)
        elif response.status_code == 200:
            auth = response.json()
            view.update(
                status="succeeded" if auth["status"] == "captured" else "failed",
                response_code=auth.get("response_code"),
                decline_reason=auth.get("reason"),
                authorization_id=auth.get("id"),
            )
        else:
            reason = response.json().get("error", {}).get("message", "processor error")
            view.update(status="failed", response_code=None, decline_reason=reason)
        self.payments[payment_id] = view
        return view

    async def _post_to_processor(self, body: dict[str, object]) -> httpx.Response | None:
        """Forward, retrying on a lost connection or a 5xx: the processor deduplicates by
        payment_id, so a retry can never authorize twice."""
        response: httpx.Response | None = None
        for attempt in range(1, FORWARD_ATTEMPTS + 1):
            try:
                response = await self.network.client("gateway").post(
                    self.network.url("processor", "/v1/authorizations"),
                    json=body,
                    headers={"authorization": f"Bearer {self.processor_key}"},
                )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500 and response.status_code != 409:
                return response
            if attempt < FORWARD_ATTEMPTS:
                await self.clock.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
        return response

    def _build(self) -> FastAPI:
        app = make_app("payviz gateway")

        @app.post("/v1/payments")
        async def create_payment(request: Request) -> Response:
            merchant = self._merchant(request)
            raw = await request.body()
            key = request.headers.get("idempotency-key")
            if key is not None:
                try:
                    stored = self.idempotency.begin(merchant, key, raw)
                except IdempotencyError as exc:
                    raise ActorError(exc.status, exc.code, exc.message) from None
                if stored is not None and stored.status is not None:
                    self._act("replayed a stored response for a repeated Idempotency-Key")
                    return Response(
                        stored.body,
                        status_code=stored.status,
                        media_type="application/json",
                        headers={"idempotent-replayed": "true"},
                    )
            try:
                status, body = await self._create(merchant, raw, key)
            except BaseException:
                if key is not None:
                    self.idempotency.abandon(merchant, key)
                raise
            if key is not None:
                self.idempotency.finish(merchant, key, status, body)
            return Response(body, status_code=status, media_type="application/json")

        @app.get("/v1/payments/{payment_id}")
        async def get_payment(payment_id: str, request: Request) -> dict[str, object]:
            self._merchant(request)
            view = self.payments.get(payment_id)
            if view is None:
                raise ActorError(404, "not_found", f"no payment {payment_id}")
            return view

        @app.post("/v1/notifications")
        async def notifications(request: Request) -> dict[str, object]:
            raw = (await request.body()).decode("utf-8", errors="replace")
            try:
                msg_id = self._verifier.verify(raw, dict(request.headers))
            except SignatureError as exc:
                self._act("rejected a notification with a bad signature")
                raise ActorError(400, "invalid_signature", str(exc)) from None
            try:
                event = json.loads(raw)
            except ValueError:
                event = None
            data = event.get("data") if isinstance(event, dict) else None
            if not isinstance(event, dict) or not isinstance(data, dict):
                raise ActorError(
                    400, "invalid_request", "a notification is a JSON object with a data object"
                )
            if msg_id in self._seen_notifications:
                return {"received": True, "duplicate": True}
            self._seen_notifications.add(msg_id)
            relayed = {
                "type": event.get("type"),
                "data": {
                    "payment_id": data.get("payment_id"),
                    "order_id": data.get("order_id"),
                    "amount_minor": data.get("amount_minor"),
                    "currency": data.get("currency"),
                    "response_code": data.get("response_code"),
                    "decline_reason": data.get("reason"),
                    "card": data.get("card"),
                },
            }
            self._act(f"relaying {event.get('type')} to the merchant")
            self.dispatcher.send(
                self.network.client("gateway"),
                self.network.url("merchant", "/webhooks/payviz"),
                json.dumps(relayed, separators=(",", ":")),
                self._merchant_signer,
                new_message_id(),
            )
            return {"received": True}

        return app

    async def _create(self, merchant: str, raw: bytes, key: str | None) -> tuple[int, bytes]:
        try:
            body = PaymentRequest.model_validate_json(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            return 422, _dump(error_body("invalid_request", problems))
        try:
            currency(body.currency)
            check_test_card(body.card.number)
        except (AmountError, CardError) as exc:
            return 422, _dump(error_body("invalid_request", str(exc)))
        # One idempotency key, one payment id: a retry the gateway could not answer the
        # first time reaches the processor as the same payment, which it deduplicates.
        payment_id = "pay_" + (
            hashlib.sha256(f"{merchant}:{key}".encode()).hexdigest()[:16]
            if key
            else secrets.token_hex(8)
        )
        self._act(f"accepted payment {payment_id} for order {body.order_id}")
        if body.confirmation == "async":
            pending: dict[str, object] = {
                "id": payment_id,
                "order_id": body.order_id,
                "status": "processing",
            }
            self.payments[payment_id] = pending
            task = asyncio.get_running_loop().create_task(
                self._forward_quietly(merchant, payment_id, body)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return 202, _dump(pending)
        view = await self._forward(merchant, payment_id, body)
        return 201, _dump(view)

    async def _forward_quietly(self, merchant: str, payment_id: str, body: PaymentRequest) -> None:
        await self._forward(merchant, payment_id, body)

    async def idle(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background))

    async def cancel(self) -> None:
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def has_background(self) -> bool:
        return bool(self._background)


def _dump(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
