"""Capture at the edge: every exchange on the wire becomes Messages in the Trace.

payviz's own clients (actors and the scripted browser) are captured in their transport,
which also sees what never arrives (timeouts, late answers). Requests from anything else
(a real browser pointed at `payviz serve`) are captured by `CaptureMiddleware` on the actor.
"""

from __future__ import annotations

import itertools
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import orjson

from . import iso_messages
from ._types import Direction, Mode, Party, Protocol
from .cards import redact
from .clock import Clock
from .context import CURRENT_RUN, RUN_HEADER
from .jwe import looks_like_jwe
from .steps import Step, classify
from .trace import (
    Trace,
    make_message,
    make_message_unwritten,
    make_state,
    make_state_unwritten,
)


class Exchange:
    """A request in flight: what its response needs to be classified the same way."""

    __slots__ = ("id", "operation", "requester", "responder")

    def __init__(self, id: int, requester: Party, responder: Party, operation: str) -> None:
        self.id = id
        self.requester = requester
        self.responder = responder
        self.operation = operation


def _status_text(status: int) -> str:
    try:
        text = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        text = str(status)
    if 100 <= status < 600:
        _STATUS_TEXTS[status] = text
    return text


_STATUS_TEXTS: dict[int, str] = {}


def _json_object(body: str) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    if not body.lstrip(" \t\n\r").startswith("{"):
        return None  # not a JSON object (HTML, a form, empty): no need to watch json fail
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        # What orjson refuses and `json` reads: NaN, integers past 64 bits, lone surrogates.
        try:
            data = json.loads(body)
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _json_hint(data: dict[str, Any] | None) -> str:
    """A short hint from a JSON body: its `status`, `type` or `error`, when it has one."""
    if data is None:
        return ""
    for key in ("type", "status", "error"):
        value = data.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
    return ""


# A message's step depends on its mode, parties, operation, direction and status only,
# and most recur from one checkout to the next: remembered, classifying one costs a lookup
# instead of a walk through the rules.
_StepKey = tuple[Mode, Party, Party, str, Direction, int | None, bool]
_STEPS: dict[_StepKey, Step] = {}
_STEPS_MAX_ENTRIES = 4096


def _step(key: _StepKey) -> Step:
    """The step of the messages of `key` (mode, requester, responder, operation, direction,
    a response's status and whether a redirect leaves the order pending), worked out and
    remembered."""
    step = classify(*key)
    if len(_STEPS) >= _STEPS_MAX_ENTRIES:
        _STEPS.clear()
    _STEPS[key] = step
    return step


def _to_microsecond(seconds: float) -> float:
    """`round(seconds, 6)`: a message's time in the trace.

    `round` to digits goes through decimal strings, a tenth of what recording a message
    cost. Scaled by a million, the product rounds to a double on the same side of each
    half as the exact product (halves are doubles up to 2**52, and rounding keeps order),
    so the whole number nearest it is the one nearest the exact product; divided back, it
    gives the double nearest that decimal, which is what `round` returns. A product that
    lands on a half exactly, and zero, negatives and huge values, go to `round` itself.
    """
    if 0.0 < seconds < 1e9:
        scaled = seconds * 1e6
        floor = scaled // 1.0
        fraction = scaled - floor
        if fraction < 0.5:
            return floor / 1e6
        if fraction > 0.5:
            return (floor + 1.0) / 1e6
    return round(seconds, 6)


class Recorder:
    """Builds Messages and StateChanges and appends them to the trace, thread-safely: each
    is numbered and appended under the trace's lock. A header dict given to `request` or
    `response` has its names in lower case and may become the record's own: the caller
    does not change it afterwards."""

    def __init__(self, trace: Trace, clock: Clock) -> None:
        self.trace = trace
        self.clock = clock
        self.started = clock.now()
        self._exchange_ids = itertools.count(1)
        # Checkouts whose order is pending, as the merchant last said: a redirect sent then
        # leaves the customer waiting (see `steps`), not looking at the outcome.
        self._pending: set[int] = set()

    def state(self, party: Party, key: str, value: Any, note: str = "") -> None:
        checkout = CURRENT_RUN.get().checkout
        if key == "order" and party == "merchant":
            if isinstance(value, dict) and value.get("status") == "pending":
                self._pending.add(checkout)
            else:
                self._pending.discard(checkout)
        trace = self.trace
        lock = trace.lock
        # acquire and release called, not `with`: `with` makes both into new bound methods
        # each time, which costs as much again as the lock itself, for every record.
        lock.acquire()
        try:
            ts = _to_microsecond(self.clock.now() - self.started)
            seq = len(trace.records) + 1
            make = make_state if trace.writing else make_state_unwritten
            trace.append_held(*make(seq, ts, checkout, party, key, value, note))
        finally:
            lock.release()

    def _message(
        self,
        exchange: Exchange,
        direction: Direction,
        protocol: Protocol,
        summary: str,
        kind: str,
        encrypted: bool = False,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: str = "",
        mti: str | None = None,
        fields: dict[str, str] | None = None,
        raw: str | None = None,
        error: str | None = None,
    ) -> None:
        run = CURRENT_RUN.get()
        mode = run.mode
        requester = exchange.requester
        responder = exchange.responder
        pending = status == 303 and run.checkout in self._pending
        key = (mode, requester, responder, exchange.operation, direction, status, pending)
        step = _STEPS.get(key) or _step(key)
        # A summary quotes the request path and an error may quote anything: mask them too.
        summary = summary if summary in _CLEAN else _redacted(summary)
        if error is not None:
            error = _redacted(error)
        src, dst = (requester, responder) if direction == "request" else (responder, requester)
        trace = self.trace
        lock = trace.lock
        lock.acquire()  # (not `with`: see `state`)
        try:
            ts = _to_microsecond(self.clock.now() - self.started)
            make = make_message if trace.writing else make_message_unwritten
            trace.append_held(
                *make(
                    len(trace.records) + 1,
                    ts,
                    run.checkout,
                    mode,
                    src,
                    dst,
                    step.number,
                    step.title,
                    direction,
                    protocol,
                    exchange.id,
                    summary,
                    kind,
                    encrypted,
                    method,
                    url,
                    status,
                    {} if headers is None else headers,
                    body,
                    mti,
                    {} if fields is None else fields,
                    raw,
                    error,
                )
            )
        finally:
            lock.release()

    # -- HTTP and ISO 8583 over HTTP -------------------------------------------------------

    def request(
        self,
        requester: Party,
        responder: Party,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Exchange:
        path = urlsplit(url).path or "/"
        headers, signed = _visible(headers)
        if headers.get("content-type", "").startswith(iso_messages.CONTENT_TYPE):
            return self._iso(requester, responder, body, headers, url, method)
        operation = f"{method} {path}"
        exchange = Exchange(next(self._exchange_ids), requester, responder, operation)
        text = _redacted(body.decode("utf-8", errors="replace"))
        notification = signed
        paying = '"payment"' in text
        # Only a notification's hint and a payment's JWE are read from the body.
        data = _json_object(text) if notification or paying else None
        encrypted = paying and data is not None and looks_like_jwe(str(data.get("payment", "")))
        kind = "notification" if notification else ("encrypted" if encrypted else "request")
        summary = operation
        hint = _json_hint(data) if notification else ""
        if hint:
            summary += f" ({hint})"
        elif encrypted:
            summary += " (JWE)"
        # (positionally: keywords cost more to pass, and this is every HTTP request)
        self._message(
            exchange,
            "request",
            "http",
            summary,
            kind,
            encrypted,
            method,
            _redacted(url),
            None,
            headers,
            text,
        )
        return exchange

    def _iso(
        self,
        requester: Party,
        responder: Party,
        body: bytes,
        headers: dict[str, str],
        url: str,
        method: str,
    ) -> Exchange:
        try:
            fields = iso_messages.recorded_fields(body)
        except iso_messages.IsoError as exc:
            # Still a message on the wire: record it (the receiver will refuse it) rather
            # than fail inside the transport and leave no trace of what was sent.
            exchange = Exchange(next(self._exchange_ids), requester, responder, "iso:????")
            self._undecodable(
                exchange, "request", body, f"cannot decode ISO 8583: {exc}", headers, url, method
            )
            return exchange
        exchange = Exchange(next(self._exchange_ids), requester, responder, f"iso:{fields['t']}")
        self._iso_message(exchange, "request", body, fields, headers, url, method)
        return exchange

    def _undecodable(
        self,
        exchange: Exchange,
        direction: Direction,
        body: bytes,
        problem: str,
        headers: dict[str, str],
        url: str | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> None:
        """Bytes sent as ISO 8583 that do not decode. Their raw form is not kept: without
        fields there is no telling where a card number might sit, so nothing could mask it."""
        self._message(
            exchange,
            direction,
            protocol="iso8583",
            summary=f"undecodable ISO 8583 message ({len(body)} bytes)",
            kind="error",
            method=method,
            url=url,
            status=status,
            headers=headers,
            error=_redacted(problem),
        )

    def _iso_message(
        self,
        exchange: Exchange,
        direction: Direction,
        body: bytes,
        fields: dict[str, str],
        headers: dict[str, str],
        url: str | None = None,
        method: str | None = None,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        shown, raw = iso_messages.masked_view(body, fields)
        declined = direction == "response" and fields.get("39", "00") != "00"
        kind = "decline" if declined or error else "iso8583"
        summary = iso_messages.summary(fields)
        # (positionally, as for HTTP messages)
        self._message(
            exchange,
            direction,
            "iso8583",
            summary,
            kind,
            False,
            method,
            url,
            status,
            headers,
            "",
            fields.get("t"),
            shown,
            raw,
            error,
        )

    def response(
        self,
        exchange: Exchange,
        status: int,
        headers: dict[str, str],
        body: bytes,
        error: str | None = None,
    ) -> None:
        headers, _ = _visible(headers)
        if headers.get("content-type", "").startswith(iso_messages.CONTENT_TYPE):
            try:
                fields = iso_messages.recorded_fields(body)
            except iso_messages.IsoError as exc:
                problem = f"cannot decode ISO 8583: {exc}"
                if error:
                    problem = f"{error}; {problem}"
                self._undecodable(exchange, "response", body, problem, headers, status=status)
                return
            self._iso_message(
                exchange, "response", body, fields, headers, status=status, error=error
            )
            return
        text = _redacted(body.decode("utf-8", errors="replace"))
        summary = _STATUS_TEXTS.get(status) or _status_text(status)
        location = headers.get("location")
        if location:
            summary += f" -> {_redacted(location)}"
        else:
            hint = _json_hint(_json_object(text))
            if hint:
                summary += f" ({hint})"
        if error:
            summary += f" [{error}]"
        if status >= 400 or error:
            kind = "error"
        elif 300 <= status < 400:
            kind = "redirect"
        else:
            kind = "response"
        # (positionally: keywords cost more to pass, and this is every HTTP response)
        self._message(
            exchange,
            "response",
            "http",
            summary,
            kind,
            False,
            None,
            None,
            status,
            headers,
            text,
            None,
            None,
            None,
            error,
        )

    def failure(self, exchange: Exchange, error: str) -> None:
        """The caller never got an answer: a timeout, a dropped or reset connection."""
        self._message(
            exchange,
            "response",
            protocol="iso8583" if exchange.operation.startswith("iso:") else "http",
            summary=f"no answer: {error}",
            kind="error",
            error=error,
        )

    def email(self, sender: Party, to: Party, subject: str, body: str) -> None:
        exchange = Exchange(next(self._exchange_ids), sender, to, "EMAIL")
        self._message(
            exchange,
            "request",
            protocol="email",
            summary=f"email: {subject}",
            kind="email",
            headers={"subject": subject},
            body=_redacted(body),
        )


def _visible(headers: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Headers as the trace keeps them: no simulator plumbing, card numbers masked (a
    Location or a Referer can carry one in its query string); and whether they carry a
    notification's signature. Names are in lower case, as httpx and ASGI give them (the
    callers, the capturing transport and middleware, pass them on so): the two names that
    matter are looked up, not found by going through every name. Headers with nothing to
    mask or hide are kept as given, not copied: the callers make the dict for the Recorder
    and give it up. What a trace keeps is memory a run touches for the first time, and the
    copy was one more dict a message."""
    signed = "webhook-signature" in headers
    if all(map(_CLEAN.__contains__, headers.values())):  # most messages: every value known
        if RUN_HEADER not in headers:
            return headers, signed  # kept as it is: the caller gives it up
        visible = headers.copy()
    else:
        visible = {k: v if v in _CLEAN else _redacted(v) for k, v in headers.items()}
    visible.pop(RUN_HEADER, None)
    return visible, signed


# Most of what is masked recurs from one message to the next: header values (hosts,
# content types, user agents), bodies ("200 OK" answers, JSON Web Key Sets), paths. Texts
# that redaction leaves as they are are remembered, so each is scanned once: looking one
# up again costs a hash, where the scan tries a regular expression at every digit. A text
# that needed masking is never kept, so no card number stays in memory here.
_CLEAN: dict[str, None] = {}
_CLEAN_MAX_ENTRIES = 2048
_CLEAN_MAX_LENGTH = 4096  # at most 8 MB remembered


def _redacted(text: str) -> str:
    """`redact(text)`, skipping texts already found clean."""
    if text in _CLEAN:
        return text
    redacted = redact(text)
    if redacted == text and len(text) <= _CLEAN_MAX_LENGTH:
        if len(_CLEAN) >= _CLEAN_MAX_ENTRIES:
            _CLEAN.clear()
        _CLEAN[text] = None
    return redacted
