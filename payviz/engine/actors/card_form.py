"""Card fields typed into an HTML form (the merchant's own form, or the hosted page)."""

from __future__ import annotations

from dataclasses import dataclass

from ..cards import CardError, check_test_card


@dataclass(frozen=True, slots=True)
class CardForm:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


class FormError(ValueError):
    """A form the site refuses, with the reason shown to the customer."""


def parse_card(form: dict[str, str]) -> CardForm:
    try:
        number = check_test_card(form.get("card_number", "")).number
    except CardError as exc:
        raise FormError(str(exc)) from None
    month, _, year = form.get("exp", "").partition("/")
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12 and len(year) in (2, 4)):
        raise FormError("expiry must be MM/YY")
    cvc = form.get("cvc", "")
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise FormError("CVC must be 3 or 4 digits")
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    return CardForm(number, int(month), full_year, cvc)
