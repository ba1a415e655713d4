"""Amounts in minor units and the ISO 4217 currencies payviz knows."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # decimal loads with the first amount read, not with the window
    from decimal import Decimal


# Named tuples, not dataclasses: the window reads them before its first paint, and a
# NamedTuple class takes a tenth of the time a frozen dataclass takes to make.
class Currency(NamedTuple):
    code: str
    numeric: str
    exponent: int


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", "840", 2),
        Currency("EUR", "978", 2),
        Currency("GBP", "826", 2),
        Currency("CHF", "756", 2),
        Currency("CAD", "124", 2),
        Currency("JPY", "392", 0),
    )
}

MAX_AMOUNT_MINOR = 999_999_999_99  # twelve digits, the width of ISO 8583 field 4


class AmountError(ValueError):
    """An amount or currency payviz refuses."""


def currency(code: str) -> Currency:
    found = CURRENCIES.get(code.upper())
    if found is None:
        known = ", ".join(CURRENCIES)
        raise AmountError(f"unknown currency {code!r} (known: {known})")
    return found


def to_minor(amount: str | float | Decimal, code: str) -> int:
    """'12.34' USD -> 1234. Refuses negatives, zero, too many decimals and overflow."""
    from decimal import Decimal, InvalidOperation

    cur = currency(code)
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise AmountError(f"amount {amount!r} is not a number") from None
    if not value.is_finite():
        raise AmountError(f"amount {amount!r} is not a number")
    if value <= 0:
        raise AmountError(f"amount must be positive, got {amount}")
    minor = value.scaleb(cur.exponent)
    if minor != minor.to_integral_value():
        raise AmountError(f"{cur.code} takes at most {cur.exponent} decimals, got {amount}")
    if minor > MAX_AMOUNT_MINOR:
        raise AmountError(f"amount {amount} is too large")
    return int(minor)


def format_minor(amount_minor: int, code: str) -> str:
    from decimal import Decimal

    cur = currency(code)
    value = Decimal(amount_minor).scaleb(-cur.exponent)
    return f"{value:,.{cur.exponent}f} {cur.code}"
