"""The trace: every message on every link, and every change of an actor's state, in order.

It is the public record of a session: written as JSON Lines (flushed per record, see
docs/trace-format.md), replayed by the UI and exported by the CLI.
"""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from io import FileIO
from pathlib import Path
from typing import Any, Literal

import orjson

from ._types import Direction, Party, Protocol

SCHEMA_VERSION = 1


# Records keep their fields in an instance dict, not in slots: that dict, in field order,
# is what orjson writes as the record's line (see `_record_maker`), so a record and its
# line are made with one store a field rather than a second dict of every field.
@dataclass(frozen=True)
class Message:
    """One request or response on one link, as seen on the wire (card numbers masked)."""

    seq: int
    ts: float
    checkout: int
    mode: str
    src: Party
    dst: Party
    step: int
    title: str
    direction: Direction
    protocol: Protocol
    exchange: int
    summary: str
    kind: str
    encrypted: bool = False
    method: str | None = None
    url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    mti: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    raw: str | None = None
    error: str | None = None

    type: Literal["message"] = "message"

    def to_json(self) -> dict[str, Any]:
        # One level deep is all a Message has (str -> str dicts); asdict's recursive deep
        # copy took two thirds of the time of writing each record to the trace file.
        data = {name: getattr(self, name) for name in _MESSAGE_FIELDS}
        data["headers"] = dict(self.headers)
        data["fields"] = dict(self.fields)
        return data

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 400)


@dataclass(frozen=True)
class StateChange:
    """An actor's visible state after it handled a message: order status, balance, ..."""

    seq: int
    ts: float
    checkout: int
    party: Party
    key: str
    value: Any
    note: str = ""

    type: Literal["state"] = "state"

    def to_json(self) -> dict[str, Any]:
        # What `asdict` gives (containers in `value` copied), without its generic recursion
        # and deep copies of every leaf: it took a third of the time of recording a state.
        data = {name: getattr(self, name) for name in _STATE_FIELDS}
        data["value"] = _copied(self.value)
        return data


def _copied(value: Any) -> Any:
    """`value` as `asdict` gives it: plain dicts, lists and tuples copied all the way down,
    scalars as they are, anything else through `asdict`'s own path."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is dict:
        return {_copied(k): _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    if kind is tuple:
        return tuple(_copied(v) for v in value)
    return asdict(_Boxed(value))["value"]


@dataclass(frozen=True, slots=True)
class _Boxed:
    value: Any


_MESSAGE_FIELDS = tuple(f.name for f in fields(Message))
_STATE_FIELDS = tuple(f.name for f in fields(StateChange))
Record = Message | StateChange
Listener = Callable[[Record], None]
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def encode_line(item: Record | dict[str, Any]) -> bytes:
    """One line of a trace file: a record (or a header) as compact JSON in UTF-8, ending in
    a newline.

    orjson writes a record straight from its dataclass, ten times faster than `json.dumps`
    of its `to_json()` (a third of what recording a message cost); a value orjson refuses
    (an integer past 64 bits, a set in a state's value) goes through `json` instead.
    """
    try:
        return orjson.dumps(item, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        data = item if isinstance(item, dict) else item.to_json()
        return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


def _record_maker(cls: type[Any], lines: bool = True) -> Callable[..., Any]:
    """A constructor for `cls` that returns the record and its line of the trace file
    (with `lines` false, None in place of the line: for a trace kept in memory only).

    It takes every field but `type` positionally, in order, with no defaults. A frozen
    dataclass's `__init__` stores each field through `object.__setattr__` by name, which
    took more than the rest of building a Message; here an instance of a plain class gets
    the fields as any `__init__` sets attributes, and is then made the record by assigning
    its class (Python allows it between classes of the same layout), frozen from then on
    like any other. Its attributes, set in field order, are the dict orjson writes as the
    line, the same as `encode_line` writes for the record: building a separate dict of
    every field for orjson took as long as building the record, and orjson reads a dict
    three times faster than a dataclass. A value orjson refuses (a key that is not a
    string, an integer past 64 bits) is left to `encode_line`. It is generated, as
    dataclasses generates `__init__`, so that it follows the fields.
    """
    names = [f.name for f in fields(cls)]
    given = [name for name in names if name != "type"]
    kind = cls.__dataclass_fields__["type"].default
    parameters = ", ".join(given)
    source = "\n".join(
        [
            "class Layout:",
            "    pass",
            # The maker's own names start with "__", which no field's name does.
            f"def make({parameters}):",
            "    __record = __new(Layout)",
            *(f"    __record.{name} = {name}" for name in given),
            f"    __record.type = {kind!r}",
            "    __record.__class__ = __cls",
            *(
                [
                    "    try:",
                    "        __line = __dumps(__record.__dict__, option=__options)",
                    "    except __JSONEncodeError:",
                    "        __line = __encode_line(__record)",
                    "    return __record, __line",
                ]
                if lines
                else ["    return __record, None"]
            ),
        ]
    )
    scope: dict[str, Any] = {
        "__new": object.__new__,
        "__cls": cls,
        "__dumps": orjson.dumps,
        "__options": orjson.OPT_APPEND_NEWLINE,
        "__JSONEncodeError": orjson.JSONEncodeError,
        "__encode_line": encode_line,
    }
    exec(source, scope)  # the source is made above, of the dataclass's field names
    make: Callable[..., Any] = scope["make"]
    return make


make_message: Callable[..., tuple[Message, bytes]] = _record_maker(Message)
make_state: Callable[..., tuple[StateChange, bytes]] = _record_maker(StateChange)
# The same, for a trace with no file: a line nobody writes is not made (None in its place).
make_message_unwritten: Callable[..., tuple[Message, None]] = _record_maker(Message, lines=False)
make_state_unwritten: Callable[..., tuple[StateChange, None]] = _record_maker(
    StateChange, lines=False
)


def _record_builder(cls: type[Any]) -> tuple[frozenset[str], Callable[[dict[str, Any]], Any]]:
    """Every key of a `cls` line, and a builder of the record from such a line's dict.

    Made as `_record_maker`'s records are (an instance of a plain class, its attributes
    set in field order, given the record's class): a trace file read back is a dict per
    line with every field as payviz writes them, and a frozen dataclass's `__init__` took
    three quarters of the time to turn one into a Message. A dict with other keys goes to
    `__init__`, which fills defaults and names what is missing or unknown.
    """
    names = [f.name for f in fields(cls)]
    source = "\n".join(
        [
            "class Layout:",
            "    pass",
            "def build(__data):",
            "    __record = __new(Layout)",
            *(f"    __record.{name} = __data[{name!r}]" for name in names),
            "    __record.__class__ = __cls",
            "    return __record",
        ]
    )
    scope: dict[str, Any] = {"__new": object.__new__, "__cls": cls}
    exec(source, scope)  # the source is made above, of the dataclass's field names
    build: Callable[[dict[str, Any]], Any] = scope["build"]
    return frozenset(names), build


_BUILDERS: dict[str, tuple[type[Any], frozenset[str], Callable[[dict[str, Any]], Any]]] = {
    "message": (Message, *_record_builder(Message)),
    "state": (StateChange, *_record_builder(StateChange)),
}


def _write_rest(sink: FileIO, data: bytes, written: int | None) -> None:
    """Finish writing `data` to an unbuffered file after a write that took only part of it
    (`written` bytes): the kernel may, on a full disk or when a signal comes."""
    while written != len(data):
        if not written:
            raise OSError(errno.EIO, f"the trace file took none of a {len(data)}-byte record")
        data = data[written:]
        written = sink.write(data)


class Trace:
    """An append-only list of records with listeners and an optional JSONL sink.

    Attributes:
        records: every record in order of `seq`.
        lock: held while a record is appended; whoever numbers records holds it from
            taking the next number to appending the record (`append_held`).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self._listeners: list[Listener] = []
        # Unbuffered: each line is one write(2) as it is appended, so a process killed
        # mid-run leaves every record before it in the file (no buffer to flush).
        self._sink: FileIO | None = None
        self.path = path
        # Whether appended records are written out: whoever makes a record makes its line
        # only then (`make_message` or `make_message_unwritten`, ...).
        self.writing = False
        if path is not None:
            self._sink = path.open("wb", buffering=0)
            self.writing = True
            header = encode_line(
                {"type": "header", "schema": SCHEMA_VERSION, "generator": "payviz"}
            )
            _write_rest(self._sink, header, self._sink.write(header))

    def next_seq(self) -> int:
        return len(self.records) + 1

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def append(self, record: Record, line: bytes | None = None) -> None:
        """Add a record; `line` is its line of the file when the caller has it already
        (`make_message`, `make_state`), else it is encoded here."""
        with self.lock:
            self._store(record, line)
        for listener in self._listeners:
            listener(record)

    def append_held(self, record: Record, line: bytes | None) -> None:
        """`append`, for a caller that holds `lock` (it numbered the record under it); the
        listeners hear of the record before the lock is released, so in order."""
        self._store(record, line)
        for listener in self._listeners:
            listener(record)

    def _store(self, record: Record, line: bytes | None) -> None:
        self.records.append(record)
        sink = self._sink
        if sink is not None:
            if line is None:
                line = encode_line(record)
            written = sink.write(line)  # one system call: the whole line, as a rule
            if written != len(line):
                _write_rest(sink, line, written)

    def messages(self, checkout: int | None = None) -> list[Message]:
        return [
            r
            for r in self.records
            if isinstance(r, Message) and (checkout is None or r.checkout == checkout)
        ]

    def states(self) -> Iterator[StateChange]:
        return (r for r in self.records if isinstance(r, StateChange))

    def close(self) -> None:
        self.writing = False
        if self._sink is not None:
            self._sink.close()
            self._sink = None


def record_from_json(data: dict[str, Any]) -> Record:
    """Rebuild a record from one line of a trace file (raises KeyError/TypeError if bad)."""
    kind = data.get("type")
    found = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if found is None:
        raise ValueError(f"unknown record type {kind!r}")
    cls, keys, build = found
    if len(data) == len(keys):
        try:  # every field found, and no room left for another key: as payviz writes it
            return build(data)  # type: ignore[no-any-return]
        except KeyError:
            pass
    payload = dict(data)
    del payload["type"]
    return cls(**payload)  # type: ignore[no-any-return]


def read_trace(path: Path) -> list[Record]:
    """Read a trace file written by Trace; raises ValueError on an unknown schema."""
    records: list[Record] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            data = json.loads(line)
            if data.get("type") == "header":
                if data.get("schema") != SCHEMA_VERSION:
                    raise ValueError(f"unsupported trace schema {data.get('schema')!r}")
                continue
            records.append(record_from_json(data))
    return records
