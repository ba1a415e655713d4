"""Test cards, the Luhn check and PAN masking (PCI: show at most BIN and last four)."""

from __future__ import annotations

import re
from typing import NamedTuple

from ._types import Decision


class TestCard(NamedTuple):
    """A card from the Stripe-style test table and how the issuing bank treats it.

    A named tuple: the window lists the test cards before its first paint, and a NamedTuple
    class is made without loading dataclasses.
    """

    number: str
    decision: Decision
    response_code: str
    label: str
    customer_message: str


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("4242424242424242", "approve", "00", "Visa, approved", "Your payment went through."),
    TestCard(
        "4000000000000002",
        "decline",
        "05",
        "generic decline",
        "Your bank declined the payment. Please try another card.",
    ),
    TestCard(
        "4000000000009995",
        "insufficient-funds",
        "51",
        "insufficient funds",
        "The card does not have enough funds for this purchase.",
    ),
    TestCard(
        "4000000000009987",
        "lost-card",
        "41",
        "lost card",
        "Your bank declined the payment. Please contact your bank or use another card.",
    ),
    TestCard(
        "4000000000009979",
        "stolen-card",
        "43",
        "stolen card",
        "Your bank declined the payment. Please contact your bank or use another card.",
    ),
    TestCard(
        "4000000000000069",
        "expired-card",
        "54",
        "expired card",
        "The card has expired. Please check the date or use another card.",
    ),
    TestCard(
        "4000000000000119",
        "processing-error",
        "96",
        "processing error",
        "Something went wrong while processing the card. Please try again.",
    ),
)

CARDS_BY_NUMBER: dict[str, TestCard] = {card.number: card for card in TEST_CARDS}
CARD_FOR_DECISION: dict[Decision, str] = {card.decision: card.number for card in TEST_CARDS}
CARD_FOR_DECISION["timeout"] = "4242424242424242"

# ISO 8583 field 39 codes payviz produces or explains.
RESPONSE_CODES: dict[str, str] = {
    "00": "approved",
    "05": "do not honor",
    "14": "invalid card number",
    "41": "lost card, pick up",
    "43": "stolen card, pick up",
    "51": "insufficient funds",
    "54": "expired card",
    "57": "transaction not permitted to cardholder",
    "59": "suspected fraud",
    "61": "exceeds amount limit",
    "68": "response received too late",
    "91": "issuer or switch inoperative",
    "94": "duplicate transmission",
    "96": "system malfunction",
}

CUSTOMER_MESSAGES: dict[str, str] = {
    card.response_code: card.customer_message for card in TEST_CARDS
}
CUSTOMER_MESSAGES.update(
    {
        "59": "The payment was stopped by fraud protection. Please use another card.",
        "61": "The amount is over the limit for this card. Please use another card.",
        "68": "Your bank did not answer in time. You have not been charged; please try again.",
        "91": "Your bank is not reachable right now. You have not been charged; please try again.",
    }
)


class CardError(ValueError):
    """A card number payviz refuses, with a message a person can act on."""


def luhn_valid(number: str) -> bool:
    """The mod-10 check every card number carries in its last digit."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    digits = [int(char) for char in reversed(number)]
    # Every second digit from the right is doubled, less 9 when that passes 9.
    total = sum(digits[::2]) + sum(_LUHN_DOUBLED[digit] for digit in digits[1::2])
    return total % 10 == 0


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def normalize_pan(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw)


def check_test_card(raw: str) -> TestCard:
    """Validate a card number the way payviz's checkout does, or raise CardError."""
    number = normalize_pan(raw)
    if not number.isdigit():
        raise CardError("card number must contain only digits")
    if not luhn_valid(number):
        raise CardError(f"card number {mask_pan(number)} fails the Luhn check (code 14)")
    card = CARDS_BY_NUMBER.get(number)
    if card is None:
        choices = ", ".join(c.number for c in TEST_CARDS)
        raise CardError(
            "payviz is a simulator and accepts only test cards; "
            f"{mask_pan(number)} is not one of them (use one of {choices})"
        )
    return card


def mask_pan(number: str) -> str:
    """BIN (first six) and last four, the rest hidden: 424242******4242."""
    digits = number if number.isdigit() else normalize_pan(number)
    if len(digits) < 12:
        return "*" * len(digits)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


# Digits in groups as people type them: "4242 4242 4242 4242", "4242-4242-...", and the
# same in a form post, where a browser sends the spaces as "+" (or "%20"). A card number
# stands on its own: digits glued to letters or "_" belong to an id ("pay_3f06...", hex),
# and masking those would change ids and break the signatures over the bodies they are in.
#
# The pattern starts with the digit itself and checks what precedes it with a lookbehind,
# rather than opening with the lookbehind: a pattern whose first item is a character class
# lets the regex engine skip ahead to the next digit in C, where a leading lookbehind makes
# it try the whole pattern at every position (four times slower on an HTML page).
_SEPARATOR = r"(?:[ +-]|%20)"
_PAN_RUN = re.compile(rf"\d(?<![\w*]\d)(?:{_SEPARATOR}?\d){{12,18}}(?![\w*])")
_PIECE = re.compile(r"%20|.", re.DOTALL)


# The test cards, masked: payviz's own pages list them, so they are most of what is masked.
_MASKED_TEST_CARDS = {card.number: mask_pan(card.number) for card in TEST_CARDS}


def _masked_number(run: str) -> str:
    """A run of 13-19 digits, masked if it is a card number."""
    known = _MASKED_TEST_CARDS.get(run)
    if known is not None:
        return known
    if not luhn_valid(run):
        return run
    return run[:6] + "*" * (len(run) - 10) + run[-4:]


def _mask(match: re.Match[str]) -> str:
    run = match.group(0)
    if run.isdigit():  # most runs: one number with no separators
        return _masked_number(run)
    pieces = _PIECE.findall(run)  # "%20" is one separator, not digits
    digits = "".join(piece for piece in pieces if piece.isdigit())
    if len(digits) < 13 or not luhn_valid(digits):
        return match.group(0)
    masked = iter(mask_pan(digits))
    return "".join(next(masked) if piece.isdigit() else piece for piece in pieces)


# Even skipping to the next digit, the pattern costs about 15 ns a character, and most
# texts have digits (ids, lengths, base64) but no 13 of them in a row. In ASCII text, a
# match is made of digits, "+", "-", " " and "%20" only, so it lies inside a run of 13 or
# more of those characters: one byte translation finds the runs, and the pattern runs on
# them alone (it sees the character before a run through its lookbehind, and the one after
# through the end position given to it), finding what it would find in the whole text.
# A run of digits alone, the common case, needs no pattern: it is a candidate, whole,
# when it is 13 to 19 digits long and no letter, "_" or "*" touches it.
_RUN_BYTES = b"0123456789+- %"
_RUN_SHAPE = bytes(ord("d") if byte in _RUN_BYTES else ord(".") for byte in range(256))
_SHORTEST_RUN = b"d" * 13
# What may not touch a card number, in ASCII text: the pattern's [\w*].
_GLUE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*")


def mask_text(text: str) -> str:
    """Mask every Luhn-valid 13-19 digit number in free text, keeping its length."""
    if not text.isascii():  # other scripts' digits are digits to the pattern, too
        return _PAN_RUN.sub(_mask, text)
    shape = text.encode("ascii").translate(_RUN_SHAPE)
    start = shape.find(_SHORTEST_RUN)
    if start < 0:
        return text
    pieces: list[str] = []
    done = 0
    while start >= 0:
        end = shape.find(b".", start)
        if end < 0:
            end = len(shape)
        run = text[start:end]
        if run.isdigit():
            if (
                end - start <= 19
                and (start == 0 or text[start - 1] not in _GLUE)
                and (end == len(text) or text[end] not in _GLUE)
            ):
                pieces.append(text[done:start])
                pieces.append(_MASKED_TEST_CARDS.get(run) or _masked_number(run))
                done = end
        else:
            for match in _PAN_RUN.finditer(text, start, end + 1):
                pieces.append(text[done : match.start()])
                pieces.append(_mask(match))
                done = match.end()
        start = shape.find(_SHORTEST_RUN, end)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


# A JSON string ("123") or a bare JSON number (123); either way it becomes the string "***".
_CVC_JSON = re.compile(
    r'("(?:cvc|cvv|cvc2|cvv2)"\s*:\s*)(?:"\d{3,4}"|\d{3,4}(?![\d.eE]))', re.IGNORECASE
)
_CVC_FORM = re.compile(r"((?:^|[&?])(?:cvc|cvv)=)(\d{3,4})(?=&|$)", re.IGNORECASE)
# The same two, for ASCII text lower-cased: with no case to ignore, each starts with
# letters the regex engine can search for ahead of any attempt ('"cv', "cv"), where the
# patterns above are tried at every position (a form's field took 4 us that way, 0.9 us
# this way). A form field's "&", "?" or start of text is checked at each match.
_CVC_JSON_LOWER = re.compile(r'("(?:cvc|cvv|cvc2|cvv2)"\s*:\s*)(?:"\d{3,4}"|\d{3,4}(?![\d.eE]))')
_CVC_FORM_LOWER = re.compile(r"(?:cvc|cvv)=(\d{3,4})(?=&|$)")


def _hides_cvc_json(match: re.Match[str]) -> str:
    return match.group(1) + '"***"'


def _hides_cvc_form(match: re.Match[str]) -> str:
    return match.group(1) + "***"


def _hide_codes(text: str, lowered: str) -> str:
    """`text` (ASCII, `lowered` its lower case) with every security code the two patterns
    above would find replaced as they replace it: the JSON keys' values first, then the
    form fields' (a text has one or two at most; none of either can overlap another)."""
    pieces: list[str] = []
    done = 0
    for match in _CVC_JSON_LOWER.finditer(lowered):
        pieces += (text[done : match.end(1)], '"***"')
        done = match.end()
    if pieces:
        text = "".join((*pieces, text[done:]))
        lowered = text.lower()
        pieces, done = [], 0
    for match in _CVC_FORM_LOWER.finditer(lowered):
        start = match.start()
        if start == 0 or lowered[start - 1] in "&?":
            pieces += (text[done : match.start(1)], "***")
            done = match.end()
    if pieces:
        text = "".join((*pieces, text[done:]))
    return text


def redact(text: str) -> str:
    """What may be persisted of a message body: PANs masked, card security codes removed."""
    text = mask_text(text)
    # Both security-code patterns need "cv" in some case: the lower-cased text is searched
    # for it in C.
    lowered = text.lower()
    if "cv" not in lowered:
        return text
    if text.isascii():  # lower-casing ASCII keeps every character where it was
        return _hide_codes(text, lowered)
    text = _CVC_JSON.sub(_hides_cvc_json, text)
    return _CVC_FORM.sub(_hides_cvc_form, text)
