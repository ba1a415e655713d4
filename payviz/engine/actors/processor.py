"""The payment processor: opens the JWE, screens for fraud, authorizes and captures.

It owns the RSA key pair whose public half the gateway encrypts card data for, and it
notifies whoever asked for the payment with a signed notification.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

from ..capture import Recorder
from ..cards import RESPONSE_CODES, CardError, check_test_card, mask_pan
from ..clock import Clock
from ..delivery import Dispatcher
from ..jwe import Decrypter, JweError, KeyPair
from ..money import MAX_AMOUNT_MINOR, AmountError, currency, format_minor
from ..network import Network
from ..webhooks import Signer, new_message_id
from .acquiring import Acquirer
from .common import ActorError, bearer_token, make_app
from .processor_hosted import CheckoutSession, add_hosted_routes

AMOUNT_LIMIT_MINOR = 5_000_00
VELOCITY_LIMIT = 5
VELOCITY_WINDOW_SECONDS = 600.0


class AuthorizationRequest(BaseModel):
    merchant_id: str = Field(min_length=1, max_length=64)
    payment_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(gt=0, le=MAX_AMOUNT_MINOR)
    currency: str = Field(min_length=3, max_length=3)
    payment: str = Field(min_length=1, max_length=8192, description="compact JWE of the card")


@dataclass(slots=True)
class Authorization:
    id: str
    payment_id: str
    order_id: str
    merchant_id: str
    card: str  # masked
    amount_minor: int
    currency: str
    status: str  # pending | captured | declined | failed
    response_code: str | None
    auth_code: str | None
    reason: str | None


class Processor:
    """The payment processor.

    Attributes:
        keys: the RSA key pair for card data sent to it.
        authorizations: every authorization it handled, by id.
        gateway_key: the API key the gateway presents.
        merchant_keys: API keys of merchants using hosted checkout -> merchant id.
        checkout_sessions: hosted checkout sessions by id.
        velocity_limit: attempts per card within the velocity window before the fraud rule
            declines (a load run, many customers sharing one test card, raises it).
    """

    def __init__(
        self,
        network: Network,
        recorder: Recorder,
        clock: Clock,
        dispatcher: Dispatcher,
        keys: KeyPair,
        secrets_by_receiver: dict[str, str],
        gateway_key: str,
        merchant_keys: dict[str, str],
        return_secret: str,
    ) -> None:
        self.network = network
        self.recorder = recorder
        self.clock = clock
        self.dispatcher = dispatcher
        self.keys = keys
        self._decrypter = Decrypter(keys)
        self._signers = {name: Signer(s, clock) for name, s in secrets_by_receiver.items()}
        self.gateway_key = gateway_key
        self.merchant_keys = merchant_keys
        self.return_secret = return_secret
        self.checkout_sessions: dict[str, CheckoutSession] = {}
        self.authorizations: dict[str, Authorization] = {}
        self._by_payment: dict[str, Authorization] = {}
        self._recent: dict[str, list[float]] = defaultdict(list)
        self.velocity_limit = VELOCITY_LIMIT
        self._acquirer: Acquirer | None = None
        self.app = self._build()

    @property
    def acquirer(self) -> Acquirer:
        if self._acquirer is None:
            self._acquirer = Acquirer(
                self.network.client("processor"), self.network.url("bank", "/iso8583"), self.clock
            )
        return self._acquirer

    def _act(self, text: str) -> None:
        self.recorder.state("processor", "last_action", text)

    def screen(self, pan: str, amount_minor: int) -> tuple[str, str] | None:
        """Fraud rules: (code, reason) to decline without asking the bank, or None."""
        now = self.clock.now()
        recent = [t for t in self._recent[pan] if now - t < VELOCITY_WINDOW_SECONDS]
        recent.append(now)
        self._recent[pan] = recent
        if len(recent) > self.velocity_limit:
            return "59", (
                f"fraud rule: more than {self.velocity_limit} attempts with this card "
                f"in {VELOCITY_WINDOW_SECONDS / 60:.0f} minutes"
            )
        if amount_minor > AMOUNT_LIMIT_MINOR:
            return "61", f"fraud rule: amount over the {AMOUNT_LIMIT_MINOR // 100:,} limit"
        return None

    async def authorize(
        self,
        pan: str,
        amount_minor: int,
        currency_code: str,
        merchant_id: str,
        payment_id: str,
        order_id: str,
    ) -> Authorization:
        """Screen, authorize with the bank and capture on approval."""
        auth = Authorization(
            id="auth_" + secrets.token_hex(8),
            payment_id=payment_id,
            order_id=order_id,
            merchant_id=merchant_id,
            card=mask_pan(pan),
            amount_minor=amount_minor,
            currency=currency_code,
            status="pending",
            response_code=None,
            auth_code=None,
            reason=None,
        )
        self.authorizations[auth.id] = auth
        self._by_payment.setdefault(payment_id, auth)
        blocked = self.screen(pan, amount_minor)
        if blocked is not None:
            auth.response_code, auth.reason = blocked
            auth.status = "declined"
            self._act(f"declined by fraud rules ({auth.card})")
            return auth
        self._act(f"asking the bank to authorize {auth.card}")
        answer = await self.acquirer.authorize_and_capture(
            pan, amount_minor, currency_code, merchant_id
        )
        auth.response_code = answer.response_code
        auth.auth_code = answer.auth_code
        if answer.reversed:
            auth.status = "failed"
            auth.reason = "the bank did not answer in time; the authorization was reversed"
            self._act("bank timed out: reversal acknowledged")
        elif answer.response_code == "00" and answer.captured:
            auth.status = "captured"
            self._act(f"captured {format_minor(auth.amount_minor, auth.currency)} from {auth.card}")
        elif answer.response_code == "00":
            auth.status = "failed"
            auth.reason = "the capture was refused"
            self._act("capture refused")
        else:
            auth.status = "declined"
            auth.reason = RESPONSE_CODES.get(answer.response_code, "declined")
            self._act(f"bank declined: {answer.response_code} {auth.reason}")
        return auth

    def notify(self, receiver: str, url: str, auth: Authorization) -> None:
        event = "payment.succeeded" if auth.status == "captured" else "payment.failed"
        body = json.dumps({"type": event, "data": asdict(auth)}, separators=(",", ":"))
        self.dispatcher.send(
            self.network.client("processor"), url, body, self._signers[receiver], new_message_id()
        )

    def _build(self) -> FastAPI:
        app = make_app("payviz processor")

        @app.post("/v1/authorizations")
        async def authorizations(body: AuthorizationRequest, request: Request) -> dict[str, object]:
            if bearer_token(request) != self.gateway_key:
                raise ActorError(401, "authentication_error", "missing or wrong API key")
            try:
                currency(body.currency)
            except AmountError as exc:
                raise ActorError(422, "invalid_currency", str(exc)) from None
            try:
                card = self._decrypter.open(body.payment)
            except JweError as exc:
                self._act("rejected a payment it could not decrypt")
                raise ActorError(400, "decryption_failed", str(exc)) from None
            try:
                pan = check_test_card(str(card.get("number", ""))).number
            except CardError as exc:
                raise ActorError(422, "invalid_card", str(exc)) from None
            self._act(f"decrypted the card {mask_pan(pan)}")
            known = self._by_payment.get(body.payment_id)
            if known is not None:
                # the gateway retried a payment it already sent: same answer, no new charge
                if known.status == "pending":
                    raise ActorError(409, "in_progress", "this payment is being authorized")
                return asdict(known)
            auth = await self.authorize(
                pan,
                body.amount_minor,
                body.currency,
                body.merchant_id,
                body.payment_id,
                body.order_id,
            )
            self.notify("gateway", self.network.url("gateway", "/v1/notifications"), auth)
            return asdict(auth)

        add_hosted_routes(self, app)
        return app
