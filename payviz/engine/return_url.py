"""The signed return URL of hosted checkout.

The processor sends the customer back with the outcome in the query string and an
HMAC-SHA256 over it. Anyone can edit a URL, so the merchant checks the signature in
constant time and, even then, confirms the outcome with the processor before trusting it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

SIGNED_FIELDS = ("session_id", "order_id", "status", "code")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def canonical(params: dict[str, str]) -> str:
    return urlencode([(name, params.get(name, "")) for name in SIGNED_FIELDS])


def sign(params: dict[str, str], secret: str) -> str:
    return hmac.new(_key(secret), canonical(params).encode(), hashlib.sha256).hexdigest()


def signed_query(params: dict[str, str], secret: str) -> str:
    return canonical(params) + "&sig=" + sign(params, secret)


def verify(params: dict[str, str], secret: str) -> bool:
    given = params.get("sig", "")
    return hmac.compare_digest(sign(params, secret).encode(), given.encode())
