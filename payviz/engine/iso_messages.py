"""ISO 8583 (1987) on the processor <-> bank link, encoded with pyiso8583's ASCII spec.

The messages travel as the body of an HTTP POST (`Content-Type: application/iso8583`), one
message per request, in place of a length-prefixed TCP stream.
"""

from __future__ import annotations

from typing import Any

import iso8583
from iso8583.specs import default_ascii

from .cards import mask_pan

SPEC: dict[str, dict[str, Any]] = default_ascii
CONTENT_TYPE = "application/iso8583"

MTI_NAMES: dict[str, str] = {
    "0100": "authorization request",
    "0110": "authorization response",
    "0200": "financial request",
    "0210": "financial response",
    "0220": "completion advice (capture)",
    "0221": "completion advice repeat",
    "0230": "completion advice response",
    "0400": "reversal request",
    "0410": "reversal response",
    "0420": "reversal advice",
    "0421": "reversal advice repeat",
    "0430": "reversal advice response",
}

RESPONSE_MTI: dict[str, str] = {
    "0100": "0110",
    "0200": "0210",
    "0220": "0230",
    "0221": "0230",
    "0400": "0410",
    "0420": "0430",
    "0421": "0430",
}


class IsoError(ValueError):
    """Bytes that are not a well-formed ISO 8583 message under the ASCII spec."""


def field_name(number: str) -> str:
    if number == "t":
        return "Message Type Indicator"
    if number == "p":
        return "Primary Bitmap"
    spec = SPEC.get(number)
    return str(spec["desc"]) if spec else f"Field {number}"


def encode(fields: dict[str, str]) -> bytes:
    try:
        raw, _ = iso8583.encode(dict(fields), SPEC)
    except iso8583.EncodeError as exc:
        raise IsoError(str(exc)) from None
    return bytes(raw)


def decode(raw: bytes) -> dict[str, str]:
    try:
        doc, _ = iso8583.decode(bytearray(raw), SPEC)
    except iso8583.DecodeError as exc:
        raise IsoError(str(exc)) from None
    return {str(k): str(v) for k, v in doc.items()}


def mask_fields(fields: dict[str, str]) -> dict[str, str]:
    """Field 2 (PAN) as BIN and last four; nothing else in payviz's messages is secret."""
    if "2" in fields:
        return {**fields, "2": mask_pan(fields["2"])}
    return dict(fields)


def mask_raw(raw: bytes, fields: dict[str, str]) -> str:
    """The wire bytes as text with the PAN masked in place (same length, still decodable)."""
    text = raw.decode("ascii", errors="replace")
    pan = fields.get("2")
    if pan:
        text = text.replace(pan, mask_pan(pan), 1)
    return text


def summary(fields: dict[str, str], amount_text: str | None = None) -> str:
    mti = fields.get("t", "????")
    parts = [mti, MTI_NAMES.get(mti, "message")]
    if "39" in fields:
        from .cards import RESPONSE_CODES

        parts.append(f"39={fields['39']} {RESPONSE_CODES.get(fields['39'], '')}".rstrip())
    elif amount_text:
        parts.append(amount_text)
    return " ".join(parts)
