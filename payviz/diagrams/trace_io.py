"""Loading a trace file robustly: keep every good record, say which lines were not.

`payviz.engine.trace.read_trace` is strict: the first bad line stops it. A trace copied
from a crashed run is cut mid-line, and a hand-edited one may have a broken line in the
middle; the viewer and the exports still want everything that is readable. `load_trace`
keeps each complete record, lists the lines it left out with the reason, and refuses only
a file that is not a payviz trace at all or whose schema this payviz does not know.

Accepted input: the file `Trace` writes (a header line, then records), a saved session
(the same with `scenarios` in its header, see `session_file`), and the output of
`payviz run --format json` (records and a summary line, no header).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, get_args

import orjson

from payviz.engine._types import PARTIES, Direction, Protocol
from payviz.engine.trace import SCHEMA_VERSION, Message, Record, StateChange, record_from_json

# Lines of a known kind that carry no record: `payviz run --format json` ends with one.
_IGNORED_TYPES: Final = frozenset({"summary"})
_DIRECTIONS: Final = frozenset(get_args(Direction))
_PROTOCOLS: Final = frozenset(get_args(Protocol))
_PARTY_NAMES: Final = frozenset(PARTIES)


class TraceFormatError(ValueError):
    """The file cannot be read as a payviz trace: not a trace, or an unknown schema."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What `load_trace` could read.

    Attributes:
        records: every complete, valid record, in file order.
        header: the header line as written (None for a headerless trace).
        scenarios: the raw scenario entries of a saved session's header (empty otherwise).
        skipped: (line number, reason) for each line left out, 1-based like an editor's.
    """

    records: tuple[Record, ...]
    header: dict[str, Any] | None = None
    scenarios: tuple[dict[str, Any], ...] = ()
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.records if isinstance(r, Message)]

    @property
    def complete(self) -> bool:
        return not self.skipped


def _check_header(data: dict[str, Any]) -> None:
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        raise TraceFormatError(
            f"unsupported trace schema {schema!r} (this payviz reads schema {SCHEMA_VERSION})"
        )


# Each field of a Message and the JSON types it may hold (a bool is not a number here).
_NUMBER: Final = (int, float)
_TEXT_OR_NULL: Final = (str, type(None))
_MESSAGE_TYPES: Final[tuple[tuple[str, tuple[type, ...]], ...]] = (
    ("seq", (int,)),
    ("ts", _NUMBER),
    ("checkout", (int,)),
    ("mode", (str,)),
    ("src", (str,)),
    ("dst", (str,)),
    ("step", (int,)),
    ("title", (str,)),
    ("direction", (str,)),
    ("protocol", (str,)),
    ("exchange", (int,)),
    ("summary", (str,)),
    ("kind", (str,)),
    ("encrypted", (bool,)),
    ("method", _TEXT_OR_NULL),
    ("url", _TEXT_OR_NULL),
    ("status", (int, type(None))),
    ("body", (str,)),
    ("mti", _TEXT_OR_NULL),
    ("raw", _TEXT_OR_NULL),
    ("error", _TEXT_OR_NULL),
)
_OPTIONAL_TEXT: Final = frozenset({str, type(None)})
_ONLY_TEXT: Final = frozenset({str})
_TIME: Final = frozenset({int, float})


def _texts(value: Any) -> bool:
    """Whether `value` is an object of text (keys are text in any JSON object)."""
    return type(value) is dict and set(map(type, value.values())) <= _ONLY_TEXT


def _wrong_type(value: Any, kinds: tuple[type, ...]) -> bool:
    return type(value) not in kinds


def check_message(record: Message) -> str | None:
    """Why a decoded message cannot be shown, or None. Types are not checked by the
    dataclass, and a field of the wrong type, party or direction would only fail later,
    inside a view or an export. (One test of every field first, as good lines are the
    rule and this runs for each; the reason is worked out for a line that fails it.)"""
    r = record
    if (
        type(r.seq) is int
        and type(r.checkout) is int
        and type(r.step) is int
        and type(r.exchange) is int
        and type(r.ts) in _TIME
        and math.isfinite(r.ts)
        and type(r.src) is str
        and type(r.dst) is str
        and type(r.direction) is str
        and type(r.protocol) is str
        and r.src in _PARTY_NAMES
        and r.dst in _PARTY_NAMES
        and r.direction in _DIRECTIONS
        and r.protocol in _PROTOCOLS
        and type(r.mode) is str
        and type(r.title) is str
        and type(r.summary) is str
        and type(r.kind) is str
        and type(r.body) is str
        and type(r.encrypted) is bool
        and type(r.method) in _OPTIONAL_TEXT
        and type(r.url) in _OPTIONAL_TEXT
        and type(r.mti) in _OPTIONAL_TEXT
        and type(r.raw) in _OPTIONAL_TEXT
        and type(r.error) in _OPTIONAL_TEXT
        and (r.status is None or type(r.status) is int)
        and _texts(r.headers)
        and _texts(r.fields)
    ):
        return None
    return _message_problem(r)


def _message_problem(record: Message) -> str:
    for name, kinds in _MESSAGE_TYPES:
        if _wrong_type(getattr(record, name), kinds):
            wanted = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            return f"{name} must be {wanted.replace('int or float', 'a number')}"
    if not math.isfinite(record.ts):
        return f"ts must be a finite number, not {record.ts}"
    if record.src not in _PARTY_NAMES or record.dst not in _PARTY_NAMES:
        return f"unknown party in {record.src!r} -> {record.dst!r}"
    if record.direction not in _DIRECTIONS:
        return f"unknown direction {record.direction!r}"
    if record.protocol not in _PROTOCOLS:
        return f"unknown protocol {record.protocol!r}"
    return "headers and fields must be objects of text"


def check_state(record: StateChange) -> str | None:
    """Why a decoded state change cannot be shown, or None (see `check_message`)."""
    if type(record.seq) is not int or type(record.checkout) is not int:
        return "bad state change: seq and checkout must be integers"
    if type(record.ts) not in _TIME or not math.isfinite(record.ts):
        return "bad state change: ts must be a finite number"
    if type(record.party) is not str or record.party not in _PARTY_NAMES:
        return "bad state change: party must be a known party"
    if type(record.key) is not str or type(record.note) is not str:
        return "bad state change: key and note must be text"
    return None


def _decode(data: dict[str, Any]) -> Record | str:
    """The record of one line, or why it is not one."""
    try:
        record = record_from_json(data)
    except ValueError as exc:
        return str(exc)
    except TypeError as exc:
        # dataclass complaints read "Message.__init__() missing 1 required ... 'seq'"
        return f"bad record: {str(exc).split('() ', 1)[-1]}"
    if isinstance(record, Message):
        return check_message(record) or record
    return check_state(record) or record


def _parse_line(raw: bytes, last: bool) -> dict[str, Any] | str:
    try:
        data = orjson.loads(raw)  # a few times faster than json on the lines payviz writes
    except orjson.JSONDecodeError:
        return _parse_line_slowly(raw, last)
    return data if isinstance(data, dict) else "not a JSON object"


def _parse_line_slowly(raw: bytes, last: bool) -> dict[str, Any] | str:
    """What orjson refuses, through json: what it reads besides (NaN, integers past 64
    bits, lone surrogates), and its words for what is wrong."""
    truncated = last and not raw.endswith(b"\n")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as exc:
        if truncated:
            return "truncated (the file ends in the middle of this line)"
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    except (ValueError, RecursionError) as exc:  # absurd numbers or nesting
        return f"not valid JSON ({type(exc).__name__})"
    if not isinstance(data, dict):
        return "not a JSON object"
    return data


def _line_record(raw: bytes, last: bool) -> Record | dict[str, Any] | str | None:
    """What one line that is not blank holds: a record, the header's object, why it is
    neither, or None for a line that is no record by design (a run's summary)."""
    data = _parse_line(raw, last)
    if isinstance(data, str):
        return data
    kind = data.get("type")
    if kind == "header":
        return data
    if isinstance(kind, str) and kind in _IGNORED_TYPES:
        return None
    return _decode(data)


def decode_lines(lines: Iterable[bytes]) -> list[Record]:
    """The records among some lines of a trace (each with its line ending), as
    `parse_lines` keeps them; a header or any line it would skip is passed over."""
    records: list[Record] = []
    for raw in lines:
        found = _line_record(raw, last=False) if raw.strip() else None
        if found is not None and not isinstance(found, dict | str):
            records.append(found)
    return records


def parse_lines(lines: Iterable[bytes], source: str = "trace") -> LoadResult:
    """Read trace lines (as bytes, each with its line ending); see `load_trace`."""
    records: list[Record] = []
    skipped: list[tuple[int, str]] = []
    header: dict[str, Any] | None = None
    scenarios: list[dict[str, Any]] = []
    seen_content = False
    pending = iter(lines)
    raw = next(pending, None)
    number = 0
    while raw is not None:
        following = next(pending, None)
        number += 1
        if raw.strip():
            found = _line_record(raw, following is None)
            first = not seen_content
            seen_content = True
            if isinstance(found, dict):
                if not first:
                    skipped.append((number, "a second header line"))
                else:
                    _check_header(found)
                    header = found
                    scenarios = _scenarios(found, number, skipped)
            elif isinstance(found, str):
                if first:
                    raise TraceFormatError(
                        f"{source} is not a payviz trace (line {number}: {found})"
                    )
                skipped.append((number, found))
            elif found is not None:
                records.append(found)
        raw = following
    if not seen_content:
        raise TraceFormatError(f"{source} is empty, not a payviz trace")
    return LoadResult(tuple(records), header, tuple(scenarios), skipped)


def _scenarios(
    header: dict[str, Any], number: int, skipped: list[tuple[int, str]]
) -> list[dict[str, Any]]:
    entries = header.get("scenarios", [])
    if not isinstance(entries, list):
        skipped.append((number, "the header's scenarios are not a list"))
        return []
    good = [entry for entry in entries if isinstance(entry, dict)]
    if len(good) != len(entries):
        skipped.append((number, f"{len(entries) - len(good)} header scenarios are not objects"))
    return good


def load_trace(path: Path) -> LoadResult:
    """Load a trace file, keeping every complete record.

    Raises TraceFormatError for a file that cannot be opened, is empty, does not start with
    a payviz header or record, or declares a schema other than `SCHEMA_VERSION`. Any other
    bad line (cut off, corrupt JSON, an unknown record type, a record with missing fields)
    is left out and listed in `skipped`.
    """
    try:
        with path.open("rb") as handle:
            return parse_lines(handle, path.name)
    except OSError as exc:
        raise TraceFormatError(f"cannot read {path}: {exc.strerror or exc}") from None


def describe_skipped(skipped: list[tuple[int, str]], unit: str = "line", limit: int = 3) -> str:
    """One line for stderr: 'skipped 2 lines: line 7 (not valid JSON ...), line 9 (...)'."""
    count = len(skipped)
    parts = [f"{unit} {where} ({why})" for where, why in skipped[:limit]]
    if count > limit:
        parts.append(f"and {count - limit} more")
    plural = unit if count == 1 else f"{unit}s"
    return f"skipped {count} {plural}: " + ", ".join(parts)


__all__ = [
    "LoadResult",
    "TraceFormatError",
    "check_message",
    "check_state",
    "decode_lines",
    "describe_skipped",
    "load_trace",
    "parse_lines",
]
