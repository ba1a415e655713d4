"""One HAR entry, checked and flattened: what `from_har` needs to make messages of it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from payviz.engine.trace import Message

from .trace_io import check_message


@dataclass(frozen=True, slots=True)
class Parsed:
    """The fields of one entry that make its two messages.

    Attributes:
        own: the entry's messages exactly as payviz recorded them, when it carries a valid
            `_payviz` (then the other fields are informative only).
        seconds: how long the exchange took (HAR `time`, in seconds).
        error: why there was no response (status 0), as browsers note it in `_error`.
    """

    started: datetime | None
    seconds: float
    method: str
    url: str
    netloc: str
    host: str
    path: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    status_text: str
    response_headers: dict[str, str]
    response_body: str
    error: str
    own: tuple[Message, ...] | None = None

    @property
    def user_agent(self) -> str:
        return _header(self.request_headers, "user-agent")

    @property
    def location(self) -> str:
        return _header(self.response_headers, "location")


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _headers(items: Any) -> dict[str, str]:
    """HAR's [{name, value}] as a dict; malformed items are ignored, not fatal."""
    headers: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            headers[item["name"]] = str(item.get("value", ""))
    return headers


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _seconds(entry: dict[str, Any]) -> float:
    time = entry.get("time")
    if isinstance(time, int | float) and not isinstance(time, bool) and time >= 0:
        return float(time) / 1000
    timings = entry.get("timings")
    if isinstance(timings, dict):
        parts = [v for v in timings.values() if isinstance(v, int | float) and v > 0]
        return float(sum(parts)) / 1000
    return 0.0


def _request_body(request: dict[str, Any]) -> str:
    post = request.get("postData")
    if not isinstance(post, dict):
        return ""
    if isinstance(post.get("text"), str):
        return str(post["text"])
    params = [p for p in post.get("params", []) if isinstance(p, dict) and "name" in p]
    return urlencode([(str(p["name"]), str(p.get("value", ""))) for p in params])


def _response_body(response: dict[str, Any]) -> str:
    content = response.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return ""
    text = str(content["text"])
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return text
    return text


def _own(entry: dict[str, Any], parsed: Parsed) -> tuple[Message, ...] | None:
    """The entry's messages from its `_payviz` fields, or None if it has none that fit."""
    request_extra = entry.get("_payviz")
    response_extra = entry["response"].get("_payviz")
    if not isinstance(request_extra, dict):
        return None
    try:
        messages = [
            Message(
                **{
                    **request_extra,
                    "method": parsed.method,
                    "url": parsed.url,
                    "headers": parsed.request_headers,
                    "body": parsed.request_body,
                }
            )
        ]
        if isinstance(response_extra, dict):
            status = parsed.status or None
            messages.append(
                Message(
                    **{
                        **response_extra,
                        "status": status,
                        "headers": parsed.response_headers,
                        "body": parsed.response_body,
                    }
                )
            )
    except (TypeError, ValueError):
        return None
    if any(check_message(m) for m in messages):
        return None
    return tuple(messages)


def parse_entry(entry: Any) -> Parsed | str:
    """The entry's fields, or why it cannot be read (a missing or malformed required field)."""
    if not isinstance(entry, dict):
        return "not an object"
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict):
        return "request missing"
    if not isinstance(response, dict):
        return "response missing"
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not method:
        return "request.method missing"
    if not isinstance(url, str) or not url:
        return "request.url missing"
    parts = urlsplit(url)
    if not parts.hostname:
        return f"request.url is not absolute: {url[:60]!r}"
    if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status < 1000:
        return "response.status missing or not a number"
    error = response.get("_error")
    parsed = Parsed(
        started=_date(entry.get("startedDateTime")),
        seconds=_seconds(entry),
        method=method.upper(),
        url=url,
        netloc=parts.netloc.rsplit("@", 1)[-1],
        host=parts.hostname,
        path=parts.path or "/",
        request_headers=_headers(request.get("headers")),
        request_body=_request_body(request),
        status=status,
        status_text=str(response.get("statusText") or ""),
        response_headers=_headers(response.get("headers")),
        response_body=_response_body(response),
        error=str(error) if error else "",
    )
    own = _own(entry, parsed)
    return parsed if own is None else replace(parsed, own=own)


__all__ = ["Parsed", "parse_entry"]
