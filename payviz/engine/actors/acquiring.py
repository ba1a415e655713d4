"""The processor's side of the bank link: authorize, capture, reverse, in ISO 8583.

When the bank does not answer in time the processor sends a timeout reversal (0420, built
from its copy of the original, field 90) and repeats it (0421) until a 0430 comes back:
an authorization must never be left orphaned.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from .. import iso_messages as iso
from ..clock import Clock, DeadlineExceeded
from ..money import currency
from ..network import TIMEOUT_EXTENSION

BANK_TIMEOUT_SECONDS = 10.0
REVERSAL_BACKOFF: tuple[float, ...] = (5, 10, 30, 60, 120, 300, 600, 1200)
ACQUIRER_ID = "00000012345"
TERMINAL_ID = "PAYVIZ01"


@dataclass(frozen=True, slots=True)
class BankAnswer:
    """What the processor learned from the bank about one authorization."""

    response_code: str  # field 39, or "68" when no answer came in time
    auth_code: str | None
    stan: str
    rrn: str
    captured: bool
    reversed: bool


class Acquirer:
    """Speaks ISO 8583 to the issuing bank over the processor's HTTP client."""

    def __init__(self, client: httpx.AsyncClient, bank_url: str, clock: Clock) -> None:
        self._client = client
        self._url = bank_url
        self._clock = clock
        self._stans = itertools.count(1)

    def _base(
        self, pan: str, amount_minor: int, currency_code: str, merchant: str
    ) -> dict[str, str]:
        stan = f"{next(self._stans) % 1_000_000:06d}"
        when = datetime.fromtimestamp(self._clock.now(), tz=UTC)
        return {
            "2": pan,
            "3": "000000",
            "4": f"{amount_minor:012d}",
            "7": when.strftime("%m%d%H%M%S"),
            "11": stan,
            "37": f"{secrets.randbelow(10**12):012d}",
            "41": TERMINAL_ID,
            "42": merchant[:15].ljust(15),
            "49": currency(currency_code).numeric,
        }

    async def _send(self, fields: dict[str, str], limit: float | None = None) -> dict[str, str]:
        extensions = {} if limit is None else {TIMEOUT_EXTENSION: limit}
        response = await self._client.post(
            self._url,
            content=iso.encode(fields),
            headers={"content-type": iso.CONTENT_TYPE},
            extensions=extensions,
        )
        if response.headers.get("content-type", "") != iso.CONTENT_TYPE:
            raise iso.IsoError(f"bank refused the message: HTTP {response.status_code}")
        return iso.decode(response.content)

    async def authorize_and_capture(
        self, pan: str, amount_minor: int, currency_code: str, merchant: str
    ) -> BankAnswer:
        request = {"t": "0100", **self._base(pan, amount_minor, currency_code, merchant)}
        try:
            reply = await self._send(request, limit=BANK_TIMEOUT_SECONDS)
        except (DeadlineExceeded, httpx.TransportError, iso.IsoError) as exc:
            # No usable answer: the bank may still have approved and held the funds, so
            # the authorization is reversed rather than forgotten.
            await self._reverse_until_acknowledged(request)
            code = "96" if isinstance(exc, iso.IsoError) else "68"
            return BankAnswer(code, None, request["11"], request["37"], False, True)
        code = reply.get("39", "96")
        if code != "00":
            return BankAnswer(code, None, request["11"], request["37"], False, False)
        completion = {**request, "t": "0220", "38": reply.get("38", "000000")}
        done = await self._advise(completion, repeat="0221")
        captured = done is not None and done.get("39") == "00"
        return BankAnswer(code, reply.get("38"), request["11"], request["37"], captured, False)

    async def _reverse_until_acknowledged(self, original: dict[str, str]) -> None:
        advice = {k: v for k, v in original.items() if k != "t"}
        advice["t"] = "0420"
        advice["90"] = original["t"] + original["11"] + original["7"] + ACQUIRER_ID + "0" * 11
        await self._advise(advice, repeat="0421")

    async def _advise(self, advice: dict[str, str], repeat: str) -> dict[str, str] | None:
        """Store and forward: send an advice, then its repeat, until the bank answers it.

        Advices (a capture's 0220, a reversal's 0420) tell the bank something that already
        happened, so they cannot be declined away or forgotten: an unanswered one is sent
        again, flagged as a repeat, on a backoff schedule.
        """
        expected = iso.RESPONSE_MTI[advice["t"]]
        message = dict(advice)
        for attempt, wait in enumerate((0.0, *REVERSAL_BACKOFF)):
            if wait:
                await self._clock.sleep(wait)
            if attempt == 1:
                message["t"] = repeat
            try:
                reply = await self._send(message, limit=BANK_TIMEOUT_SECONDS)
            except (DeadlineExceeded, httpx.TransportError, iso.IsoError):
                continue
            if reply.get("t") == expected:
                return reply
        return None
