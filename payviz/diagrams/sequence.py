"""A sequence diagram as data: lifelines, one arrow per message, a note at each step.

The Qt sequence view and the text exports (Mermaid, PlantUML) draw from the same
`SequenceDiagram`, so they agree on the order of the lifelines, the wording of every label
and the look of every arrow. An arrow's look is the diagram's token look
(`node_state.token_style`): the legend means the same thing in every view.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Literal

from payviz.engine._types import PARTIES, Party

from .node_state import TokenStyle, token_style
from .topology import PARTY_INFO

if TYPE_CHECKING:
    from payviz.engine.trace import Message

ArrowKind = Literal[
    "request", "response", "encrypted", "redirect", "notification", "iso8583", "email", "error"
]

# Labels stay readable on a projector: long URLs lose their query string (a signed return
# URL alone is 200 characters) and anything longer is cut with an ellipsis.
MAX_LABEL: Final[int] = 72
_NAMED_KINDS: Final[dict[str, ArrowKind]] = {
    "notification": "notification",
    "iso8583": "iso8583",
    "email": "email",
}
_QUERY: Final = re.compile(r"(https?://\S+?|/\S*?)\?\S*")


@dataclass(frozen=True, slots=True)
class Arrow:
    """One message drawn from one lifeline to another.

    Attributes:
        index: position among the diagram's arrows (0-based).
        seq: the message's `seq` in the trace, to follow the playhead.
        label: "step N: summary", shortened for display (see `MAX_LABEL`).
        kind: what the message is, in the legend's vocabulary.
        response: drawn as a response (outlined token, dashed arrow in the exports).
        style: the token look shared with the animated diagram and the legend.
    """

    index: int
    seq: int
    checkout: int
    src: Party
    dst: Party
    step: int
    label: str
    kind: ArrowKind
    response: bool
    failed: bool
    encrypted: bool
    style: TokenStyle


@dataclass(frozen=True, slots=True)
class StepBoundary:
    """Where a new handshake step begins: a note spanning every lifeline before `index`.

    Attributes:
        index: the first arrow of the step.
        checkout: the checkout the step belongs to (shown when a trace holds several).
    """

    index: int
    checkout: int
    mode: str
    step: int
    title: str
    show_checkout: bool = False

    @property
    def text(self) -> str:
        text = f"Step {self.step}: {self.title}"
        return (
            f"Checkout {self.checkout}, {text.lower()[0]}{text[1:]}" if self.show_checkout else text
        )


@dataclass(frozen=True, slots=True)
class SequenceDiagram:
    """Lifelines, arrows and step notes of a list of messages.

    Attributes:
        participants: the parties that appear, in the fixed order browser, merchant,
            gateway, processor, bank (money travels outward, the answer comes back).
        arrows: one per message, in trace order.
        boundaries: one per change of step (or of checkout), in order; a step met again
            later (a late notification) gets a note again where it reappears.
    """

    participants: tuple[Party, ...]
    arrows: tuple[Arrow, ...]
    boundaries: tuple[StepBoundary, ...]

    def index_at(self, seq: int) -> int | None:
        """The last arrow whose message has `seq` at or before the given one (the playhead)."""
        position = bisect_right(self.arrows, seq, key=lambda arrow: arrow.seq)
        return position - 1 if position else None

    def boundary_before(self, index: int) -> StepBoundary | None:
        """The step the arrow at `index` belongs to."""
        position = bisect_right(self.boundaries, index, key=lambda b: b.index)
        return self.boundaries[position - 1] if position else None


def participant_label(party: Party) -> str:
    """The name a lifeline shows ('Browser', 'Merchant', ...)."""
    return PARTY_INFO[party].label


def arrow_kind(message: Message) -> ArrowKind:
    """The message's kind in the legend's words, with the precedence `token_style` uses."""
    if message.kind in ("error", "decline") or message.failed:
        return "error"
    if message.kind == "redirect":
        return "redirect"
    if message.encrypted or message.kind == "encrypted":
        return "encrypted"
    named = _NAMED_KINDS.get(message.kind)
    if named is not None:
        return named
    return "request" if message.direction == "request" else "response"


def short_summary(summary: str, limit: int = MAX_LABEL) -> str:
    """The summary without query strings, cut to `limit` characters."""
    text = _QUERY.sub(lambda m: f"{m.group(1)}?…", " ".join(summary.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def arrow_label(message: Message) -> str:
    """'step N: summary', as every sequence drawing labels a message."""
    return f"step {message.step}: {short_summary(message.summary)}"


def build_sequence(messages: Iterable[Message]) -> SequenceDiagram:
    """The sequence diagram of messages given in trace order."""
    ordered = list(messages)
    several = len({m.checkout for m in ordered}) > 1
    arrows: list[Arrow] = []
    boundaries: list[StepBoundary] = []
    previous: tuple[int, int] | None = None
    for index, message in enumerate(ordered):
        if (message.checkout, message.step) != previous:
            previous = (message.checkout, message.step)
            boundaries.append(
                StepBoundary(
                    index, message.checkout, message.mode, message.step, message.title, several
                )
            )
        arrows.append(
            Arrow(
                index=index,
                seq=message.seq,
                checkout=message.checkout,
                src=message.src,
                dst=message.dst,
                step=message.step,
                label=arrow_label(message),
                kind=arrow_kind(message),
                response=message.direction == "response",
                failed=message.failed or message.kind in ("error", "decline"),
                encrypted=message.encrypted,
                style=token_style(message),
            )
        )
    seen = {m.src for m in ordered} | {m.dst for m in ordered}
    participants = tuple(party for party in PARTIES if party in seen)
    return SequenceDiagram(participants, tuple(arrows), tuple(boundaries))


def extend_sequence(diagram: SequenceDiagram, messages: Iterable[Message]) -> SequenceDiagram:
    """`diagram` with more messages after its last, as `build_sequence` of them all would be.

    A view fed batch by batch (a live run, a load test) pays for the new messages only, not
    for the whole trace again; only when a second checkout first appears are the earlier
    notes redone (they start naming their checkout).
    """
    new = list(messages)
    if not new:
        return diagram
    if not diagram.arrows:
        return build_sequence(new)
    offset = len(diagram.arrows)
    part = build_sequence(new)
    last = diagram.arrows[-1]
    # Not several yet means one checkout so far: the first arrow's.
    several = diagram.boundaries[0].show_checkout or any(
        m.checkout != diagram.arrows[0].checkout for m in new
    )
    added = [replace(b, index=b.index + offset, show_checkout=several) for b in part.boundaries]
    if (
        added
        and added[0].index == offset
        and (added[0].checkout, added[0].step)
        == (
            last.checkout,
            last.step,
        )
    ):
        added.pop(0)  # the step goes on across the batches: no new note
    boundaries = diagram.boundaries
    if several and boundaries and not boundaries[0].show_checkout:
        boundaries = tuple(replace(b, show_checkout=True) for b in boundaries)
    seen = set(diagram.participants) | set(part.participants)
    return SequenceDiagram(
        tuple(party for party in PARTIES if party in seen),
        diagram.arrows + tuple(replace(a, index=a.index + offset) for a in part.arrows),
        boundaries + tuple(added),
    )


__all__ = [
    "MAX_LABEL",
    "Arrow",
    "ArrowKind",
    "SequenceDiagram",
    "StepBoundary",
    "arrow_kind",
    "arrow_label",
    "build_sequence",
    "extend_sequence",
    "participant_label",
    "short_summary",
]
