"""Signed notifications (Standard Webhooks): signing, verifying against the injected clock.

The HMAC comes from the `standardwebhooks` package; the timestamp tolerance is judged here
against the session's clock so that tests and long retry schedules need no real waiting.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

from .clock import Clock

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A notification whose signature or timestamp does not verify."""


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


class Signer:
    """Signs notification bodies for one receiver's secret."""

    def __init__(self, secret: str, clock: Clock) -> None:
        self._hook = Webhook(secret)
        self._clock = clock

    def headers(self, msg_id: str, body: str) -> dict[str, str]:
        timestamp = int(self._clock.now())
        when = datetime.fromtimestamp(timestamp, tz=UTC)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self._hook.sign(msg_id, when, body),
        }


class Verifier:
    """Verifies Standard Webhooks headers: signature (constant time) and a 5-minute window."""

    def __init__(self, secret: str, clock: Clock) -> None:
        self._hook = Webhook(secret)
        self._clock = clock

    def expected(self, msg_id: str, timestamp: int, body: str) -> str:
        return self._hook.sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body)

    def verify(self, body: str, headers: dict[str, str]) -> str:
        """Return the webhook id, or raise SignatureError saying what is wrong."""
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get("webhook-id")
        stamp = lowered.get("webhook-timestamp")
        signature = lowered.get("webhook-signature")
        if not (msg_id and stamp and signature):
            raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise SignatureError("webhook-timestamp is not a Unix time") from None
        age = self._clock.now() - timestamp
        if age > TOLERANCE_SECONDS:
            raise SignatureError(f"webhook-timestamp is {age:.0f} s old (tolerance 300 s)")
        if age < -TOLERANCE_SECONDS:
            raise SignatureError(f"webhook-timestamp is {-age:.0f} s in the future")
        expected = base64.b64decode(self.expected(msg_id, timestamp, body).split(",", 1)[1])
        for candidate in signature.split(" "):
            version, _, value = candidate.partition(",")
            if version != "v1":
                continue
            try:
                given = base64.b64decode(value, validate=True)
            except ValueError:
                continue
            if hmac.compare_digest(expected, given):
                return msg_id
        raise SignatureError("no webhook-signature matches the body")
