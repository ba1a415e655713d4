"""The message log's rows as columns: what each row shows, and where its message is.

A row is a message of the trace. What the log shows of it besides its seq and time
(parties, step, title, summary, status, lock) is its `RowLook`; looks repeat from one
checkout to the next, so rows share them. A row costs an index into the looks and where
its message is: the Message itself (a live session, whose trace is in memory anyway) or
the byte offset of its line in a trace file (`trace_lines`), whose seq and time are read
when the row is shown and whose message is decoded when the row is inspected. Filtering
tests each look once, then keeps the rows whose look passed in one pass over the column.
"""

from __future__ import annotations

import os
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Final

from payviz.engine.trace import Message

from .trace_lines import RowLook, message_look, read_head, read_message, status_text
from .trace_split import read_file

# Rows of a file whose seq and time, or whole message, were read: kept for the next ask
# (a repaint asks for the same rows again, the inspector for the same message).
_HEADS_KEPT: Final = 4096
_MESSAGES_KEPT: Final = 64
_LINE_CHUNK: Final = 4096  # read at a time to find a line's end
_PREAD: Callable[[int, int, int], bytes] | None = getattr(os, "pread", None)


class LogRows:
    """The log's rows in trace order, as columns.

    Rows come from Messages in memory (`append`) or from a trace file (`open_file`), whose
    lines are read again, one at a time, for what a row shows that is not in its look.

    Attributes:
        path: the trace file the rows were read from, or None.
        skipped: (line number, reason) for each line of that file left out.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self.skipped: list[tuple[int, str]] = []
        self._file: IO[bytes] | None = None
        self.clear()

    # -- filling ---------------------------------------------------------------------------

    def clear(self) -> None:
        if self._file is not None:
            self._closer()
        self._file = None
        self.path = None
        self.skipped = []
        self._look_of = array("I")  # row -> index into _looks
        # row -> where its message is: the offset of its line (>= 0), or -1 - index in _held
        self._where = array("q")
        self._looks: list[RowLook] = []
        self._look_index: dict[RowLook, int] = {}
        self._looks_indexed = True  # every look is in _look_index
        self._look_by_fields: dict[tuple[object, ...], int] = {}
        self._held: list[Message] = []
        self._heads: dict[int, tuple[int, float]] = {}
        self._decoded: dict[int, Message] = {}
        self._rows_by_seq: dict[int, int] | None = None  # when seqs are not in order
        self._last_seq: int | None = None

    def open_file(self, path: Path) -> None:
        """Replace the rows with the messages of a trace file, read in one pass.

        Raises TraceFormatError for a file that is not a payviz trace, OSError for one that
        cannot be read.
        """
        self.clear()
        handle = path.open("rb")
        try:
            read = read_file(path, handle)
        except BaseException:
            handle.close()
            raise
        self._file, self.path, self.skipped = handle, path, read.skipped
        self._closer = weakref.finalize(self, handle.close)  # closed with the rows
        self._where, self._look_of, self._looks = read.offset, read.look_of, read.looks
        self._looks_indexed = False
        self._last_seq = self.seq(len(self) - 1) if len(self) else None

    def fresh(self, messages: Iterable[Message]) -> list[Message]:
        """These messages less those whose seq already has a row."""
        last = self._last_seq
        return [m for m in messages if last is None or m.seq > last or self.row_of_seq(m.seq) < 0]

    def append(self, messages: Iterable[Message]) -> None:
        """Add these messages as rows, held as they are (see `fresh`)."""
        looks = self._look_by_fields
        for message in messages:
            seq = message.seq
            if self._last_seq is not None and seq <= self._last_seq:
                self._by_seq()  # out of order from here on: look seqs up in a dict
            # What a look is made of, as the message has it: cheaper to hash than the look.
            fields = (
                message.src,
                message.dst,
                message.step,
                message.title,
                message.summary,
                message.protocol,
                message.status,
                message.encrypted,
                message.error,
                message.fields.get("39"),
            )
            look = looks.get(fields)
            if look is None:
                look = looks[fields] = self._look_id(message_look(message))
            row = len(self._where)
            self._where.append(-1 - len(self._held))
            self._held.append(message)
            self._look_of.append(look)
            if self._rows_by_seq is not None:
                self._rows_by_seq[seq] = row
            self._last_seq = seq if self._last_seq is None else max(self._last_seq, seq)

    def _look_id(self, look: RowLook) -> int:
        if not self._looks_indexed:  # rows of a file came first: index their looks
            self._look_index = {look: index for index, look in enumerate(self._looks)}
            self._looks_indexed = True
        index = self._look_index.get(look)
        if index is None:
            index = self._look_index[look] = len(self._looks)
            self._looks.append(look)
        return index

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._where)

    def look(self, row: int) -> RowLook:
        return self._looks[self._look_of[row]]

    def seq(self, row: int) -> int:
        return self._head(row)[0]

    def ts(self, row: int) -> float:
        return self._head(row)[1]

    def _head(self, row: int) -> tuple[int, float]:
        where = self._where[row]
        if where < 0:
            message = self._held[-1 - where]
            return message.seq, message.ts
        head = self._heads.get(row)
        if head is None:
            head = read_head(self._file, where) if self._file is not None else None
            if head is None:  # not spaced as payviz writes: decode the line
                decoded = self.message(row)
                head = (decoded.seq, decoded.ts) if decoded is not None else (-1, 0.0)
            if len(self._heads) >= _HEADS_KEPT:
                self._heads.clear()
            self._heads[row] = head
        return head

    def message(self, row: int) -> Message | None:
        """The whole message of a row; None if out of range, or if its line no longer
        decodes (the file changed since it was read, or the line is damaged)."""
        if not 0 <= row < len(self._where):
            return None
        where = self._where[row]
        if where < 0:
            return self._held[-1 - where]
        message = self._decoded.get(row)
        if message is None and self._file is not None:
            message = read_message(self._file, where)
            if message is not None:
                if len(self._decoded) >= _MESSAGES_KEPT:
                    self._decoded.pop(next(iter(self._decoded)))
                self._decoded[row] = message
        return message

    def messages(self) -> Iterator[Message | None]:
        return (self.message(row) for row in range(len(self._where)))

    def line_start(self, row: int) -> int | None:
        """Where the line of a file's row starts in the file (None for a row held in
        memory, or out of range)."""
        if not 0 <= row < len(self._where):
            return None
        where = self._where[row]
        return where if where >= 0 and self._file is not None else None

    def read_at(self, offset: int, size: int) -> bytes:
        """`size` bytes of the file the rows were read from, from `offset` (fewer at its
        end; none for rows not read from a file). Read from the file as it was opened,
        and without moving the position the rows' own reads use: a file saved over it
        meanwhile (a new file under the same name) changes nothing here."""
        if self._file is None or size <= 0:
            return b""
        if _PREAD is not None:
            return _PREAD(self._file.fileno(), size, offset)
        at = self._file.tell()  # no pread (Windows): the same, moving back after
        try:
            self._file.seek(offset)
            return self._file.read(size)
        finally:
            self._file.seek(at)

    def line_at(self, offset: int) -> bytes:
        """The line that starts at `offset`, with its line ending (see `read_at`)."""
        line = b""
        while not line.endswith(b"\n"):
            chunk = self.read_at(offset + len(line), _LINE_CHUNK)
            if not chunk:
                break
            end = chunk.find(b"\n")
            line += chunk if end < 0 else chunk[: end + 1]
        return line

    def row_of_seq(self, seq: int) -> int:
        """The row of the message numbered `seq`, or -1 (a file's seqs are taken to be in
        order, as payviz writes them; bisecting reads about twenty lines)."""
        if self._rows_by_seq is not None:
            return self._rows_by_seq.get(seq, -1)
        row = bisect_left(range(len(self)), seq, key=self.seq)
        return row if row < len(self) and self.seq(row) == seq else -1

    def _by_seq(self) -> None:
        if self._rows_by_seq is None:
            self._rows_by_seq = {self.seq(row): row for row in range(len(self))}

    # -- filtering -------------------------------------------------------------------------

    def matching(
        self, party: str | None, text: str, start: int = 0, stop: int | None = None
    ) -> array[int] | None:
        """The rows from `start` to `stop`, in order, that involve `party` (as sender or
        receiver; None: any) and whose look holds `text` (lower case; "": any). None when
        that is every one of them."""
        if party is None and not text:
            return None
        passed = bytearray(len(self._looks))
        for index, look in enumerate(self._looks):
            if (party is None or party == look.src or party == look.dst) and (
                text in look.haystack
            ):
                passed[index] = 1
        look_of = self._look_of
        if start or stop is not None:
            look_of = look_of[start:stop]
        if all(passed):
            return None
        if not any(passed):
            return array("I")
        return array("I", [row for row, look in enumerate(look_of, start) if passed[look]])


__all__ = ["LogRows", "RowLook", "status_text"]
