"""What the inspector shows about one message, computed from the trace and the key log.

Pure data, no Qt: the inspector widget only lays these views out. Every check here reuses
the engine's own code (payviz.engine.jwe, payviz.engine.webhooks), so what the UI calls
"verified" is exactly what the receiving actor decided.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

from payviz.engine import return_url
from payviz.engine.cards import RESPONSE_CODES, redact
from payviz.engine.iso_messages import MTI_NAMES, field_name
from payviz.engine.jwe import (
    Decrypter,
    JweError,
    KeyPair,
    looks_like_jwe,
    protected_header,
    split_compact,
)
from payviz.engine.money import CURRENCIES, format_minor
from payviz.engine.trace import Message
from payviz.engine.webhooks import SignatureError, Verifier

Keylog = Mapping[str, Any]
T = TypeVar("T")

_TAG_BREAK = re.compile(r">\s*<(?!/)")
_WEBHOOKS = "Standard Webhooks"
_RETURN = "signed return URL"
JWE_PART_NAMES = ("protected header", "encrypted key", "initialization vector", "ciphertext", "tag")


@dataclass(frozen=True, slots=True)
class BodyView:
    """A body made readable: pretty JSON, form fields, HTML source or plain text."""

    kind: Literal["json", "form", "html", "text", "empty"]
    text: str
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class JweView:
    """A compact JWE taken apart, and opened with the key log when it holds the key."""

    parts: tuple[tuple[str, str], ...]
    header: dict[str, Any]
    ciphertext: str
    plaintext: str | None
    readers: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureView:
    """A signature checked with the receiver's secret, as the receiver checks it.

    Attributes:
        scheme: "Standard Webhooks" (notifications) or "signed return URL" (redirects).
        msg_id, timestamp: the webhook-id and webhook-timestamp ("" for a return URL).
    """

    scheme: str
    msg_id: str
    timestamp: str
    signed_content: str
    expected: str
    received: str
    verified: bool
    reason: str
    receiver: str


@dataclass(frozen=True, slots=True)
class IsoRow:
    """One ISO 8583 field: number, name in the spec, value and what the value means."""

    number: str
    name: str
    value: str
    meaning: str = ""


def summary_rows(message: Message) -> list[tuple[str, str]]:
    """The few facts a student needs first: who, what, when and how it ended."""
    rows = [
        ("Message", f"#{message.seq} of checkout {message.checkout} ({message.mode})"),
        ("From -> to", f"{message.src} -> {message.dst}"),
        ("Step", f"{message.step}: {message.title}"),
        ("What", message.summary),
        *([("URL", message.url)] if message.url else []),
        ("Kind", _kind(message)),
        ("Time", f"{message.ts:.3f} s after the session started"),
    ]
    if message.status is not None:
        rows.append(("Status", _status_line(message.status)))
    if message.mti is not None:
        rows.append(("MTI", f"{message.mti} {MTI_NAMES.get(message.mti, '')}".rstrip()))
    if message.encrypted:
        rows.append(("Encrypted", "yes: the card travels as a JWE (see Encryption)"))
    if message.error:
        rows.append(("Error", message.error))
    return rows


def body_view(message: Message) -> BodyView:
    """The body formatted by its content type."""
    body = message.body
    if not body.strip():
        return BodyView("empty", "")
    ctype = _header(message, "content-type").lower()
    if "json" in ctype or body.lstrip().startswith(("{", "[")):
        try:
            return BodyView("json", json.dumps(json.loads(body), indent=2, ensure_ascii=False))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in ctype:
        fields = tuple(parse_qsl(body, keep_blank_values=True))
        return BodyView("form", "\n".join(f"{k} = {v}" for k, v in fields), fields)
    if "html" in ctype or body.lstrip().lower().startswith(("<!doctype", "<html")):
        return BodyView("html", _TAG_BREAK.sub(">\n<", body))  # one element per line
    return BodyView("text", body)


def find_jwe(message: Message) -> str | None:
    """The first compact JWE among the body's JSON string values, if there is one."""
    try:
        data = json.loads(message.body)
    except ValueError:
        return None
    stack: list[Any] = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, str) and looks_like_jwe(item):
            return item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def jwe_view(message: Message, keylog: Keylog) -> JweView | None:
    """The five parts, the decoded header and the plaintext as the processor reads it."""
    token = find_jwe(message)
    if token is None:
        return None
    parts = tuple(zip(JWE_PART_NAMES, split_compact(token), strict=True))
    try:
        header = protected_header(token)
    except JweError as exc:
        return JweView(parts, {}, parts[3][1], None, "", str(exc))
    kid = str(header.get("kid", ""))
    entry = next((k for k in keylog.get("jwe_keys", []) if k.get("kid") == kid), None)
    owner = str(entry.get("owner", "processor")) if entry else "processor"
    readers = (
        f"The {message.src} sealed the card with the {owner}'s public key (kid {kid[:12]}...). "
        f"Only the {owner}, holder of the matching private key, can open it; the {message.src} "
        f"itself and every hop on the way see only ciphertext."
    )
    if entry is None:
        return JweView(parts, header, parts[3][1], None, readers, "the key log has no such key")
    pair = KeyPair(kid, str(entry["private_key_pem"]), "")
    try:
        plain = Decrypter(pair).open(token)
    except JweError as exc:
        return JweView(parts, header, parts[3][1], None, readers, str(exc))
    # The screen is a persisted surface too: the PAN shows masked, the CVC hidden.
    text = redact(json.dumps(plain, indent=2, ensure_ascii=False))
    return JweView(parts, header, parts[3][1], text, readers)


class _FixedClock:
    """A clock stopped at the moment the message was on the wire."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        return None

    async def within(self, awaitable: Awaitable[T], timeout: float) -> T:  # noqa: ASYNC109
        return await awaitable


def signature_view(
    message: Message, keylog: Keylog, started: float | None = None
) -> SignatureView | None:
    """Check a signed notification as its receiver does, at the time it was sent.

    `started` is the Unix time the trace's clock started (messages carry times relative to
    it); without it only the signature is judged, not the timestamp's age.
    """
    received = _header(message, "webhook-signature")
    if not received:
        return _return_url_view(message, keylog)
    msg_id = _header(message, "webhook-id")
    stamp = _header(message, "webhook-timestamp")

    def view(expected: str, verified: bool, reason: str) -> SignatureView:
        content = f"{msg_id}.{stamp}.{message.body}"
        return SignatureView(
            _WEBHOOKS, msg_id, stamp, content, expected, received, verified, reason, message.dst
        )

    secret = keylog.get("webhook_secrets", {}).get(message.dst)
    if not secret:
        return view("", False, f"the key log holds no secret for the {message.dst}")
    if not stamp.isdigit():
        return view("", False, "webhook-timestamp is not a Unix time")
    when = float(stamp) if started is None else started + message.ts
    verifier = Verifier(secret, _FixedClock(when))
    expected = verifier.expected(msg_id, int(stamp), message.body)
    try:
        verifier.verify(message.body, dict(message.headers))
    except SignatureError as exc:
        return view(expected, False, str(exc))
    reason = f"HMAC-SHA256 with the {message.dst}'s secret matches"
    if started is not None:
        reason += f", sent {when - int(stamp):.0f} s after its timestamp (tolerance 300 s)"
    return view(expected, True, reason)


def _return_url_view(message: Message, keylog: Keylog) -> SignatureView | None:
    """The hosted checkout's return URL: an HMAC over the outcome in its query string."""
    if message.direction != "request" or not message.url:
        return None
    params = dict(parse_qsl(urlsplit(message.url).query, keep_blank_values=True))
    if "sig" not in params:
        return None
    content, received = return_url.canonical(params), params["sig"]
    secret = str(keylog.get("return_url_secret") or "")
    if not secret:
        reason = "the key log holds no return URL secret"
        return SignatureView(_RETURN, "", "", content, "", received, False, reason, message.dst)
    verified = return_url.verify(params, secret)
    reason = (
        "HMAC-SHA256 over the outcome matches; the merchant still confirms it with the "
        "processor, since a URL alone proves little"
        if verified
        else "the sig parameter does not match the outcome in the URL"
    )
    expected = return_url.sign(params, secret)
    return SignatureView(
        _RETURN, "", "", content, expected, received, verified, reason, message.dst
    )


def iso_view(message: Message) -> list[IsoRow]:
    """The ISO 8583 fields in number order, with the MTI first; empty for other messages."""
    if message.protocol != "iso8583" or message.mti is None:
        return []
    rows = [IsoRow("MTI", field_name("t"), message.mti, MTI_NAMES.get(message.mti, ""))]
    numeric = {c.numeric: c.code for c in CURRENCIES.values()}
    for number in sorted(
        message.fields, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0)
    ):
        value = message.fields[number]
        meaning = ""
        if number == "39":
            meaning = RESPONSE_CODES.get(value, "")
        elif number == "4" and value.isdigit() and message.fields.get("49") in numeric:
            meaning = format_minor(int(value), numeric[message.fields["49"]])
        elif number == "49":
            meaning = numeric.get(value, "")
        rows.append(IsoRow(number, field_name(number), value, meaning))
    return rows


def raw_view(message: Message) -> str:
    """The message as it went over the wire: start line, headers, a blank line, the body."""
    if message.protocol == "email":
        lines = [f"From: {message.src}", f"To: {message.dst}"]
        lines += [f"{k.title()}: {v}" for k, v in message.headers.items()]
        return "\n".join(lines) + "\n\n" + message.body
    if message.direction == "request":
        split = urlsplit(message.url or "")
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        start = f"{message.method or 'GET'} {target} HTTP/1.1"
        headers = dict(message.headers)
        if split.netloc and not any(k.lower() == "host" for k in headers):
            headers = {"host": split.netloc, **headers}
    elif message.status is None:
        return f"(no answer on the wire: {message.error or 'nothing came back'})"
    else:
        start = f"HTTP/1.1 {_status_line(message.status)}"
        headers = dict(message.headers)
    body = message.raw if message.protocol == "iso8583" and message.raw else message.body
    lines = [start, *(f"{k}: {v}" for k, v in headers.items())]
    return "\n".join(lines) + "\n\n" + body


def _kind(message: Message) -> str:
    protocol = {"http": "HTTP", "iso8583": "ISO 8583", "email": "email"}[message.protocol]
    extra = "" if message.kind in (message.direction, "iso8583", "email") else f" ({message.kind})"
    return f"{message.direction} over {protocol}{extra}"


def _header(message: Message, name: str) -> str:
    for key, value in message.headers.items():
        if key.lower() == name:
            return value
    return ""


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


__all__ = [
    "BodyView",
    "IsoRow",
    "JweView",
    "SignatureView",
    "body_view",
    "find_jwe",
    "iso_view",
    "jwe_view",
    "raw_view",
    "signature_view",
    "summary_rows",
]
