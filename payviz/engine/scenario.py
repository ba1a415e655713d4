"""A Scenario: everything that shapes one checkout, validated at the door."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._types import DEFAULT_NOTIFY, NOTIFY_BY_MODE, Decision, Mode, Notify
from .cards import CARD_FOR_DECISION, check_test_card
from .faults import Fault
from .money import MAX_AMOUNT_MINOR, currency


class Scenario(BaseModel):
    """One checkout to run: flow, notification style, the bank's answer, card and amount.

    Attributes:
        mode: "direct" (the merchant posts the card to its gateway) or "redirect" (hosted
            checkout at the processor).
        notify: direct: "sync" or "async"; redirect: "return", "webhook" or "both".
            None picks the mode's default.
        decision: the bank's answer. None lets the card decide (the test-card table).
        card: a test card number; None picks the card that gives `decision`.
        retry_card: after a decline, the customer retries the same order with this card.
        abandon_after_payment: the customer closes the tab before the return page loads.
        bank_latency: seconds the bank takes to answer, on the session's clock.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = "direct"
    notify: Notify | None = None
    decision: Decision | None = None
    card: str | None = None
    amount_minor: int = Field(default=1999, gt=0, le=MAX_AMOUNT_MINOR)
    currency: str = "USD"
    email: str = "customer@example.com"
    retry_card: str | None = None
    abandon_after_payment: bool = False
    bank_latency: float = Field(default=0.0, ge=0.0, le=3600.0)
    faults: tuple[str, ...] = ()

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Fault specs as the CLI takes them (NAME[@LINK][=ARG]), normalized."""
        return tuple(Fault.parse(spec).spec() for spec in value)

    @field_validator("card", "retry_card")
    @classmethod
    def _test_card(cls, value: str | None) -> str | None:
        """Only test cards, stored as plain digits however they were typed."""
        return None if value is None else check_test_card(value).number

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        currency(self.currency)
        notify = self.notify or DEFAULT_NOTIFY[self.mode]
        if notify not in NOTIFY_BY_MODE[self.mode]:
            allowed = ", ".join(NOTIFY_BY_MODE[self.mode])
            raise ValueError(f"notify {notify!r} does not apply to {self.mode} mode ({allowed})")
        return self

    @property
    def fault_list(self) -> tuple[Fault, ...]:
        return tuple(Fault.parse(spec) for spec in self.faults)

    @property
    def notify_style(self) -> Notify:
        return self.notify or DEFAULT_NOTIFY[self.mode]

    @property
    def card_number(self) -> str:
        if self.card is not None:
            return self.card
        return CARD_FOR_DECISION[self.decision or "approve"]

    @property
    def bank_override(self) -> Decision | None:
        """The decision the bank must give instead of what the card alone would give."""
        if self.decision is None:
            return None
        if self.card is None and self.decision != "timeout":
            return None  # the card picked for the decision gives it by itself
        return self.decision
