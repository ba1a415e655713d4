"""One door for every export: read a trace, a session or a HAR; write any text format.

`payviz export` and the app's File menu both come through here, so they accept the same
inputs and write the same bytes. Images (SVG, PNG) are drawn by the app's renderer and are
not handled here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, Record

from .export_text import to_mermaid, to_plantuml
from .har import HarFormatError, from_har, to_har
from .session_file import open_session, session_lines
from .trace_io import TraceFormatError, describe_skipped

TextFormat = Literal["mermaid", "plantuml", "har", "jsonl"]
TEXT_FORMATS: Final[tuple[TextFormat, ...]] = ("mermaid", "plantuml", "har", "jsonl")
DIAGRAM_FORMATS: Final[tuple[TextFormat, ...]] = ("mermaid", "plantuml")
SUFFIXES: Final[dict[TextFormat, str]] = {
    "mermaid": ".mmd",
    "plantuml": ".puml",
    "har": ".har",
    "jsonl": ".jsonl",
}


class ExportInputError(ValueError):
    """The input cannot be read at all (not a trace, not a HAR, unknown schema, unreadable)."""


@dataclass(frozen=True, slots=True)
class ExportInput:
    """What was read from an input file.

    Attributes:
        records: messages and state changes, in order.
        scenarios: checkout -> scenario, from a saved session's header.
        problems: one line per kind of thing left out ("skipped 2 lines: ..."); empty when
            the whole file was read.
        source: "trace" or "har".
    """

    records: tuple[Record, ...]
    scenarios: dict[int, Scenario] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    source: Literal["trace", "har"] = "trace"

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.records if isinstance(r, Message)]


def looks_like_har(path: Path) -> bool:
    """A .har name, or a JSON document (not JSON Lines) that opens with a `log` object."""
    if path.suffix.lower() == ".har":
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{") and b'"log"' in head[:200]


def _read_har(path: Path, host_map: Mapping[str, str] | None) -> ExportInput:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExportInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExportInputError(f"{path.name} is not a HAR file (not valid JSON: {exc})") from None
    try:
        imported = from_har(data, host_map)
    except HarFormatError as exc:
        raise ExportInputError(f"{path.name}: {exc}") from None
    problems = []
    if imported.skipped:
        problems.append(describe_skipped(imported.skipped, "entry"))
    if imported.skipped_other:
        problems.append(describe_skipped(imported.skipped_other, "kept message"))
    return ExportInput(tuple(imported.records), {}, tuple(problems), "har")


def read_input(path: Path, host_map: Mapping[str, str] | None = None) -> ExportInput:
    """Read a trace, a saved session or a HAR (by its name or content).

    Raises ExportInputError when nothing can be read, ValueError for a host map that names
    an unknown party. `host_map` (host -> party) applies to a HAR only.
    """
    if looks_like_har(path):
        return _read_har(path, host_map)
    try:
        session = open_session(path)
    except TraceFormatError as exc:
        raise ExportInputError(str(exc)) from None
    problems = (describe_skipped(session.skipped),) if session.skipped else ()
    return ExportInput(session.records, session.scenarios, problems)


def render(
    fmt: TextFormat,
    records: Sequence[Record],
    scenarios: Mapping[int, Scenario] | None = None,
) -> str:
    """The export's text in one of `TEXT_FORMATS`."""
    messages = [r for r in records if isinstance(r, Message)]
    if fmt == "mermaid":
        return to_mermaid(messages)
    if fmt == "plantuml":
        return to_plantuml(messages)
    if fmt == "har":
        return json.dumps(to_har(records), indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(session_lines(records, scenarios))
    raise ValueError(f"unknown export format {fmt!r}")


__all__ = [
    "DIAGRAM_FORMATS",
    "SUFFIXES",
    "TEXT_FORMATS",
    "ExportInput",
    "ExportInputError",
    "TextFormat",
    "looks_like_har",
    "read_input",
    "render",
]
