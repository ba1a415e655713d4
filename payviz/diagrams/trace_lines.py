"""Reading a trace file for the message log: one pass, no message decoded.

A trace file of a million messages is about a gigabyte; decoding every line into a
`Message` (`load_trace`) takes half a minute and keeps headers and bodies nobody looks at.
The log needs, per message, only what its row shows and where its line is. Lines as payviz
writes them (`encode_line`: keys in the dataclass's order, compact, or spaced the way
`json.dumps` writes them) are read without a JSON parser: the bytes from `"mode"` to
`"headers"`, less the exchange id, say what the row shows, its *look*. Rows that look alike
share one (a checkout's messages look like the last checkout's), so only the first line of
each look has its leading keys parsed and checked. A line's end is compared with the end
of a plain HTTP message; any other end (an ISO 8583 answer with its field 39, an error) is
parsed from `"mti"` on. A line's seq and time are read when its row is shown
(`read_head`), the rest when it is inspected (`read_message`). A line damaged only in what
its row does not show (its checkout or exchange number, headers, body, ISO 8583 fields) is
found then: `load_trace` skips it at once, this reader keeps its row, which then reads as
a line that no longer reads whole, and what is saved or exported from such a file leaves
it out, as `load_trace` does. Any other line (a header, one written by another tool, a
damaged one) goes through the JSON parser and the checks `load_trace` makes, so both
readers keep and skip the same lines; state changes are not rows and are passed over.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Final, NamedTuple, get_args

import orjson

from payviz.engine._types import PARTIES, Direction, Protocol
from payviz.engine.trace import SCHEMA_VERSION, Message, record_from_json

from .trace_io import TraceFormatError, check_message

_CHUNK: Final = 8 << 20
_HEAD_BYTES: Final = 128  # enough for a line's seq and time
_TAIL_KEYS: Final = ("mti", "fields", "raw", "error", "type")
_DIRECTIONS: Final = frozenset(get_args(Direction))
_PROTOCOLS: Final = frozenset(get_args(Protocol))
_IGNORED_TYPES: Final = frozenset({"state", "summary"})
_NUMBER: Final = rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_HEAD: Final = re.compile(rb'\{"seq": ?(-?\d+), ?"ts": ?(' + _NUMBER + rb"),")


def status_text(message: Message) -> str:
    """The outcome column: HTTP status, ISO 8583 field 39, or what went wrong."""
    code = message.fields.get("39")
    return _status(message.protocol, message.status, message.error, code)


def _status(protocol: str, status: int | None, error: str | None, code: object) -> str:
    if status is None and error:
        return "no answer"
    if protocol == "iso8583" and isinstance(code, str):
        return f"39={code}"
    return "" if status is None else str(status)


class RowLook(NamedTuple):
    """What a message's row shows besides its seq and time; rows that look alike share one.
    (A named tuple: a file of a million messages has a hundred thousand looks or more, and
    a tuple is built in a fraction of a frozen dataclass's time.)

    Attributes:
        status: the outcome column (see `status_text`), without the failure mark.
        failed: no answer, or an HTTP status of 400 or more.
        haystack: what the text filter searches, lower-cased: summary, parties, step title
            and status.
    """

    src: str
    dst: str
    step: int
    title: str
    summary: str
    status: str
    failed: bool
    encrypted: bool
    haystack: str


_new_look: Final = tuple.__new__


def row_look(
    src: str,
    dst: str,
    step: int,
    title: str,
    summary: str,
    status: str,
    failed: bool,
    encrypted: bool,
) -> RowLook:
    haystack = f"{summary} {src} {dst} {title} {status}".lower()
    # (made as a tuple: a named tuple's own `__new__` is Python, and a file's reader
    # makes a look for every seventh message)
    return _new_look(RowLook, (src, dst, step, title, summary, status, failed, encrypted, haystack))


def message_look(message: Message) -> RowLook:
    """The look of a decoded message's row."""
    return row_look(
        message.src,
        message.dst,
        message.step,
        message.title,
        message.summary,
        status_text(message),
        message.error is not None or (message.status or 0) >= 400,
        message.encrypted,
    )


@dataclass(frozen=True, slots=True)
class Layout:
    """The bytes around the keys the log reads, for one way of spacing a line."""

    mode: bytes
    exchange: bytes
    summary: bytes
    headers: bytes
    fields: bytes
    code: bytes  # field 39's key and the opening quote of its value
    plain_end: bytes  # the end of an HTTP message with no error
    no_error_end: bytes
    state_end: bytes
    text: re.Pattern[bytes]  # summary to status, as payviz writes them

    @classmethod
    def of(cls, colon: bytes, comma: bytes) -> Layout:
        def key(name: str) -> bytes:
            return comma + b'"' + name.encode() + b'"' + colon

        no_error_end = key("error") + b"null" + key("type") + b'"message"}'
        plain = key("mti") + b"null" + key("fields") + b"{}" + key("raw") + b"null"
        return cls(
            key("mode"),
            key("exchange"),
            key("summary"),
            key("headers") + b"{",
            key("fields") + b"{",
            b'"39"' + colon + b'"',
            plain + no_error_end,
            no_error_end,
            key("type") + b'"state"}',
            _text_pattern(key),
        )


def _text_pattern(key: Callable[[str], bytes]) -> re.Pattern[bytes]:
    """Summary to status as payviz writes them, with texts of printable ASCII and no
    escapes and a status orjson takes: what this matches, orjson reads as the very same
    values; anything else is left to orjson (`_text`)."""
    characters = rb"[\x20\x21\x23-\x5b\x5d-\x7e]*"
    text = b'"' + characters + b'"'

    def member(name: str, value: bytes) -> bytes:
        return re.escape(key(name)) + value

    return re.compile(
        member("summary", b'"(' + characters + b')"')
        + member("kind", text)
        + member("encrypted", b"(true|false)")
        + member("method", b"(?:null|" + text + b")")
        + member("url", b"(?:null|" + text + b")")
        + member("status", rb"(null|-?(?:0|[1-9][0-9]{0,17}))")
    )


COMPACT: Final = Layout.of(b":", b",")  # what payviz writes (orjson)
SPACED: Final = Layout.of(b": ", b", ")  # json.dumps: older traces, saved sessions
_ROUTE_KEYS: Final = ("mode", "src", "dst", "step", "title", "direction", "protocol")
_TEXT_KEYS: Final = ("summary", "kind", "encrypted", "method", "url", "status")
_Route = tuple[str, str, int, str, str]  # src, dst, step, title, protocol
_Text = tuple[str, bool, int | None]  # summary, encrypted, status


@dataclass(slots=True)
class ReadRows:
    """The message rows of a trace file, as columns (see `read_rows`).

    Attributes:
        offset: per row, where its line starts in the file.
        look_of: per row, an index into `looks`.
        skipped: (line number, reason) for each line left out, as `load_trace` lists them.
    """

    offset: array[int] = field(default_factory=lambda: array("q"))
    look_of: array[int] = field(default_factory=lambda: array("I"))
    looks: list[RowLook] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0  # lines read, empty ones included

    def extend(self, other: ReadRows) -> None:
        """Add the rows of the part of the file after this one. Its looks are added as
        they are: the two parts of a million-message file share a few dozen of its 140,000
        looks, too few to be worth looking every look up (a tenth of a second, while the
        window waits)."""
        first = len(self.looks)
        self.looks.extend(other.looks)
        self.offset.extend(other.offset)
        self.look_of.extend(map(first.__add__, other.look_of))
        self.skipped.extend((self.lines + line, why) for line, why in other.skipped)
        self.lines += other.lines

    # Pickled (to come back from the process that reads a file's second half, see
    # `trace_split`) with its looks as plain tuples: a named tuple is unpickled through
    # its Python `__new__`, which took two to three times as long for 77,000 looks.
    def __getstate__(self) -> tuple[object, ...]:
        looks = [tuple(look) for look in self.looks]
        return self.offset, self.look_of, looks, self.skipped, self.lines

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.offset, self.look_of, looks, self.skipped, self.lines = state
        self.looks = list(map(RowLook._make, looks))


class _Reader:
    """One pass over a file's lines; see the module's docstring."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows = ReadRows()
        self.layout = COMPACT
        self.seen_content = False
        self._looks: dict[object, int] = {}
        self._routes: dict[bytes, _Route | None] = {}
        self._strings: dict[str, str] = {}  # one string object per distinct text

    def block(self, data: bytes, at: int, stop: int, number: int, offset: int, last: bool) -> int:
        """Read the lines of `data[at:stop]`, the first numbered `number`, where `data`
        starts at byte `offset` of the file; each ends in a newline but, when `last`, the
        final one. The lines are read where they lie in `data`, never copied out one by
        one (a message's line is longer than what Python's small-object allocator serves,
        and copying a million of them took a fifth of the reading). Returns the number of
        lines read."""
        kept: list[int] = []
        looks: list[int] = []
        read = 0
        while at < stop:
            at, lines = self._read(data, at, stop, offset, kept, looks, number + read, last)
            read += lines
        self.rows.offset.extend(kept)
        self.rows.look_of.extend(looks)
        return read

    def _read(
        self,
        data: bytes,
        at: int,
        stop: int,
        offset: int,
        kept: list[int],
        looks: list[int],
        number: int,
        last: bool,
    ) -> tuple[int, int]:
        """Read lines from byte `at` on, the first numbered `number`; returns where it
        stopped (the end, or after a line that changes the layout: the header, or a line
        spaced another way) and how many lines it read."""
        known, layout, ending = self._looks.get, self.layout, self._ending
        mode_key, exchange_key, summary_key = layout.mode, layout.exchange, layout.summary
        headers_key, plain_end, state_end = layout.headers, layout.plain_end, layout.state_end
        fast, find, ends = self.seen_content, data.find, data.endswith
        first = number
        while at < stop:
            end = find(b"\n", at, stop)
            if end < 0:
                end = stop
            # Each find starts where the last one stopped: one pass over the line's head.
            at_mode = find(mode_key, at, end) if fast else -1
            if at_mode > at:
                at_exchange = find(exchange_key, at_mode, end)
                at_summary = find(summary_key, at_exchange, end)
                at_headers = find(headers_key, at_summary, end)
                if at < at_exchange < at_summary < at_headers:
                    key = data[at_mode:at_exchange] + data[at_summary:at_headers]
                    if not ends(plain_end, at, end):
                        key = ending(data, at, end, key)
                    look = known(key)
                    if look is None:
                        look = self._look(
                            key, data, at, end, at_exchange - at_mode, at_summary, at_headers
                        )
                    if look is not None:
                        kept.append(offset + at)
                        looks.append(look)
                        at, number = end + 1, number + 1
                        continue
            elif fast and ends(state_end, at, end):
                at, number = end + 1, number + 1
                continue  # a state change: not a row
            line = data[at:end]
            if line.strip():
                look = self._slowly(line, number, last and end == stop)
                if look is not None:
                    kept.append(offset + at)
                    looks.append(look)
                if self.layout is not layout or not fast:
                    return end + 1, number + 1 - first
            at, number = end + 1, number + 1
        return at, number - first

    def _look(
        self,
        key: bytes,
        data: bytes,
        start: int,
        end: int,
        route_size: int,
        at_summary: int,
        at_headers: int,
    ) -> int | None:
        """The look of the line `data[start:end]`, whose look was not seen before; None if
        the line is not one the fast path reads (it then goes through the full checks).
        `key` starts with the line's route (`route_size` bytes); its text runs from
        `at_summary` to `at_headers` in `data`.

        A file of a million messages has a new look every seventh message or so (an order
        number in a summary), so this is a fifth of reading one: the line is read where
        it lies, its text matched by a pattern rather than parsed when it can be."""
        if not key:
            return None
        layout = self.layout
        route = self._route(key[:route_size])
        text = _plain_text(layout, data, at_summary, at_headers) or _text(
            data[at_summary:at_headers]
        )
        ending = (
            (None, None)
            if data.endswith(layout.plain_end, start, end)
            else _ending(data[start:end], layout)
        )
        if route is None or text is None or ending is None:
            return None
        src, dst, step, title, protocol = route
        summary_text, is_encrypted, status_code = text
        code, error = ending
        look = row_look(
            src,
            dst,
            step,
            title,
            summary_text,
            self._intern(_status(protocol, status_code, error, code)),
            error is not None or (status_code or 0) >= 400,
            is_encrypted,
        )
        index = self._looks[key] = len(self.rows.looks)
        self.rows.looks.append(look)
        return index

    def _route(self, key: bytes) -> _Route | None:
        """Mode to protocol: few distinct ones in a trace, each parsed and checked once."""
        if key in self._routes:
            return self._routes[key]
        route: _Route | None = None
        data = _object(key)
        if data is not None and tuple(data) == _ROUTE_KEYS:
            src, dst, step, title = data["src"], data["dst"], data["step"], data["title"]
            if (
                src in PARTIES
                and dst in PARTIES
                and data["direction"] in _DIRECTIONS
                and data["protocol"] in _PROTOCOLS
                and type(step) is int
                and type(data["mode"]) is str
                and type(title) is str
            ):
                intern = self._intern
                route = (intern(src), intern(dst), step, intern(title), intern(data["protocol"]))
        self._routes[key] = route
        return route

    def _ending(self, data: bytes, start: int, end: int, key: bytes) -> bytes:
        """`key` with what the end of the line `data[start:end]` says of its row: field 39,
        when the message has no error (an ISO 8583 answer); the whole end when it has one
        (seldom). Empty if the line does not end as payviz writes one."""
        layout = self.layout
        at_fields = data.rfind(layout.fields, start, end)
        if not data.endswith(layout.no_error_end, start, end):
            return key + b"\0" + data[at_fields:end] if at_fields > start else b""
        at_code = data.rfind(layout.code, at_fields, end) if at_fields > start else -1
        if at_code < 0:
            return key + b"\0" if at_fields > start else b""
        value = at_code + len(layout.code)
        quote = data.find(b'"', value, end)
        return key + b"\0" + data[value : quote if quote >= 0 else end - 1]

    def _intern(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def _slowly(self, line: bytes, number: int, last: bool) -> int | None:
        """A line the fast path did not take, parsed and checked as `load_trace` does; the
        look of its row, if it is a message."""
        first = not self.seen_content
        self.seen_content = True
        problem, data = _parse(line, last)
        if data is not None:
            kind = data.get("type")
            if kind == "header":
                if not first:
                    self._skip(number, "a second header line")
                    return None
                if data.get("schema") != SCHEMA_VERSION:
                    raise TraceFormatError(
                        f"unsupported trace schema {data.get('schema')!r} "
                        f"(this payviz reads schema {SCHEMA_VERSION})"
                    )
                self._choose_layout(line)
                return None
            if isinstance(kind, str) and kind in _IGNORED_TYPES:
                self._choose_layout(line)  # checked by `load_trace`; not rows of the log
                return None
            message = decode_message(data)
            if isinstance(message, Message):
                self._choose_layout(line)
                return self._decoded_look(message)
            problem = message
        if first:
            raise TraceFormatError(
                f"{self.source} is not a payviz trace (line {number}: {problem})"
            )
        self._skip(number, problem or "")
        return None

    def _decoded_look(self, message: Message) -> int:
        look = message_look(message)
        index = self._looks.get(look)
        if index is None:
            index = self._looks[look] = len(self.rows.looks)
            self.rows.looks.append(look)
        return index

    def _choose_layout(self, line: bytes) -> None:
        """Read the following lines as this one is spaced."""
        self.layout = SPACED if b'": ' in line[:16] else COMPACT

    def _skip(self, number: int, reason: str) -> None:
        self.rows.skipped.append((number, reason))


def _object(members: bytes) -> dict[str, Any] | None:
    """`,"a":1,"b":2` (keys of a line, with their leading comma) as an object, or None."""
    try:
        data = orjson.loads(b"{" + members[1:] + b"}")
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _text(key: bytes) -> _Text | None:
    """Summary to status, checked."""
    data = _object(key)
    if data is None or tuple(data) != _TEXT_KEYS:
        return None
    summary, encrypted, status, method, url = (
        data["summary"],
        data["encrypted"],
        data["status"],
        data["method"],
        data["url"],
    )
    if (
        type(summary) is str
        and type(data["kind"]) is str
        and type(encrypted) is bool
        and (status is None or type(status) is int)
        and (method is None or type(method) is str)
        and (url is None or type(url) is str)
    ):
        return summary, encrypted, status
    return None


def _plain_text(layout: Layout, data: bytes, start: int, end: int) -> _Text | None:
    """Summary to status from `data[start:end]` read by `layout.text`, where the pattern
    matches: then the same as `_text` (which parses any text, a few times slower)."""
    found = layout.text.fullmatch(data, start, end)
    if found is None:
        return None
    summary, encrypted, status = found.groups()
    return summary.decode("ascii"), encrypted == b"true", None if status == b"null" else int(status)


def _ending(line: bytes, layout: Layout) -> tuple[str | None, str | None] | None:
    """Field 39 and the error, parsed from a line's keys after the body; None if they are
    not a message's."""
    at = line.rfind(layout.fields)
    at = line.rfind(b'"mti"', 0, at) - 1 if at > 0 else -1
    data = _object(line[at : line.rfind(b"}")]) if at > 0 else None
    if data is None or tuple(data) != _TAIL_KEYS or data["type"] != "message":
        return None
    fields, error = data["fields"], data["error"]
    if not isinstance(fields, dict) or not (error is None or isinstance(error, str)):
        return None
    code = fields.get("39")
    return (code if isinstance(code, str) else None, error)


def _parse(line: bytes, last: bool) -> tuple[str | None, dict[str, Any] | None]:
    """A line's object, or why it is not one. orjson first; what it refuses is parsed again
    as `load_trace` parses it, so both readers keep the same lines for the same reasons."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # with its newline, as `load_trace` reads it (the column may say so)
            data = json.loads((line if last else line + b"\n").decode("utf-8"))
        except UnicodeDecodeError:
            return "not UTF-8 text", None
        except json.JSONDecodeError as exc:
            if last:
                return "truncated (the file ends in the middle of this line)", None
            return f"not valid JSON ({exc.msg} at column {exc.colno})", None
        except (ValueError, RecursionError) as exc:  # absurd numbers or nesting
            return f"not valid JSON ({type(exc).__name__})", None
    if not isinstance(data, dict):
        return "not a JSON object", None
    return None, data


def decode_message(data: dict[str, Any]) -> Message | str:
    """The Message of a line's object, or why it is not one (as `load_trace` says it)."""
    if data.get("type") != "message":
        return f"unknown record type {data.get('type')!r}"
    try:
        record = record_from_json(data)
    except ValueError as exc:
        return str(exc)
    except TypeError as exc:
        return f"bad record: {str(exc).split('() ', 1)[-1]}"
    if not isinstance(record, Message):
        return "not a message"
    return check_message(record) or record


def read_rows(
    handle: IO[bytes],
    source: str = "trace",
    *,
    start: int = 0,
    end: int | None = None,
    layout: Layout | None = None,
) -> ReadRows:
    """The message rows of a trace file open for reading in binary, in one pass.

    Raises TraceFormatError when `load_trace` would: an empty file, one that does not start
    with a payviz header or record, or one of another schema.

    A part of the file (from byte `start`, the start of a line, to `end`, the start of a
    line or the end) is read as lines following the file's first, spaced as `layout` says.
    Line numbers in `skipped` then count from the part's first line.
    """
    reader = _Reader(source)
    if layout is not None:
        reader.layout, reader.seen_content = layout, True
    handle.seek(start)
    offset, number, carry = start, 1, b""  # offset: where the next chunk starts
    left = -1 if end is None else end - start
    while left and (chunk := handle.read(_CHUNK if left < 0 else min(_CHUNK, left))):
        left -= len(chunk) if left > 0 else 0
        first = chunk.find(b"\n") + 1
        if not first:
            carry += chunk  # a line longer than a chunk
            offset += len(chunk)
            continue
        if carry:  # the line begun in the last chunk, ended in this one
            carry += chunk[:first]
            number += reader.block(carry, 0, len(carry), number, offset - len(carry) + first, False)
        else:
            first = 0
        stop = chunk.rfind(b"\n") + 1
        number += reader.block(chunk, first, stop, number, offset, last=False)
        offset += len(chunk)
        carry = chunk[stop:]
    if carry:
        final = end is None or (left == 0 and _at_end(handle))
        number += reader.block(carry, 0, len(carry), number, offset - len(carry), last=final)
    if not reader.seen_content:
        raise TraceFormatError(f"{source} is empty, not a payviz trace")
    reader.rows.lines = number - 1
    return reader.rows


def _at_end(handle: IO[bytes]) -> bool:
    return not handle.read(1)


def first_layout(handle: IO[bytes]) -> Layout:
    """How the lines of a file are spaced, judged by its first line."""
    handle.seek(0)
    first = handle.readline(256)
    return SPACED if b'": ' in first[:16] else COMPACT


def read_head(handle: IO[bytes], offset: int) -> tuple[int, float] | None:
    """The seq and time of the message whose line starts at `offset` (None if that line
    does not start the way payviz writes one: decode it instead)."""
    handle.seek(offset)
    found = _HEAD.match(handle.read(_HEAD_BYTES))
    return None if found is None else (int(found[1]), float(found[2]))


def read_message(handle: IO[bytes], offset: int) -> Message | None:
    """The message whose line starts at `offset`, decoded and checked; None if it is not
    one (the file was changed, or the line is damaged past what the log reads)."""
    handle.seek(offset)
    problem, data = _parse(handle.readline(), last=False)
    if data is None or problem is not None:
        return None
    message = decode_message(data)
    return message if isinstance(message, Message) else None


__all__ = [
    "COMPACT",
    "SPACED",
    "Layout",
    "ReadRows",
    "RowLook",
    "decode_message",
    "first_layout",
    "message_look",
    "read_head",
    "read_message",
    "read_rows",
    "status_text",
]
