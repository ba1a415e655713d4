"""What the customer has in front of them at a playhead position: the browser's caption.

The browser keeps no state of its own in the trace; what it shows is in the messages. The
caption is the last page the browser got in the checkout at the playhead (its headline,
and what the shop tells the customer on it), the email it got, or what it is waiting for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from .node_state import NodeState, Tone

if TYPE_CHECKING:
    from payviz.engine.trace import Message, StateChange

# How far back from the playhead the caption looks for the browser's last message: a
# checkout has about thirty records, and a load run interleaves twenty checkouts at a time.
LOOKBACK: Final = 800
IDLE: Final = NodeState("browser", ("ready to pay",), "idle")
_WAITING_FOR: Final[dict[str, str]] = {
    "merchant": "the shop",
    "gateway": "the gateway",
    "processor": "the processor",
    "bank": "the bank",
}
# A page's headline and its class (an order page's "paid", "failed" or "pending"); the
# problem a form page reports; what the shop tells the customer on an order page.
_HEADLINE = re.compile(r"<h1(?:\s+class=['\"]([\w-]+)['\"])?\s*>(.*?)</h1>", re.I | re.S)
_PROBLEM = re.compile(r"<p\s+class=['\"]failed['\"]\s*>(.*?)</p>", re.I | re.S)
_MESSAGE = re.compile(r"<p\s+id=['\"]customer-message['\"]\s*>(.*?)</p>", re.I | re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TONES: Final[dict[str, Tone]] = {"paid": "good", "failed": "bad"}
# An order page's verdict in the card's few words (its headline is a sentence).
_OUTCOMES: Final[dict[str, str]] = {
    "paid": "payment went through",
    "pending": "payment in progress",
    "failed": "payment did not go through",
}


def customer_view(records: Sequence[Message | StateChange], end: int) -> NodeState:
    """The browser's caption once `records[:end]` have happened (in order of seq)."""
    from payviz.engine.trace import Message

    if end <= 0:
        return IDLE
    checkout = records[end - 1].checkout
    for index in range(end - 1, max(end - 1 - LOOKBACK, -1), -1):
        record = records[index]
        if not isinstance(record, Message) or record.checkout != checkout:
            continue
        if record.src == "browser" and record.direction == "request":
            return NodeState(
                "browser", (f"waiting for {_WAITING_FOR.get(record.dst, 'an answer')}",)
            )
        if record.dst == "browser":
            return _shown(record)
    return IDLE


def _shown(message: Message) -> NodeState:
    """What a message to the browser puts in front of the customer."""
    if message.protocol == "email":
        return NodeState("browser", (message.summary,))
    if message.status is None:
        return NodeState("browser", ("no answer", message.error or "the page did not load"), "bad")
    if 300 <= message.status < 400:
        return NodeState("browser", (f"sent on to {_destination(message)}",))
    body = message.body if isinstance(message.body, str) else ""  # a file may hold anything
    headline = _HEADLINE.search(body)
    if headline is None:
        title = _TITLE.search(body)
        text = _text(title.group(1)) if title else ""
        tone: Tone = "bad" if message.status >= 400 else "neutral"
        return NodeState("browser", (text or f"a page ({message.status})",), tone)
    tone = _TONES.get(headline.group(1) or "", "bad" if message.status >= 400 else "neutral")
    # A card has room for three short lines: the page's headline, or, on a page that says
    # why a payment failed, that reason.
    problem = _PROBLEM.search(body)
    said = _MESSAGE.search(body) if tone == "bad" else None
    reason = problem or said
    if reason is not None and _text(reason.group(1)):
        return NodeState("browser", (_sentence(_text(reason.group(1)), first=True),), "bad")
    outcome = _OUTCOMES.get(headline.group(1) or "")
    if outcome is not None:
        return NodeState("browser", (outcome,), tone)
    return NodeState("browser", (_sentence(_text(headline.group(2)), first=False),), tone)


def _destination(message: Message) -> str:
    """Where a redirect sends the browser, by party: the shop for a path of its own."""
    host = urlsplit(message.headers.get("location", "")).hostname or ""
    party = host.split(".", 1)[0]
    return _WAITING_FOR.get(party if host else message.src, "another page")


def _sentence(text: str, first: bool) -> str:
    """One sentence of a text: a headline's last ("Thank you! Your payment went through."
    says the last), a reason's first (the second tells what to do next)."""
    sentences = [part for part in _SENTENCE_END.split(text) if part]
    if not sentences:
        return text
    return sentences[0] if first else sentences[-1]


def _text(fragment: str) -> str:
    """An HTML fragment as the customer reads it: tags dropped, entities and spaces folded."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


__all__ = ["IDLE", "LOOKBACK", "customer_view"]
