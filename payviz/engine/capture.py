"""Capture at the edge: every exchange on the wire becomes Messages in the Trace.

payviz's own clients (actors and the scripted browser) are captured in their transport,
which also sees what never arrives (timeouts, late answers). Requests from anything else
(a real browser pointed at `payviz serve`) are captured by `CaptureMiddleware` on the actor.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from . import iso_messages
from ._types import Direction, Party
from .cards import redact
from .clock import Clock
from .context import CURRENT_RUN, RUN_HEADER
from .jwe import looks_like_jwe
from .steps import classify
from .trace import Message, StateChange, Trace

HIDDEN_HEADERS = {RUN_HEADER}


class Exchange:
    """A request in flight: what its response needs to be classified the same way."""

    __slots__ = ("id", "operation", "requester", "responder")

    def __init__(self, id: int, requester: Party, responder: Party, operation: str) -> None:
        self.id = id
        self.requester = requester
        self.responder = responder
        self.operation = operation


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _json_hint(body: str) -> str:
    """A short hint from a JSON body: its `status`, `type` or `error`, when it has one."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("type", "status", "error"):
        value = data.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
    return ""


class Recorder:
    """Builds Messages and StateChanges and appends them to the trace, thread-safely."""

    def __init__(self, trace: Trace, clock: Clock) -> None:
        self.trace = trace
        self.clock = clock
        self.started = clock.now()
        self._exchange_ids = itertools.count(1)
        self._lock = threading.Lock()

    def _append(self, build: Callable[[int, float], Message | StateChange]) -> None:
        with self._lock:
            self.trace.append(build(self.trace.next_seq(), self.clock.now() - self.started))

    def state(self, party: Party, key: str, value: Any, note: str = "") -> None:
        run = CURRENT_RUN.get()
        self._append(lambda seq, ts: StateChange(seq, ts, run.checkout, party, key, value, note))

    def _message(
        self,
        exchange: Exchange,
        direction: Direction,
        *,
        protocol: str,
        summary: str,
        kind: str,
        **extra: Any,
    ) -> None:
        run = CURRENT_RUN.get()
        step = classify(
            run.mode, exchange.requester, exchange.responder, exchange.operation, direction
        )
        src, dst = (
            (exchange.requester, exchange.responder)
            if direction == "request"
            else (exchange.responder, exchange.requester)
        )
        self._append(
            lambda seq, ts: Message(
                seq=seq,
                ts=round(ts, 6),
                checkout=run.checkout,
                mode=run.mode,
                src=src,
                dst=dst,
                step=step.number,
                title=step.title,
                direction=direction,
                protocol=protocol,  # type: ignore[arg-type]
                exchange=exchange.id,
                summary=summary,
                kind=kind,
                **extra,
            )
        )

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
        headers = {k: v for k, v in headers.items() if k.lower() not in HIDDEN_HEADERS}
        if headers.get("content-type", "").startswith(iso_messages.CONTENT_TYPE):
            return self._iso(requester, responder, body, headers, url, method)
        exchange = Exchange(next(self._exchange_ids), requester, responder, f"{method} {path}")
        text = redact(_text(body))
        encrypted = '"payment"' in text and _contains_jwe(text)
        notification = "webhook-signature" in {k.lower() for k in headers}
        kind = "notification" if notification else ("encrypted" if encrypted else "request")
        summary = f"{method} {path}"
        hint = _json_hint(text)
        if notification and hint:
            summary += f" ({hint})"
        elif encrypted:
            summary += " (JWE)"
        self._message(
            exchange,
            "request",
            protocol="http",
            summary=summary,
            kind=kind,
            encrypted=encrypted,
            method=method,
            url=redact(url),
            headers=headers,
            body=text,
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
        fields = iso_messages.decode(body)
        exchange = Exchange(next(self._exchange_ids), requester, responder, f"iso:{fields['t']}")
        self._iso_message(exchange, "request", body, fields, headers, url, method)
        return exchange

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
        masked = iso_messages.mask_fields(fields)
        declined = direction == "response" and fields.get("39", "00") != "00"
        self._message(
            exchange,
            direction,
            protocol="iso8583",
            summary=iso_messages.summary(fields),
            kind="decline" if declined or error else "iso8583",
            method=method,
            url=url,
            status=status,
            headers=headers,
            mti=fields.get("t"),
            fields={k: v for k, v in masked.items() if k not in ("t", "p")},
            raw=iso_messages.mask_raw(body, fields),
            error=error,
        )

    def response(
        self,
        exchange: Exchange,
        status: int,
        headers: dict[str, str],
        body: bytes,
        error: str | None = None,
    ) -> None:
        headers = {k: v for k, v in headers.items() if k.lower() not in HIDDEN_HEADERS}
        if headers.get("content-type", "").startswith(iso_messages.CONTENT_TYPE):
            fields = iso_messages.decode(body)
            self._iso_message(
                exchange, "response", body, fields, headers, status=status, error=error
            )
            return
        text = redact(_text(body))
        summary = _status_text(status)
        location = headers.get("location")
        if location:
            summary += f" -> {redact(location)}"
        else:
            hint = _json_hint(text)
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
        self._message(
            exchange,
            "response",
            protocol="http",
            summary=summary,
            kind=kind,
            status=status,
            headers=headers,
            body=text,
            error=error,
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
            body=redact(body),
        )


def _contains_jwe(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and looks_like_jwe(str(data.get("payment", "")))
