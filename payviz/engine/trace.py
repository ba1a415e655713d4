"""The trace: every message on every link, and every change of an actor's state, in order.

It is the public record of a session: written as JSON Lines (flushed per record, see
docs/trace-format.md), replayed by the UI and exported by the CLI.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any, Literal

from ._types import Direction, Party, Protocol

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
        return asdict(self)


_MESSAGE_FIELDS = tuple(f.name for f in fields(Message))
Record = Message | StateChange
Listener = Callable[[Record], None]


class Trace:
    """An append-only list of records with listeners and an optional JSONL sink.

    Attributes:
        records: every record in order of `seq`.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._sink: IO[str] | None = None
        self.path = path
        if path is not None:
            self._sink = path.open("w", encoding="utf-8")
            header = {"type": "header", "schema": SCHEMA_VERSION, "generator": "payviz"}
            self._sink.write(json.dumps(header) + "\n")
            self._sink.flush()

    def next_seq(self) -> int:
        return len(self.records) + 1

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def append(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)
            if self._sink is not None:
                self._sink.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
                self._sink.flush()
        for listener in self._listeners:
            listener(record)

    def messages(self, checkout: int | None = None) -> list[Message]:
        return [
            r
            for r in self.records
            if isinstance(r, Message) and (checkout is None or r.checkout == checkout)
        ]

    def states(self) -> Iterator[StateChange]:
        return (r for r in self.records if isinstance(r, StateChange))

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


def record_from_json(data: dict[str, Any]) -> Record:
    """Rebuild a record from one line of a trace file (raises KeyError/TypeError if bad)."""
    kind = data.get("type")
    payload = {k: v for k, v in data.items() if k != "type"}
    if kind == "message":
        return Message(**payload)
    if kind == "state":
        return StateChange(**payload)
    raise ValueError(f"unknown record type {kind!r}")


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
