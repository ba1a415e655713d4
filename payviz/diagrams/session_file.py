"""Saved sessions: a trace and the scenarios that made it, in one file.

Format: a session file *is* a payviz trace (JSON Lines, schema `SCHEMA_VERSION`), so every
reader of traces opens it, `payviz.engine.trace.read_trace` included. Only its header line
says more than the engine's::

    {"type": "header", "schema": 1, "generator": "payviz", "payviz": "0.1.0",
     "saved": "2026-01-31T12:00:00Z",
     "scenarios": [{"checkout": 1, "scenario": {"mode": "direct", "notify": null, ...}}]}

`scenarios` lists each checkout's `Scenario` (its JSON form) by checkout number, so
"run it again" replays exactly what was run. Two optional fields let a reopened session be
inspected as it was recorded: `keylog` (the session's key log, the object `--keylog` writes:
it opens the JWEs and checks the signatures) and `started` (the Unix time of the trace's
clock origin, to judge a webhook timestamp's age). Both are absent from older files and
from the JSONL export, which should not carry secrets. Then come the records, one per line, as the
engine writes them. A trace the engine wrote (no `scenarios`) opens as a session without
scenarios; a header scenario that no longer validates (a card removed from the test set)
is reported in `skipped` and the trace still opens. Any file name works; `.jsonl` keeps
it recognisable as JSON Lines.

Saving writes a temporary file beside the target and renames it over, so a crash never
leaves half a session where a whole one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from payviz import __version__
from payviz.engine.scenario import Scenario
from payviz.engine.trace import SCHEMA_VERSION, Message, Record

from .trace_io import LoadResult, load_trace


@dataclass(frozen=True, slots=True)
class SavedSession:
    """A session read back from a file.

    Attributes:
        records: the trace's records in order.
        scenarios: checkout number -> the scenario that ran it (empty for a bare trace).
        skipped: (line number, reason) for each line or header scenario left out.
        saved: when the file was saved, as written in its header ("" if unknown).
        keylog: the key log saved with the session ({} if none was).
        started: Unix time of the trace's clock origin (None if unknown).
    """

    records: tuple[Record, ...]
    scenarios: dict[int, Scenario] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    saved: str = ""
    keylog: dict[str, Any] = field(default_factory=dict)
    started: float | None = None

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.records if isinstance(r, Message)]


def session_header(
    scenarios: Mapping[int, Scenario],
    saved: datetime | None = None,
    *,
    keylog: Mapping[str, Any] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """The header line of a session file (see the module's docstring)."""
    moment = (saved or datetime.now(UTC)).astimezone(UTC)
    header: dict[str, Any] = {
        "type": "header",
        "schema": SCHEMA_VERSION,
        "generator": "payviz",
        "payviz": __version__,
        "saved": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "scenarios": [
            {"checkout": checkout, "scenario": scenario.model_dump(mode="json")}
            for checkout, scenario in sorted(scenarios.items())
        ],
    }
    if keylog:
        header["keylog"] = dict(keylog)
    if started is not None:
        header["started"] = started
    return header


def session_lines(
    records: Iterable[Record],
    scenarios: Mapping[int, Scenario] | None = None,
    saved: datetime | None = None,
    *,
    keylog: Mapping[str, Any] | None = None,
    started: float | None = None,
) -> Iterator[str]:
    """The file's lines, each ending in a newline: the header, then one per record."""
    header = session_header(scenarios or {}, saved, keylog=keylog, started=started)
    yield json.dumps(header) + "\n"
    for record in records:
        yield json.dumps(record.to_json(), ensure_ascii=False) + "\n"


def save_session(
    path: Path,
    records: Iterable[Record],
    scenarios: Mapping[int, Scenario] | None = None,
    saved: datetime | None = None,
    *,
    keylog: Mapping[str, Any] | None = None,
    started: float | None = None,
) -> None:
    """Write a session file atomically (OSError if the folder cannot be written).

    `keylog` and `started` are kept in the header so the session reopens fully inspectable.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.writelines(session_lines(records, scenarios, saved, keylog=keylog, started=started))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _scenario(entry: dict[str, Any]) -> tuple[int, Scenario] | str:
    checkout, data = entry.get("checkout"), entry.get("scenario")
    if not isinstance(checkout, int) or not isinstance(data, dict):
        return "header scenario without a checkout number and a scenario object"
    try:
        return checkout, Scenario.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(str(error["msg"]) for error in exc.errors())
        return f"scenario of checkout {checkout} ignored: {reasons}"


def open_session(path: Path) -> SavedSession:
    """Read a session file or a bare trace (TraceFormatError if it is neither)."""
    return session_of(load_trace(path))


def session_of(loaded: LoadResult) -> SavedSession:
    """The session a trace's lines make: its records, and what its header says."""
    skipped = list(loaded.skipped)
    scenarios: dict[int, Scenario] = {}
    for entry in loaded.scenarios:
        result = _scenario(entry)
        if isinstance(result, str):
            skipped.append((1, result))
        else:
            scenarios[result[0]] = result[1]
    header = loaded.header or {}
    keylog = header.get("keylog")
    if keylog is not None and not isinstance(keylog, dict):
        skipped.append((1, "the header's keylog is not an object"))
    started = header.get("started")
    if started is not None and not isinstance(started, int | float):
        skipped.append((1, "the header's started time is not a number"))
    return SavedSession(
        loaded.records,
        scenarios,
        sorted(skipped),
        str(header.get("saved", "")),
        keylog if isinstance(keylog, dict) else {},
        float(started) if isinstance(started, int | float) else None,
    )


__all__ = [
    "SavedSession",
    "open_session",
    "save_session",
    "session_header",
    "session_lines",
    "session_of",
]
