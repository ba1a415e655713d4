"""A long trace file shown without decoding it whole.

Opened from the File menu, a trace of a million messages is about a gigabyte; decoding
every line (`open_session`) took 20 s and 3 KB a message before the window showed it.
From `LAZY_FROM_BYTES` on, a file is opened as the log opens one (`LogRows.open_file`: one
pass, no message decoded, two cores), and every view reads only what it shows: the
player a message when the playhead reaches it, the diagram the records of the 64 messages
before the playhead and, for a server that changed nothing in them (a gateway through a
run of hosted checkouts), its last state change before them, found by looking for its
bytes further back in the file (up to `LOOKBACK_BYTES`, about 120,000 messages: a server
that changed nothing in so long shows as idle, where a file read whole shows its last
change, however old), saving and exporting the file's records one line after another.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NamedTuple, overload

from payviz.engine._types import Party
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, Record, StateChange

from .log_rows import LogRows
from .node_state import watched_states
from .session_file import session_of
from .trace_io import decode_lines, parse_lines

LAZY_FROM_BYTES: Final = 32 << 20  # about 30,000 messages
WINDOW_ROWS: Final = 64  # messages before the playhead whose records the diagram reads
LOOKBACK_BYTES: Final = 128 << 20  # how far before those a server's last change is sought
_CHUNK_BYTES: Final = 4 << 20


class FileMessages(Sequence[Message]):
    """The messages of a file's rows, each decoded when asked for (see `LogRows.message`).

    A row whose line no longer decodes whole (the file changed since it was read) is
    shown as what the log knows of it, marked as an error.
    """

    def __init__(self, rows: LogRows) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Message: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Message]: ...

    def __getitem__(self, index: int | slice) -> Message | Sequence[Message]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(len(self)))]
        row = index + len(self) if index < 0 else index
        if not 0 <= row < len(self):
            raise IndexError(index)
        message = self._rows.message(row)
        return message if message is not None else self._unreadable(row)

    def _unreadable(self, row: int) -> Message:
        look = self._rows.look(row)
        problem = "this line of the file no longer reads whole"
        return Message(
            seq=self._rows.seq(row),
            ts=self._rows.ts(row),
            checkout=0,
            mode="direct",
            src=look.src,  # type: ignore[arg-type]
            dst=look.dst,  # type: ignore[arg-type]
            step=look.step,
            title=look.title,
            direction="request",
            protocol="http",
            exchange=0,
            summary=f"{look.summary} ({problem})",
            kind="error",
            error=problem,
        )


@dataclass(slots=True)
class FileRecords:
    """Every record of a trace file, read one line after another (saving, exporting),
    from the file as the rows read it (see `LogRows.read_at`): saving a session over the
    file it came from reads the file that was opened, not the one being written."""

    rows: LogRows
    _count: int | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[Record]:
        offset, carry = 0, b""
        while chunk := self.rows.read_at(offset, _CHUNK_BYTES):
            offset += len(chunk)
            lines = (carry + chunk).splitlines(keepends=True)
            carry = lines.pop() if not lines[-1].endswith(b"\n") else b""
            yield from decode_lines(lines)
        if carry:
            yield from decode_lines([carry])

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count


@dataclass(frozen=True, slots=True)
class OpenedTrace:
    """A trace or session file opened lazily, with what its header says.

    Attributes:
        path: the file; rows: its messages as the log's rows; messages: the same,
            decoded when asked for; records: every record, read in order when asked for.
        scenarios, keylog, started: from a session's header (see `SavedSession`).
        skipped: (line number, reason) for each line or header entry left out.
    """

    path: Path
    rows: LogRows
    messages: FileMessages
    records: FileRecords
    scenarios: dict[int, Scenario]
    keylog: dict[str, object]
    started: float | None
    skipped: list[tuple[int, str]]
    body_start: int = 0  # where the first record's line starts (after a header)
    # party -> its last state change found before some byte (see `_last_change`)
    _changes: dict[Party, _Change] = field(default_factory=dict, repr=False, compare=False)

    def records_before(self, row: int) -> list[Record]:
        """The records of the messages before row `row`, and its own, in order: from
        `WINDOW_ROWS` messages back, after the last state change before them of each server
        whose caption has none among them, as a file read whole would show it (see
        `node_states`)."""
        first_row = max(0, row - WINDOW_ROWS)
        records = self._records_between(first_row, row)
        start = self.rows.line_start(first_row)
        if first_row == 0 or start is None:
            return records
        shown = {r.party for r in records if isinstance(r, StateChange)}
        older = [
            found
            for party, key in watched_states().items()
            if party not in shown and (found := self._last_change(party, key, start))
        ]
        if not older:
            return records
        older.sort(key=lambda state: state.seq)
        return [*older, *records]

    def _records_between(self, first_row: int, row: int) -> list[Record]:
        # From the first row's line; from the file's first record for the first row, so
        # that state changes recorded before the first message are read too.
        first = self.body_start if first_row == 0 else self.rows.line_start(first_row)
        last = self.rows.line_start(row)
        if first is None or last is None:
            return []
        data = self.rows.read_at(first, last - first) + self.rows.line_at(last)
        return decode_lines(data.splitlines(keepends=True))

    def _last_change(self, party: Party, key: str, before: int) -> StateChange | None:
        """The last state change of `party`'s `key` on a line before byte `before`, looked
        for up to `LOOKBACK_BYTES` back, and remembered: as the playhead moves on, only
        the bytes between the last answer's `before` and this one are looked through."""
        known = self._changes.get(party)
        if known is not None and known.before <= before:
            newer = self._search(party, key, known.before, before)
            latest = known if newer is None else newer
        elif known is not None and known.state is not None and known.end <= before:
            return known.state  # the last before a later byte, and its line is before this
        else:
            low = max(self.body_start, before - LOOKBACK_BYTES)
            latest = self._search(party, key, low, before) or _Change(before, 0, None)
        self._changes[party] = _Change(before, latest.end, latest.state)
        return latest.state

    def _search(self, party: Party, key: str, low: int, high: int) -> _Change | None:
        """The last state change of `party`'s `key` whose bytes, as payviz writes them
        (compact or spaced), lie between bytes `low` and `high` (a line's start), looked
        for from the end backwards a chunk at a time."""
        needles = (
            f'"party":"{party}","key":"{key}"'.encode(),
            f'"party": "{party}", "key": "{key}"'.encode(),
        )
        overlap = max(len(needle) for needle in needles) - 1
        end = high
        while end > low:
            begin = max(low, end - _CHUNK_BYTES)
            chunk = self.rows.read_at(begin, end - begin)
            at = len(chunk)
            while (at := max(chunk.rfind(needle, 0, at) for needle in needles)) >= 0:
                line, line_end = self._line_around(begin + at)
                found = decode_lines([line])
                state = found[0] if found else None
                if isinstance(state, StateChange) and (state.party, state.key) == (party, key):
                    return _Change(high, line_end, state)
            if begin == low:
                break
            end = begin + overlap  # a needle across the two chunks is seen whole
        return None

    def _line_around(self, at: int) -> tuple[bytes, int]:
        """The whole line that holds byte `at`, and where it ends."""
        start = at
        while start > 0:
            begin = max(0, start - 4096)
            newline = self.rows.read_at(begin, start - begin).rfind(b"\n")
            if newline >= 0:
                start = begin + newline + 1
                break
            start = begin
        line = self.rows.line_at(start)
        return line, start + len(line)


class _Change(NamedTuple):
    """A server's last state change before byte `before` (None: none was found), and
    where its line ends."""

    before: int
    end: int
    state: StateChange | None


def open_lazily(path: Path) -> OpenedTrace:
    """Open a trace or session file without decoding its records.

    Raises TraceFormatError for a file that is not a payviz trace, OSError for one that
    cannot be read.
    """
    rows = LogRows()
    rows.open_file(path)
    # The header, if any, is the first line that is not blank (as `load_trace` reads it).
    body_start, number, first = 0, 0, b""
    while not first.strip():
        first = rows.line_at(body_start)
        if not first:
            break
        body_start += len(first)
        number += 1
    loaded = parse_lines([b"\n"] * (number - 1) + [first], path.name)
    session = session_of(loaded)
    if loaded.header is None:  # a bare trace: its first line is a record
        body_start = 0
    header_problems = [(line, why) for line, why in session.skipped if line == number]
    return OpenedTrace(
        path,
        rows,
        FileMessages(rows),
        FileRecords(rows),
        session.scenarios,
        dict(session.keylog),
        session.started,
        sorted(set(header_problems) | set(rows.skipped)),
        body_start,
    )


__all__ = [
    "LAZY_FROM_BYTES",
    "LOOKBACK_BYTES",
    "WINDOW_ROWS",
    "FileMessages",
    "FileRecords",
    "OpenedTrace",
    "open_lazily",
]
