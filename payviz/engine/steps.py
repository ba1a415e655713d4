"""The handshake steps, in one table: which message belongs to which step of the seed.

Narration, the diagram's step banner and the exports all read this table, so a step's number
and title are written once. The numbering follows the design note: the direct flow has seven
steps, the redirect (hosted checkout) flow five.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._types import Direction, Mode, Party


@dataclass(frozen=True, slots=True)
class Step:
    """One numbered step of a flow, with a title and a short classroom narration."""

    mode: Mode
    number: int
    title: str
    narration: str


STEPS: dict[Mode, tuple[Step, ...]] = {
    "direct": (
        Step(
            "direct",
            1,
            "User checkout",
            "The customer presses Pay on the shop's own card form. The merchant records the "
            "order as pending and posts the order and the card to its payment gateway, with an "
            "idempotency key so that a retry can never charge twice.",
        ),
        Step(
            "direct",
            2,
            "Gateway encrypts and forwards",
            "The gateway checks the merchant's API key, then seals the card details in a JWE "
            "that only the processor's private key can open. The order details travel beside "
            "it in clear; the card never does.",
        ),
        Step(
            "direct",
            3,
            "Processor asks the bank",
            "The processor opens the JWE, runs its fraud rules and turns the payment into an "
            "ISO 8583 authorization request (MTI 0100) for the customer's bank.",
        ),
        Step(
            "direct",
            4,
            "Bank authorizes",
            "The issuing bank checks the card and the available funds and answers with an "
            "0110. Field 39 carries the verdict: 00 means approved, anything else a decline "
            "with its reason. An approval places a hold on the funds.",
        ),
        Step(
            "direct",
            5,
            "Processor captures and notifies",
            "On approval the processor captures the payment, turning the hold into a real "
            "debit, and tells the gateway in a signed notification. On a decline or a "
            "silent bank it reverses what is open and reports the failure instead.",
        ),
        Step(
            "direct",
            6,
            "Gateway forwards the notification",
            "The gateway verifies the processor's signature and relays the outcome to the "
            "merchant, signed again with the merchant's own secret. Notifications may repeat, "
            "so every receiver deduplicates them by their id.",
        ),
        Step(
            "direct",
            7,
            "Merchant updates the order",
            "The merchant verifies the notification, moves the order to paid or failed (never "
            "backwards) and shows the customer the result: a receipt and a confirmation "
            "email, or the reason and a chance to try another card.",
        ),
    ),
    "redirect": (
        Step(
            "redirect",
            1,
            "User checkout",
            "The customer presses Checkout. The merchant creates the order and a hosted "
            "checkout session at the processor, server to server, then answers the browser "
            "with a redirect. The merchant never asks for the card.",
        ),
        Step(
            "redirect",
            2,
            "User redirect",
            "The browser follows the redirect on its own and loads the processor's secure "
            "checkout page. The address bar now shows the processor, not the shop.",
        ),
        Step(
            "redirect",
            3,
            "Processor checkout",
            "The customer types the card into the processor's page. The processor validates "
            "it, runs its fraud rules and asks the bank for an authorization in ISO 8583, then "
            "captures on approval.",
        ),
        Step(
            "redirect",
            4,
            "Payment notification",
            "The processor sends the browser back to the shop's return address with a signed "
            "outcome, and tells the merchant's server directly in a signed notification. The "
            "customer might never come back, so the notification is what counts.",
        ),
        Step(
            "redirect",
            5,
            "Merchant update",
            "The merchant trusts nothing it cannot verify: it checks the signatures, confirms "
            "the status with the processor, moves the order forward and shows the customer a "
            "receipt, or the reason for a decline and a way to retry.",
        ),
    ),
}


def step_info(mode: Mode, number: int) -> Step:
    return STEPS[mode][number - 1]


@dataclass(frozen=True, slots=True)
class _Rule:
    mode: Mode
    src: Party
    dst: Party
    pattern: str  # "METHOD /path-regex" for HTTP, "iso:MTI-regex" for ISO 8583
    direction: Direction | None
    step: int
    status: int | None = None  # a response's status, when the rule is for that one only
    pending: bool | None = None  # whether the order is still pending, when that matters


def _r(mode: Mode, src: Party, dst: Party, pattern: str, step: int) -> _Rule:
    return _Rule(mode, src, dst, pattern, None, step)


def _resp(mode: Mode, src: Party, dst: Party, pattern: str, step: int) -> _Rule:
    return _Rule(mode, src, dst, pattern, "response", step)


# Responses travel dst -> src of their request; a rule names the request's (src, dst) and
# may give the response a later step than the request. First match wins.
_RULES: tuple[_Rule, ...] = (
    # direct: the seed's "Handshake", steps 1-7
    # The shop's answer to Pay: the result page once the order is paid or failed, but the
    # order page while it is pending (an asynchronous answer is still to come).
    _Rule("direct", "browser", "merchant", r"POST /checkout", "response", 1, 303, True),
    _resp("direct", "browser", "merchant", r"POST /checkout", 7),
    _r("direct", "browser", "merchant", r"(GET|POST) /(checkout|cart)?$", 1),
    _r("direct", "browser", "merchant", r"POST /checkout", 1),
    _r("direct", "merchant", "browser", r"EMAIL", 7),
    _r("direct", "browser", "merchant", r"\w+ /(orders|outbox)", 7),
    # Asynchronous notification: the gateway takes the payment (202) before forwarding it;
    # its outcome comes later, in a webhook.
    _Rule("direct", "merchant", "gateway", r"POST /v1/payments", "response", 2, 202),
    _resp("direct", "merchant", "gateway", r"POST /v1/payments", 6),
    _r("direct", "merchant", "gateway", r"POST /v1/payments", 1),
    _r("direct", "merchant", "gateway", r"GET /v1/payments", 7),
    _resp("direct", "gateway", "processor", r"POST /v1/authorizations", 5),
    _r("direct", "gateway", "processor", r"POST /v1/authorizations", 2),
    _resp("direct", "processor", "bank", r"iso:01", 4),
    _r("direct", "processor", "bank", r"iso:01", 3),
    _r("direct", "processor", "bank", r"iso:", 5),
    _r("direct", "processor", "gateway", r"POST /v1/notifications", 5),
    _r("direct", "gateway", "merchant", r"POST /webhooks", 6),
    # redirect: the seed's "Merchant Redirect to Payment Processor Website", steps 1-5
    _r("redirect", "browser", "merchant", r"(GET|POST) /(checkout|cart)?$", 1),
    _r("redirect", "browser", "merchant", r"POST /checkout", 1),
    _r("redirect", "merchant", "processor", r"POST /v1/checkout/sessions$", 1),
    _r("redirect", "browser", "processor", r"GET /pay/", 2),
    _resp("redirect", "browser", "processor", r"POST /pay/", 4),
    _r("redirect", "browser", "processor", r"POST /pay/", 3),
    _resp("redirect", "processor", "bank", r"iso:01", 3),
    _r("redirect", "processor", "bank", r"iso:", 3),
    _r("redirect", "processor", "merchant", r"POST /webhooks", 4),
    _r("redirect", "browser", "merchant", r"\w+ /(return|orders|outbox)", 5),
    _r("redirect", "merchant", "processor", r"GET /v1/checkout/sessions/", 5),
    _r("redirect", "merchant", "browser", r"EMAIL", 5),
)

# The rules by (mode, requester, responder), in table order: a message is tried against
# its own parties' few rules, not all of them. An operation with an id in its path (an
# order's page) is new to every checkout, so classifying it is not rare.
_BY_PARTIES: dict[tuple[str, str, str], list[tuple[_Rule, re.Pattern[str]]]] = {}
for _rule in _RULES:
    _BY_PARTIES.setdefault((_rule.mode, _rule.src, _rule.dst), []).append(
        (_rule, re.compile(_rule.pattern))
    )
del _rule


def classify(
    mode: Mode,
    requester: Party,
    responder: Party,
    operation: str,
    direction: Direction,
    status: int | None = None,
    pending: bool = False,
) -> Step:
    """The step of one message.

    `requester`/`responder` are the parties of the exchange (for a response, the request's
    src and dst); `operation` is "METHOD /path", "iso:MTI" of the request, or "EMAIL";
    `status` is a response's HTTP status (a few rules are for one status only); `pending`
    whether the checkout's order was still pending when the message was sent (one rule
    tells the shop's answer to Pay apart by it). Messages the table does not name belong
    to the flow's first step.
    """
    for rule, regex in _BY_PARTIES.get((mode, requester, responder), ()):
        if rule.direction is not None and rule.direction != direction:
            continue
        if rule.status is not None and rule.status != status:
            continue
        if rule.pending is not None and rule.pending != pending:
            continue
        if regex.match(operation):
            return step_info(mode, rule.step)
    return step_info(mode, 1)
