"""The issuing bank: card accounts, holds, a ledger and an ISO 8583 endpoint.

Authorization (0100/0110) places a hold; the completion advice (0220/0230) turns the hold
into a debit; reversals (0400/0410, 0420/0430) release it. The answer comes from the card
(the test-card table), from the balance, or from the scenario's override.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import Response

from .. import iso_messages as iso
from .._types import Decision
from ..capture import Recorder
from ..cards import CARDS_BY_NUMBER, RESPONSE_CODES, TEST_CARDS, mask_pan
from ..clock import Clock
from ..context import CURRENT_RUN
from ..faults import FaultBook, FaultPlan
from .common import error_body, make_app

DECISION_CODES: dict[Decision, str] = {card.decision: card.response_code for card in TEST_CARDS}
DECISION_CODES["timeout"] = "00"  # the bank approves, but its answer arrives too late
LATE_ANSWER_SECONDS = 35.0
STARTING_BALANCE_MINOR = 1_000_00
POOR_CARD = "4000000000009995"

# The fields the bank reads, per request MTI, and their ISO 8583 numeric formats. pyiso8583
# checks lengths only, so "-00000001999" or "00000000abcd" would otherwise reach the ledger.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "0100": ("2", "4", "11"),
    "0220": ("2", "4", "11"),
    "0221": ("2", "4", "11"),
    "0400": ("2", "11"),
    "0420": ("2", "11"),
    "0421": ("2", "11"),
}
NUMERIC_FIELDS: dict[str, tuple[int, int]] = {"2": (12, 19), "4": (12, 12), "11": (6, 6)}


@dataclass(slots=True)
class Account:
    pan: str
    currency: str
    balance_minor: int
    holds: dict[str, int] = field(default_factory=dict)  # STAN -> amount
    # The bank's last answer about this account, in words ("declined (51): insufficient
    # funds"), or None before the first: what the diagram's bank card shows.
    answer: str | None = None

    @property
    def held_minor(self) -> int:
        return sum(self.holds.values())

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.held_minor


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    at: float
    pan: str
    kind: str  # hold | release | debit
    amount_minor: int
    stan: str


class Bank:
    """The customer's bank.

    Attributes:
        accounts: the test cards' accounts, by PAN.
        ledger: every hold, release and debit in order.
        override: a decision to give instead of the card's own.
        latency: seconds the bank takes to answer, on the clock.
        scenarios: checkout number -> (override, latency) for that checkout alone; a
            request of a checkout listed here uses them instead of the two above.
    """

    def __init__(self, recorder: Recorder, clock: Clock) -> None:
        self.recorder = recorder
        self.clock = clock
        self.accounts: dict[str, Account] = {
            card.number: Account(
                card.number, "USD", 0 if card.number == POOR_CARD else STARTING_BALANCE_MINOR
            )
            for card in TEST_CARDS
        }
        self.ledger: list[LedgerEntry] = []
        self.override: Decision | None = None
        self.latency = 0.0
        self.scenarios: dict[int, tuple[Decision | None, float]] = {}
        self.faults: FaultBook | None = None
        self.captured: dict[str, int] = {}  # STAN -> amount, so a repeated advice is harmless
        self.reversed: set[str] = set()  # STANs reversed, so a late original holds nothing
        # STANs of every authorization already decided, approved or not: a copy of one that
        # was declined must not be approved and leave a hold nobody will reverse.
        self.decided: set[str] = set()
        self.app = self._build()

    def _publish(self, account: Account) -> None:
        self.recorder.state(
            "bank",
            "account",
            {
                "card": mask_pan(account.pan),
                "balance_minor": account.balance_minor,
                "held_minor": account.held_minor,
                "currency": account.currency,
                "answer": account.answer,
            },
        )

    def _book(self, account: Account, kind: str, amount: int, stan: str) -> None:
        self.ledger.append(LedgerEntry(self.clock.now(), account.pan, kind, amount, stan))

    def debits(self) -> int:
        return sum(e.amount_minor for e in self.ledger if e.kind == "debit")

    def open_holds(self) -> int:
        return sum(len(a.holds) for a in self.accounts.values())

    def _build(self) -> FastAPI:
        app = make_app("payviz bank (issuer)")

        @app.post("/iso8583")
        async def iso8583(request: Request) -> Response:
            raw = await request.body()
            try:
                fields = iso.decode(raw)
            except iso.IsoError as exc:
                return Response(
                    content=_json(error_body("invalid_iso8583", f"cannot decode: {exc}")),
                    status_code=400,
                    media_type="application/json",
                )
            problem = format_problem(fields)
            if problem is not None:
                return Response(
                    content=_json(error_body("invalid_iso8583", problem)),
                    status_code=400,
                    media_type="application/json",
                )
            reply = await self.handle(fields)
            if reply is None:
                return Response(
                    content=_json(
                        error_body("unsupported_mti", f"MTI {fields.get('t')} is not handled")
                    ),
                    status_code=400,
                    media_type="application/json",
                )
            return Response(content=iso.encode(reply), media_type=iso.CONTENT_TYPE)

        return app

    def _plan(self) -> FaultPlan | None:
        return None if self.faults is None else self.faults.get(CURRENT_RUN.get().checkout)

    async def handle(self, fields: dict[str, str]) -> dict[str, str] | None:
        mti = fields.get("t", "")
        override, latency = self.scenarios.get(
            CURRENT_RUN.get().checkout, (self.override, self.latency)
        )
        if latency:
            await self.clock.sleep(latency)
        if mti == "0100":
            return await self._authorize(fields, override)
        if mti in ("0220", "0221"):
            return self._complete(fields)
        if mti in ("0400", "0420", "0421"):
            return self._reverse(fields)
        return None

    def _answer(self, fields: dict[str, str], code: str, **extra: str) -> dict[str, str]:
        reply = {
            k: v
            for k, v in fields.items()
            if k in ("2", "3", "4", "7", "11", "37", "41", "42", "49")
        }
        reply.update(extra)
        reply["t"] = iso.RESPONSE_MTI[fields["t"]]
        reply["39"] = code
        return reply

    def _decide(
        self, account: Account | None, pan: str, amount: int, override: Decision | None
    ) -> tuple[str, bool]:
        """(field 39, late) for an authorization request."""
        if account is None:
            return "14", False
        if amount <= 0:
            return "13", False  # invalid amount: nothing to hold
        decision = override or CARDS_BY_NUMBER[pan].decision
        plan = self._plan()
        if plan is not None and plan.take_named("unavailable"):
            return "91", False
        if plan is not None and plan.take_named("timeout"):
            decision = "timeout"
        if decision == "timeout":
            return ("00" if amount <= account.available_minor else "51"), True
        code = DECISION_CODES[decision]
        if code == "00" and amount > account.available_minor:
            return "51", False
        return code, False

    async def _authorize(
        self, fields: dict[str, str], override: Decision | None = None
    ) -> dict[str, str]:
        pan = fields.get("2", "")
        account = self.accounts.get(pan)
        amount = int(fields.get("4", "0") or 0)
        stan = fields.get("11", "")
        if account is not None and (
            stan in account.holds or stan in self.captured or stan in self.decided
        ):
            # the same STAN again: a resent request, not a new purchase
            return self._answer(fields, "94")
        code, late = self._decide(account, pan, amount, override)
        if account is not None:
            self.decided.add(stan)
        if stan in self.reversed:
            code, late = "68", False  # the acquirer already reversed it: hold nothing
        extra: dict[str, str] = {}
        if code == "00" and account is not None:
            account.holds[stan] = amount
            self._book(account, "hold", amount, stan)
            extra["38"] = secrets.token_hex(3).upper()
        if account is not None and amount > 0:  # a decline is an answer too: the card
            # shows it (a request for nothing is refused as malformed and changes nothing)
            account.answer = authorization_answer(code)
            self._publish(account)
        if late:
            await self.clock.sleep(LATE_ANSWER_SECONDS)
        return self._answer(fields, code, **extra)

    def _complete(self, fields: dict[str, str]) -> dict[str, str]:
        account = self.accounts.get(fields.get("2", ""))
        stan = fields.get("11", "")
        amount = int(fields.get("4", "0") or 0)
        if stan in self.captured and self.captured[stan] == amount:
            return self._answer(fields, "00")  # a repeated advice: already debited once
        if account is None or stan not in account.holds:
            return self._answer(fields, "25")  # unable to locate the original
        if amount <= 0:
            return self._answer(fields, "13")  # invalid amount
        if amount > account.holds[stan]:
            return self._answer(fields, "13")  # capture above the authorized amount
        del account.holds[stan]
        account.balance_minor -= amount
        self.captured[stan] = amount
        self._book(account, "debit", amount, stan)
        account.answer = "captured (00)"
        self._publish(account)
        return self._answer(fields, "00")

    def _reverse(self, fields: dict[str, str]) -> dict[str, str]:
        account = self.accounts.get(fields.get("2", ""))
        original = fields.get("90", "")
        stan = original[4:10] if len(original) >= 10 else fields.get("11", "")
        if stan not in self.captured:
            self.reversed.add(stan)
        if account is not None and stan in account.holds:
            amount = account.holds.pop(stan)
            self._book(account, "release", amount, stan)
            account.answer = "reversed: hold released"
            self._publish(account)
        # A reversal of something already released is still acknowledged: the acquirer
        # repeats 0421 until it sees a 0430, so the answer must be idempotent.
        return self._answer(fields, "00")


def authorization_answer(code: str) -> str:
    """An authorization's answer in words, as the bank's card shows it: "approved (00)",
    "declined (51): insufficient funds"."""
    if code == "00":
        return "approved (00)"
    reason = RESPONSE_CODES.get(code)
    return f"declined ({code}): {reason}" if reason else f"declined ({code})"


def format_problem(fields: dict[str, str]) -> str | None:
    """Why a decoded message cannot be processed (missing or non-numeric fields), or None."""
    mti = fields.get("t", "")
    for number in REQUIRED_FIELDS.get(mti, ()):
        if number not in fields:
            return f"MTI {mti} needs field {number} ({iso.field_name(number)})"
    for number, (shortest, longest) in NUMERIC_FIELDS.items():
        value = fields.get(number)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit() and shortest <= len(value) <= longest):
            width = str(shortest) if shortest == longest else f"{shortest}-{longest}"
            # never echo field 2: whatever it holds may be a card number
            shown = "" if number == "2" else f", got {value!r}"
            return f"field {number} ({iso.field_name(number)}) must be {width} digits{shown}"
    return None


def _json(data: object) -> bytes:
    import json

    return json.dumps(data).encode()
