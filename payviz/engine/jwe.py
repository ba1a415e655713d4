"""Message-level encryption of card data: compact JWE, RSA-OAEP-256 + A256GCM, with a kid.

As card networks do it, the key id is the SHA-256 of the public key's DER
SubjectPublicKeyInfo, so anyone holding the public key can tell which key a token needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

ALGORITHMS = ["RSA-OAEP-256", "A256GCM"]
HEADER_ALG = "RSA-OAEP-256"
HEADER_ENC = "A256GCM"


class JweError(ValueError):
    """A token that cannot be opened: malformed, the wrong key, or a failed GCM tag."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An RSA key pair owned by one actor; only the public half is ever shared.

    A pair made here (`generate`) also keeps its private key as the object it was made
    as: opening tokens with it needs no PEM read back, and reading a private key's PEM
    checks the key (primality tests, some 70 ms of holding the GIL on this kind of
    machine, a pause in the UI while the engine starts). A pair read from a key log is
    read from its PEM, checked.
    """

    kid: str
    private_pem: str
    public_pem: str
    private_key: rsa.RSAPrivateKey | None = field(default=None, repr=False, compare=False)

    @classmethod
    def generate(cls, bits: int = 2048) -> KeyPair:
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        public_der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return cls(hashlib.sha256(public_der).hexdigest(), private_pem, public_pem, private)


class Encrypter:
    """Seals JSON for the holder of one public key."""

    def __init__(self, kid: str, public_pem: str) -> None:
        self.kid = kid
        self._key = RSAKey.import_key(public_pem)

    def seal(self, payload: dict[str, Any]) -> str:
        header = {"alg": HEADER_ALG, "enc": HEADER_ENC, "kid": self.kid, "cty": "application/json"}
        data = json.dumps(payload, separators=(",", ":")).encode()
        return jwe.encrypt_compact(header, data, self._key, algorithms=ALGORITHMS)


class Decrypter:
    """Opens tokens sealed for its key pair; refuses any other kid or a broken tag."""

    def __init__(self, pair: KeyPair) -> None:
        self.kid = pair.kid
        made = pair.private_key
        self._key = RSAKey.import_key(pair.private_pem if made is None else made)

    def open(self, token: str) -> dict[str, Any]:
        header = protected_header(token)
        if header.get("kid") != self.kid:
            raise JweError(f"token is for key {header.get('kid')!r}, not this processor's key")
        if header.get("alg") != HEADER_ALG or header.get("enc") != HEADER_ENC:
            raise JweError("token must use RSA-OAEP-256 with A256GCM")
        try:
            result = jwe.decrypt_compact(token, self._key, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise JweError(f"decryption failed: {exc.__class__.__name__}") from None
        if result.plaintext is None:
            raise JweError("token has no plaintext")
        try:
            payload = json.loads(result.plaintext)
        except ValueError:
            raise JweError("plaintext is not JSON") from None
        if not isinstance(payload, dict):
            raise JweError("plaintext is not a JSON object")
        return payload


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def split_compact(token: str) -> list[str]:
    """The five dot-separated parts: header, encrypted key, IV, ciphertext, tag."""
    parts = token.split(".")
    if len(parts) != 5:
        raise JweError(f"a compact JWE has 5 parts, this one has {len(parts)}")
    return parts


def protected_header(token: str) -> dict[str, Any]:
    try:
        header = json.loads(_b64url_decode(split_compact(token)[0]))
    except (ValueError, UnicodeDecodeError):
        raise JweError("the protected header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise JweError("the protected header is not a JSON object")
    return header


def looks_like_jwe(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 5 and parts[0].startswith("eyJ") and all(parts[i] for i in (0, 2, 3, 4))
