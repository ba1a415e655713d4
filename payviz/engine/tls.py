"""A certificate authority that lives for one session, so loopback actors speak real HTTPS.

Nothing here is trusted by the system: clients trust the session CA explicitly through
`LocalCA.client_context()`, and the keys never leave the process except as files for
uvicorn, which only accepts paths.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "payviz session CA"
DEFAULT_SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1")
DEFAULT_LIFETIME = timedelta(days=1)
# Certificates start a little in the past so a client whose clock lags ours still accepts them.
_BACKDATE = timedelta(minutes=5)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_private(path: Path, data: bytes) -> None:
    # The key is only for this session, but other local users still have no business reading it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


@dataclass(frozen=True)
class ServerCertificate:
    """A leaf certificate issued by a `LocalCA`, with its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def write(
        self,
        directory: Path,
        *,
        cert_name: str = "server.pem",
        key_name: str = "server-key.pem",
    ) -> tuple[Path, Path]:
        """Write the certificate and key as PEM files; returns (certfile, keyfile)."""
        directory.mkdir(parents=True, exist_ok=True)
        certfile = directory / cert_name
        keyfile = directory / key_name
        certfile.write_text(self.cert_pem, encoding="ascii")
        _write_private(keyfile, self.key_pem.encode("ascii"))
        return certfile, keyfile


class LocalCA:
    """A self-signed CA (EC P-256) that issues server certificates for loopback actors.

    Args:
        common_name: subject CN of the CA certificate.
        lifetime: how long the CA and the certificates it issues stay valid.
    """

    def __init__(
        self, *, common_name: str = CA_COMMON_NAME, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> None:
        self._lifetime = lifetime
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        public_key = self._key.public_key()
        # Strict verifiers (OpenSSL's X509_STRICT, on by default in Python 3.13) insist on
        # critical basicConstraints, keyUsage and a subject key identifier on a CA.
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert(self) -> x509.Certificate:
        return self._cert

    @property
    def ca_cert_pem(self) -> str:
        return self._cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue_server_cert(
        self, names: Iterable[str] = DEFAULT_SERVER_NAMES, *, lifetime: timedelta | None = None
    ) -> ServerCertificate:
        """Issue a serverAuth certificate for `names`; IP literals become IP SANs."""
        unique = list(dict.fromkeys(names))
        if not unique:
            raise ValueError("a server certificate needs at least one name")
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        # A leaf must not outlive the CA that vouches for it.
        not_after = min(now + (lifetime or self._lifetime), self._cert.not_valid_after_utc)
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unique[0])]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in unique]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return ServerCertificate(cert=cert, key=key)

    def write_ca_cert(self, directory: Path, name: str = "ca.pem") -> Path:
        """Write the CA certificate (never its key) as a PEM file and return its path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(self.ca_cert_pem, encoding="ascii")
        return path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA and nothing else, with hostname checks on."""
        return ssl.create_default_context(cadata=self.ca_cert_pem)


__all__ = ["CA_COMMON_NAME", "DEFAULT_SERVER_NAMES", "LocalCA", "ServerCertificate"]
