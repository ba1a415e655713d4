"""The processor's hosted checkout page: the card form the customer fills on its site."""

from __future__ import annotations

from html import escape

from ..money import format_minor
from .merchant_pages import page


def card_page(
    session_id: str, merchant: str, amount_minor: int, currency: str, error: str = ""
) -> str:
    problem = f"<p class='failed'>{escape(error)}</p>" if error else ""
    return page(
        "Secure checkout",
        "<h1>payviz processor: secure checkout</h1>"
        f"<div class='box'><p>Pay <strong>{escape(format_minor(amount_minor, currency))}</strong>"
        f" to {escape(merchant)}</p>{problem}"
        f"<form method='post' action='/pay/{escape(session_id)}'>"
        "<label>Card number <input name='card_number' autocomplete='cc-number'></label>"
        "<label>Expiry (MM/YY) <input name='exp' value='12/30'></label>"
        "<label>CVC <input name='cvc' value='123'></label>"
        "<button type='submit'>Pay now</button></form></div>",
    )
