"""What the diagram shows at a playhead position: node captions and the look of a token.

Pure functions of the trace (no Qt), so the diagram, the legend, the sequence view and the
exports derive the same text and the same visual language from the same records.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from payviz.engine._types import PARTIES, Party

from .topology import ERROR_COLOUR, OKABE_ITO, Line

if TYPE_CHECKING:
    # Read when there is a trace to show: the idle diagram is drawn without them.
    from payviz.engine.trace import Message, StateChange

Tone = Literal["idle", "neutral", "good", "bad"]
Shape = Literal["filled", "outlined"]
Glyph = Literal["arrow", "lock", "bell", "cross", "envelope"]


# Named tuples, not dataclasses: the window reads them before its first paint, and a
# NamedTuple class takes a tenth of the time a frozen dataclass takes to make.
class NodeState(NamedTuple):
    """A party's caption at one playhead position.

    Attributes:
        lines: a few short lines of plain text (a card has room for four), most
            important first.
        tone: how the last line reads: "idle" (nothing yet, muted), "neutral", "good"
            (drawn with a check mark) or "bad" (error colour and a cross).
    """

    party: Party
    lines: tuple[str, ...]
    tone: Tone = "neutral"

    @property
    def caption(self) -> str:
        return "\n".join(self.lines)


class TokenStyle(NamedTuple):
    """The look of a message token, shared by the diagram, the legend and the sequence view.

    Attributes:
        shape: "filled" for requests, "outlined" for responses.
        colour: an Okabe-Ito colour as '#RRGGBB'; errors and declines use `ERROR_COLOUR`.
        glyph: what the token carries, so meaning never rests on colour alone.
        line: the stroke of the token's outline and of its highlighted link.
        label: the legend's wording for this look.
    """

    shape: Shape
    colour: str
    glyph: Glyph
    line: Line
    label: str

    @property
    def filled(self) -> bool:
        return self.shape == "filled"


_PLAIN = OKABE_ITO["blue"]

# One entry per kind of message, in the legend's order. Responses reuse the request's look
# but outlined (see `token_style`).
_BY_KIND: Final[dict[str, TokenStyle]] = {
    "request": TokenStyle("filled", _PLAIN, "arrow", "solid", "Request"),
    "response": TokenStyle("outlined", _PLAIN, "arrow", "solid", "Response"),
    "encrypted": TokenStyle(
        "filled", OKABE_ITO["bluish_green"], "lock", "solid", "Encrypted (JWE)"
    ),
    "iso8583": TokenStyle("filled", OKABE_ITO["orange"], "arrow", "solid", "ISO 8583 to the bank"),
    "redirect": TokenStyle(
        "outlined", OKABE_ITO["sky_blue"], "arrow", "dashed", "Redirect via the browser"
    ),
    "notification": TokenStyle(
        "filled", OKABE_ITO["reddish_purple"], "bell", "dotted", "Notification (async)"
    ),
    "email": TokenStyle(
        "filled", OKABE_ITO["yellow"], "envelope", "solid", "Email to the customer"
    ),
    "error": TokenStyle("outlined", ERROR_COLOUR, "cross", "solid", "Error or decline"),
}


def token_style(message: Message) -> TokenStyle:
    """The look of one message's token: shape by direction, colour and glyph by kind."""
    if message.kind in ("error", "decline") or message.failed:
        base = _BY_KIND["error"]
    elif message.kind == "redirect":
        base = _BY_KIND["redirect"]
    elif message.encrypted or message.kind == "encrypted":
        base = _BY_KIND["encrypted"]
    else:
        base = _BY_KIND.get(message.kind, _BY_KIND["request"])
    shape: Shape = "filled" if message.direction == "request" else "outlined"
    if shape == base.shape:
        return base
    label = _BY_KIND["response"].label if base.label == "Request" else base.label
    return TokenStyle(shape, base.colour, base.glyph, base.line, label)


def legend_styles() -> tuple[TokenStyle, ...]:
    """Every token look, in the order the legend lists them."""
    return tuple(_BY_KIND.values())


def token_text(message: Message) -> str:
    """The few characters a token shows: method, status code, ISO 8583 MTI or 'email'."""
    if message.protocol == "email":
        return "email"
    if message.mti:
        return message.mti
    if message.direction == "request":
        return message.method or "send"
    if message.status is not None:
        return str(message.status)
    return "no reply" if message.error else "reply"


# -- node captions ------------------------------------------------------------------------

_WANTED: Final[dict[Party, str]] = {
    "merchant": "order",
    "gateway": "last_action",
    "processor": "last_action",
    "bank": "account",
}


def watched_states() -> Mapping[Party, str]:
    """The state key each server's caption follows (the browser's follows its messages)."""
    return _WANTED


def _money(amount: Any, code: Any) -> str:
    from payviz.engine.money import AmountError, format_minor

    try:
        return format_minor(int(amount), str(code))
    except (AmountError, TypeError, ValueError, OverflowError):  # 1e400 reads as infinity
        return f"{amount} {code}"


def _merchant(value: Any) -> NodeState:
    if not isinstance(value, Mapping):
        return NodeState("merchant", (f"order: {value}",))
    head = f"order {value.get('id', '?')}"
    status = str(value.get("status", "pending"))
    reason = value.get("reason")
    if value.get("amount_minor") is not None and not (status == "failed" and reason):
        status += f" · {_money(value['amount_minor'], value.get('currency', ''))}"
    elif reason:
        status += f": {reason}"
    tone: Tone = "good" if status.startswith("paid") else "neutral"
    return NodeState("merchant", (head, status), "bad" if status.startswith("failed") else tone)


def _bank(value: Any) -> NodeState:
    if not isinstance(value, Mapping):
        return NodeState("bank", (str(value),))
    code = value.get("currency", "")
    held = value.get("held_minor") or 0
    answer = value.get("answer")  # the last answer, in traces that have it
    lines = [str(answer)] if answer else []
    lines.append(f"balance {_money(value.get('balance_minor', 0), code)}")
    if held:
        lines.append(f"on hold {_money(held, code)}")
    elif not answer:
        lines.append("no holds")
    return NodeState("bank", tuple(lines))


# A masked card number (BIN, stars, last four) as a card shows it to its holder: the
# caption is read from across a room and has a card's width, not the inspector's.
_MASKED_PAN = re.compile(r"\b\d{6}\*{2,9}(\d{4})\b")


def _action(party: Party, value: Any) -> NodeState:
    """The last thing a gateway or processor did, in its own words."""
    return NodeState(party, (_MASKED_PAN.sub(r"•••• \1", str(value)),))


def _describe(party: Party, value: Any) -> NodeState:
    if party == "merchant":
        return _merchant(value)
    if party == "bank":
        return _bank(value)
    return _action(party, value)


_IDLE: Final[dict[Party, str]] = {
    "browser": "ready to pay",
    "merchant": "no order yet",
    "gateway": "idle",
    "processor": "idle",
    "bank": "no activity yet",
}


def idle_states() -> dict[Party, NodeState]:
    """Every party's caption before anything happened."""
    return {party: NodeState(party, (_IDLE[party],), "idle") for party in PARTIES}


def node_states(records: Sequence[Message | StateChange], upto_seq: int) -> dict[Party, NodeState]:
    """Each party's caption once the records with `seq <= upto_seq` have happened.

    `records` is the trace in order of `seq` (as `Trace.records` keeps it). The servers'
    captions come from their StateChanges: the latest value of each watched key wins; the
    scan starts at the playhead and walks back only until every party has its value, so
    scrubbing a long trace stays cheap. The browser's is what the customer has in front of
    them (see `customer_view`).
    """
    from payviz.engine.trace import StateChange

    from .customer_view import customer_view

    states = idle_states()
    end = bisect_right(records, upto_seq, key=lambda record: record.seq)
    states["browser"] = customer_view(records, end)
    missing = dict(_WANTED)
    for index in range(end - 1, -1, -1):
        if not missing:
            break
        record = records[index]
        if not isinstance(record, StateChange) or missing.get(record.party) != record.key:
            continue
        states[record.party] = _describe(record.party, record.value)
        del missing[record.party]
    return states


__all__ = [
    "NodeState",
    "TokenStyle",
    "idle_states",
    "legend_styles",
    "node_states",
    "token_style",
    "token_text",
    "watched_states",
]
