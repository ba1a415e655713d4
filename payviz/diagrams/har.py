"""HAR 1.2: payviz's messages as an HTTP Archive, and any HAR back as payviz messages.

A HAR opens in a browser's developer tools, in proxies and in HAR viewers, so a checkout
recorded by payviz can be studied with the same tools as a real one. Each HTTP exchange (a
request and its response, matched by the message field `exchange`) is one entry.

Nothing of the trace is lost on the way: every entry carries `_payviz` (the request's trace
fields that HAR has no place for: step, title, src, dst, checkout, mode, seq, kind, ...) and
its response `response._payviz` likewise; messages that are not HTTP (ISO 8583 exchanges,
emails) and HTTP messages without a partner are kept whole in `log._payviz_other`, and the
actors' state changes in `log._payviz_states`. `from_har` puts them all back, so
payviz -> HAR -> payviz gives the same trace. Custom fields start with an underscore, as
the HAR 1.2 specification allows, and other tools ignore them.

`from_har` also reads HARs that payviz did not write (saved from a browser's developer
tools): see `_har_import`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from payviz import __version__
from payviz.engine.trace import SCHEMA_VERSION, Message, Record, StateChange

from ._har_import import HarFormatError, ImportResult, from_har, guess_party, parse_host_map

HAR_VERSION: Final[str] = "1.2"
HTTP_VERSION: Final[str] = "HTTP/1.1"

# Trace times are seconds since the session began (on a virtual clock in most runs); a HAR
# needs dates. Exports are reproducible unless the caller gives the real start.
DEFAULT_START: Final[datetime] = datetime(2000, 1, 1, tzinfo=UTC)

# What the standard HAR fields already hold; everything else of a message goes to _payviz.
_IN_REQUEST: Final = frozenset({"method", "url", "headers", "body", "type"})
_IN_RESPONSE: Final = frozenset({"status", "headers", "body", "type"})


def status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def har_date(start: datetime, seconds: float) -> str:
    """ISO 8601 with milliseconds and 'Z', as browsers write startedDateTime."""
    moment = (start + timedelta(seconds=seconds)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pairs(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in values.items()]


def _header(headers: dict[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def _request_cookies(headers: dict[str, str]) -> list[dict[str, str]]:
    cookies = []
    for part in _header(headers, "cookie").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies.append({"name": name, "value": value})
    return cookies


def _response_cookies(headers: dict[str, str]) -> list[dict[str, Any]]:
    raw = _header(headers, "set-cookie")
    if not raw:
        return []
    first, *attributes = (part.strip() for part in raw.split(";"))
    name, _, value = first.partition("=")
    cookie: dict[str, Any] = {"name": name, "value": value}
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        key = key.lower()
        if key in ("path", "domain", "expires"):
            cookie[key] = val
        elif key in ("httponly", "secure"):
            cookie["httpOnly" if key == "httponly" else "secure"] = True
    return [cookie]


def _request(message: Message) -> dict[str, Any]:
    url = message.url or ""
    body_size = len(message.body.encode("utf-8"))
    request: dict[str, Any] = {
        "method": message.method or "GET",
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": _request_cookies(message.headers),
        "headers": _pairs(message.headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, True)],
        "headersSize": -1,
        "bodySize": body_size,
    }
    if message.body:
        request["postData"] = {
            "mimeType": _header(message.headers, "content-type"),
            "text": message.body,
        }
    return request


def _response(message: Message | None) -> dict[str, Any]:
    if message is None:  # the trace ends before the answer: HAR's "no response" is status 0
        headers: dict[str, str] = {}
        status, body = 0, ""
    else:
        headers, status, body = message.headers, message.status or 0, message.body
    size = len(body.encode("utf-8"))
    response: dict[str, Any] = {
        "status": status,
        "statusText": status_text(status) if status else "",
        "httpVersion": HTTP_VERSION,
        "cookies": _response_cookies(headers),
        "headers": _pairs(headers),
        "content": {
            "size": size,
            "mimeType": _header(headers, "content-type") or "x-unknown",
            "text": body,
        },
        "redirectURL": _header(headers, "location"),
        "headersSize": -1,
        "bodySize": size if message is not None else -1,
    }
    if message is not None:
        response["_payviz"] = _extra(message, _IN_RESPONSE)
    return response


def _extra(message: Message, kept: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in message.to_json().items() if k not in kept}


def _entry(request: Message, response: Message | None, start: datetime) -> dict[str, Any]:
    elapsed = max(0.0, response.ts - request.ts) if response is not None else 0.0
    millis = round(elapsed * 1000, 3)
    return {
        "startedDateTime": har_date(start, request.ts),
        "time": millis,
        "request": _request(request),
        "response": _response(response),
        "cache": {},
        "timings": {"send": 0, "wait": millis, "receive": 0},
        "_payviz": _extra(request, _IN_REQUEST),
    }


def to_har(
    messages: Iterable[Record], *, started: datetime | None = None, version: str = __version__
) -> dict[str, Any]:
    """A HAR 1.2 document (a JSON-ready dict) of the messages, one entry per HTTP exchange.

    `messages` may be a whole trace: state changes go to `log._payviz_states`. `started` is
    the wall-clock time of `ts == 0` (default `DEFAULT_START`).
    """
    start = started or DEFAULT_START
    records = list(messages)
    http = [r for r in records if isinstance(r, Message) and r.protocol == "http"]
    requests: dict[int, Message] = {}
    responses: dict[int, Message] = {}
    other: list[Message] = [r for r in records if isinstance(r, Message) and r.protocol != "http"]
    for message in http:
        table = requests if message.direction == "request" else responses
        if message.exchange in table:
            other.append(message)  # a second message claiming the same exchange
        else:
            table[message.exchange] = message
    other += [m for exchange, m in responses.items() if exchange not in requests]
    entries = [
        _entry(request, responses.get(exchange), start)
        for exchange, request in sorted(requests.items(), key=lambda item: item[1].seq)
    ]
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "payviz", "version": version},
            "entries": entries,
            "comment": "Exported by payviz; _payviz fields keep the trace lossless.",
            "_payviz_schema": SCHEMA_VERSION,
            "_payviz_other": [m.to_json() for m in sorted(other, key=lambda m: m.seq)],
            "_payviz_states": [r.to_json() for r in records if isinstance(r, StateChange)],
        }
    }


__all__ = [
    "DEFAULT_START",
    "HAR_VERSION",
    "HarFormatError",
    "ImportResult",
    "from_har",
    "guess_party",
    "har_date",
    "parse_host_map",
    "status_text",
    "to_har",
]
