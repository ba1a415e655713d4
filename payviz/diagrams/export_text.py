"""Sequence diagrams as text: Mermaid and PlantUML, one arrow per message.

Both read `sequence.build_sequence`, so an export shows the lifelines, labels and step notes
of the app's sequence view. Labels come from the trace (URLs, JSON hints, email subjects), so
every character either language gives a meaning to is escaped with codes the language
decodes only after parsing, so a label always renders as the text it was.

Arrows:

=========================  ===========  ================
message                    Mermaid      PlantUML
=========================  ===========  ================
request                    ``->>``      ``-[#colour]>``
response (incl. redirect)  ``-->>``     ``-[#colour]->``
error or decline           ``-x``       ``-[#colour]>x``
error or decline response  ``--x``      ``-[#colour]->x``
=========================  ===========  ================

Mermaid draws a response's failure dashed too (``--x``) so a request still never looks like
a response. PlantUML arrows carry the legend's colour, and notifications are dotted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from payviz.engine.trace import Message

from .sequence import Arrow, SequenceDiagram, build_sequence, participant_label
from .topology import PARTY_INFO

# Mermaid reads ';' and a newline as the end of a statement, '#' as a comment and ':' as
# the start of a label; '<', '>' and '%' are taken as HTML or directives by some renderers.
# Its own entity codes (#59; ...) are decoded only after parsing, so they are always safe.
_MERMAID: Final[dict[int, str]] = {ord(char): f"#{ord(char)};" for char in "#;:<>%&\"'`{}"} | {
    ord("\n"): " ",
    ord("\r"): " ",
}

# PlantUML reads creole markup (**bold**, //italic//, --strike--, __under__, ""mono"",
# ~~wave~~, [[link]], <tag>), '~' as an escape, '\n' as a line break and %name() as a
# preprocessor call. HTML entities survive all of them, except that &#92; trips a bug in
# older releases, hence <U+005C> for the backslash.
_PLANTUML_ALWAYS: Final[dict[str, str]] = {
    "&": "&#38;",
    "<": "&#60;",
    ">": "&#62;",
    "[": "&#91;",
    "]": "&#93;",
    '"': "&#34;",
    "~": "&#126;",
    "%": "&#37;",
    "\\": "<U+005C>",
    "\n": " ",
    "\r": " ",
}
_PLANTUML_DOUBLED: Final = frozenset("*/-_^=|")


def escape_mermaid(text: str) -> str:
    """Text safe inside a Mermaid message or note label."""
    return text.translate(_MERMAID)


def escape_plantuml(text: str) -> str:
    """Text safe inside a PlantUML message label or separator.

    Markup characters that only mean something when doubled (``//``, ``**``, ``--``) keep
    their first character readable and encode the rest.
    """
    out: list[str] = []
    previous = ""
    for char in text:
        if char in _PLANTUML_ALWAYS:
            out.append(_PLANTUML_ALWAYS[char])
        elif char in _PLANTUML_DOUBLED and char == previous:
            out.append(f"&#{ord(char)};")
        else:
            out.append(char)
        previous = char
    return "".join(out)


def _mermaid_arrow(arrow: Arrow) -> str:
    if arrow.kind == "error":
        return "--x" if arrow.response else "-x"
    return "-->>" if arrow.response else "->>"


def _note_span(diagram: SequenceDiagram) -> str:
    first, last = diagram.participants[0], diagram.participants[-1]
    return first if first == last else f"{first},{last}"


def to_mermaid(messages: Iterable[Message]) -> str:
    """A Mermaid `sequenceDiagram` of the messages, in trace order."""
    diagram = build_sequence(messages)
    lines = ["sequenceDiagram"]
    lines += [f"    participant {p} as {participant_label(p)}" for p in diagram.participants]
    notes = {boundary.index: boundary for boundary in diagram.boundaries}
    for arrow in diagram.arrows:
        boundary = notes.get(arrow.index)
        if boundary is not None:
            lines.append(f"    Note over {_note_span(diagram)}: {escape_mermaid(boundary.text)}")
        label = escape_mermaid(arrow.label)
        lines.append(f"    {arrow.src}{_mermaid_arrow(arrow)}{arrow.dst}: {label}")
    return "\n".join(lines) + "\n"


def _plantuml_arrow(arrow: Arrow) -> str:
    style = arrow.style.colour
    if arrow.kind == "notification" and not arrow.response:
        style += ",dotted"
    body = f"-[{style}]-" if arrow.response else f"-[{style}]"
    return body + (">x" if arrow.kind == "error" else ">")


def to_plantuml(messages: Iterable[Message]) -> str:
    """A PlantUML sequence diagram (`@startuml` ... `@enduml`) of the messages."""
    diagram = build_sequence(messages)
    lines = ["@startuml", "skinparam defaultFontSize 13", "skinparam maxMessageSize 320"]
    for party in diagram.participants:
        info = PARTY_INFO[party]
        lines.append(f'participant "{info.label}" as {party} {info.colour}')
    notes = {boundary.index: boundary for boundary in diagram.boundaries}
    for arrow in diagram.arrows:
        boundary = notes.get(arrow.index)
        if boundary is not None:
            lines.append(f"== {escape_plantuml(boundary.text)} ==")
        label = escape_plantuml(arrow.label)
        lines.append(f"{arrow.src} {_plantuml_arrow(arrow)} {arrow.dst} : {label}")
    lines.append("@enduml")
    return "\n".join(lines) + "\n"


__all__ = ["escape_mermaid", "escape_plantuml", "to_mermaid", "to_plantuml"]
