"""The merchant's web pages: shop, card form, order status. Plain HTML, no scripts."""

from __future__ import annotations

from html import escape

from ..cards import TEST_CARDS
from ..money import format_minor

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;color:#222}
h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem}
label{display:block;margin:.5rem 0}input{font:inherit;padding:.3rem}
.paid{color:#007a4d}.failed{color:#b3261e}.pending{color:#8a6d00}
button{font:inherit;padding:.4rem 1rem}
"""


def page(title: str, body: str, refresh: str | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="2;url={escape(refresh)}">' if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"{meta}<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def shop(amount: str, currency: str, flow: str) -> str:
    return page(
        "payviz shop",
        f"<h1>payviz demo shop</h1><div class='box'><p>Teaching poster, {escape(amount)} "
        f"{escape(currency)}</p><form method='get' action='/checkout'>"
        f"<input type='hidden' name='amount' value='{escape(amount)}'>"
        f"<input type='hidden' name='currency' value='{escape(currency)}'>"
        f"<input type='hidden' name='flow' value='{escape(flow)}'>"
        "<button type='submit'>Checkout</button></form></div>",
    )


def checkout_form(
    amount: str, currency: str, flow: str, error: str | None = None, token: str = ""
) -> str:
    hidden = (
        f"<input type='hidden' name='form_token' value='{escape(token)}'>"
        f"<input type='hidden' name='amount' value='{escape(amount)}'>"
        f"<input type='hidden' name='currency' value='{escape(currency)}'>"
        f"<input type='hidden' name='flow' value='{escape(flow)}'>"
    )
    problem = f"<p class='failed'>{escape(error)}</p>" if error else ""
    if flow == "redirect":
        fields = (
            "<label>Email <input name='email' value='customer@example.com'></label>"
            "<button type='submit'>Pay with the processor</button>"
        )
    else:
        cards = "".join(f"<li><code>{c.number}</code> {escape(c.label)}</li>" for c in TEST_CARDS)
        fields = (
            "<label>Email <input name='email' value='customer@example.com'></label>"
            "<label>Card number <input name='card_number' autocomplete='cc-number'></label>"
            "<label>Expiry (MM/YY) <input name='exp' value='12/30'></label>"
            "<label>CVC <input name='cvc' value='123'></label>"
            f"<button type='submit'>Pay</button><p>Test cards:</p><ul>{cards}</ul>"
        )
    return page(
        "Checkout",
        f"<h1>Checkout</h1><div class='box'>{problem}<form method='post' action='/checkout'>"
        f"{hidden}{fields}</form></div>",
    )


def order_page(
    order_id: str,
    status: str,
    amount_minor: int,
    currency: str,
    message: str,
    retry_flow: str | None,
) -> str:
    total = format_minor(amount_minor, currency)
    headline = {
        "paid": "Thank you! Your payment went through.",
        "failed": "Your payment did not go through.",
        "pending": "Your payment is being processed.",
    }[status]
    retry = ""
    if status == "failed" and retry_flow is not None:
        card_fields = (
            "<label>Card number <input name='card_number'></label>"
            "<label>Expiry (MM/YY) <input name='exp' value='12/30'></label>"
            "<label>CVC <input name='cvc' value='123'></label>"
            if retry_flow == "direct"
            else ""
        )
        retry = (
            f"<h2>Try again</h2><form method='post' action='/orders/{escape(order_id)}/retry'>"
            f"{card_fields}<button type='submit'>Pay with another card</button></form>"
            "<p>Or choose another payment method at checkout.</p>"
        )
    refresh = f"/orders/{order_id}" if status == "pending" else None
    return page(
        f"Order {order_id}",
        f"<h1 class='{status}'>{escape(headline)}</h1><div class='box'>"
        f"<p>Order <code id='order-id'>{escape(order_id)}</code>: {escape(total)}</p>"
        f"<p>Status: <strong id='order-status' class='{status}'>{status}</strong></p>"
        f"<p id='customer-message'>{escape(message)}</p></div>{retry}",
        refresh,
    )


def error_page(title: str, message: str) -> str:
    return page(title, f"<h1 class='failed'>{escape(title)}</h1><p>{escape(message)}</p>")
