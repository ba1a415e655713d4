"""ISO 8583 (1987) on the processor <-> bank link, encoded with pyiso8583's ASCII spec.

The messages travel as the body of an HTTP POST (`Content-Type: application/iso8583`), one
message per request, in place of a length-prefixed TCP stream.
"""

from __future__ import annotations

from typing import Any

import iso8583
from iso8583.specs import default_ascii

from .cards import RESPONSE_CODES, mask_pan

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


# The trace records every message (masked and summarised) as it is sent, before the
# receiver has read it. What a message holds is remembered by its exact bytes when it is
# encoded, so the recorder reads the sender's fields instead of running the decoder again
# (a fifth of what recording a checkout cost). The receiver always decodes what it got
# (`decode`), as a real issuer or acquirer would. The cache is small and short-lived: a
# message is recorded within moments of being encoded.
_DECODED: dict[bytes, dict[str, str]] = {}
_DECODED_MAX_ENTRIES = 256
# Fields whose decoded form is their encoded bytes as ASCII text under SPEC: the message
# type, the primary bitmap and the primary fields (the secondary bitmap, field 1, is
# rebuilt from its parts by the decoder and is left to it).
_PLAIN_FIELDS = frozenset(
    key
    for key in ("t", "p", *map(str, range(2, 65)))
    if SPEC[key]["data_enc"] == "ascii"
    and not SPEC[key].get("left_pad")
    and not SPEC[key].get("right_pad")
)


def _remember(raw: bytes, decoded: dict[str, str]) -> None:
    if len(_DECODED) >= _DECODED_MAX_ENTRIES:
        _DECODED.clear()
    _DECODED[raw] = decoded


def encode(fields: dict[str, str]) -> bytes:
    try:
        data, encoded = iso8583.encode(dict(fields), SPEC)
    except iso8583.EncodeError as exc:
        raise IsoError(str(exc)) from None
    raw = bytes(data)
    # The encoder's own record of each field holds the bytes the decoder will read back,
    # in the decoder's order (type, bitmap, fields by number).
    if SPEC["h"]["max_len"] <= 0 and encoded.keys() <= _PLAIN_FIELDS:
        _remember(raw, {key: part["data"].decode("ascii") for key, part in encoded.items()})
    return raw


def decode(raw: bytes) -> dict[str, str]:
    """The fields of a message as its receiver reads them: always through the decoder."""
    try:
        doc, _ = iso8583.decode(bytearray(raw), SPEC)
    except iso8583.DecodeError as exc:
        raise IsoError(str(exc)) from None
    return {str(k): str(v) for k, v in doc.items()}


def recorded_fields(raw: bytes) -> dict[str, str]:
    """The fields of a message for the trace: what its sender encoded into exactly these
    bytes when known, else decoded (bytes changed on the way are decoded as they are)."""
    key = raw if type(raw) is bytes else bytes(raw)
    known = _DECODED.get(key)
    if known is not None:
        return dict(known)
    decoded = decode(key)
    _remember(key, decoded)
    return dict(decoded)


def masked_view(raw: bytes, fields: dict[str, str]) -> tuple[dict[str, str], str]:
    """What the trace shows of a message: its fields but the type and the bitmap, and the
    wire bytes as text (same length, still decodable), field 2 (the PAN) masked in both as
    BIN and last four; nothing else in payviz's messages is secret."""
    shown = {key: value for key, value in fields.items() if key != "t" and key != "p"}
    text = raw.decode("ascii", errors="replace")
    pan = fields.get("2")
    if pan:
        masked = mask_pan(pan)
        shown["2"] = masked
        text = text.replace(pan, masked, 1)
    return shown, text


def summary(fields: dict[str, str], amount_text: str | None = None) -> str:
    mti = fields.get("t", "????")
    code = fields.get("39")
    if code is None and amount_text:
        return f"{mti} {MTI_NAMES.get(mti, 'message')} {amount_text}"
    known = _SUMMARIES.get((mti, code))
    if known is None:
        parts = [mti, MTI_NAMES.get(mti, "message")]
        if code is not None:
            parts.append(f"39={code} {RESPONSE_CODES.get(code, '')}".rstrip())
        known = " ".join(parts)
        if len(_SUMMARIES) < 1024:
            _SUMMARIES[(mti, code)] = known
    return known


# A summary depends on the type and the response code only: the few there are, remembered.
_SUMMARIES: dict[tuple[str, str | None], str] = {}
