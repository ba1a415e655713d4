"""With the key log, outside tools verify every message of a trace: JWE, webhooks, ISO 8583."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import iso8583
import iso8583.specs
import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwe, jwk
from standardwebhooks import Webhook, WebhookVerificationError

from payviz.engine.trace import Message, read_trace
from tests.helpers.engine import APPROVED_CARD, run_cli


@dataclass(frozen=True)
class Recorded:
    trace_text: str
    messages: list[Message]
    keylog: dict[str, Any]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    folder = tmp_path_factory.mktemp("keylog")
    trace, keys = folder / "trace.jsonl", folder / "keys.json"
    run = run_cli(
        "run",
        "--decision",
        "approve",
        "--format",
        "json",
        "--trace",
        str(trace),
        "--keylog",
        str(keys),
    )
    assert run.status == 0, run.stderr
    messages = [r for r in read_trace(trace) if isinstance(r, Message)]
    return Recorded(
        trace.read_text(encoding="utf-8"), messages, json.loads(keys.read_text(encoding="utf-8"))
    )


def _private_key(keylog: dict[str, Any], kid: str) -> jwk.JWK:
    [entry] = [k for k in keylog["jwe_keys"] if k["kid"] == kid]
    return jwk.JWK.from_pem(entry["private_key_pem"].encode())


def test_the_trace_never_shows_the_card_in_clear(recorded: Recorded) -> None:
    assert APPROVED_CARD not in recorded.trace_text
    assert "424242******4242" in recorded.trace_text, "the card shows as BIN and last four"


def test_jwcrypto_opens_the_jwe_with_the_logged_key_and_finds_the_card(
    recorded: Recorded,
) -> None:
    [sealed] = [m for m in recorded.messages if m.encrypted]
    assert (sealed.src, sealed.dst) == ("gateway", "processor")
    token = json.loads(sealed.body)["payment"]
    envelope = jwe.JWE()
    envelope.deserialize(token)
    header = envelope.jose_header
    assert (header["alg"], header["enc"]) == ("RSA-OAEP-256", "A256GCM")
    envelope.decrypt(_private_key(recorded.keylog, header["kid"]))
    card = json.loads(envelope.payload)
    assert card["number"] == APPROVED_CARD
    assert card["number"] not in sealed.body


def test_the_kid_is_the_sha256_of_the_public_key(recorded: Recorded) -> None:
    for entry in recorded.keylog["jwe_keys"]:
        private = serialization.load_pem_private_key(
            entry["private_key_pem"].encode(), password=None
        )
        der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert entry["kid"] == hashlib.sha256(der).hexdigest()


def test_standardwebhooks_verifies_every_notification(recorded: Recorded) -> None:
    notes = [m for m in recorded.messages if "webhook-signature" in m.headers]
    assert {(m.src, m.dst) for m in notes} == {("processor", "gateway"), ("gateway", "merchant")}
    for note in notes:
        secret = recorded.keylog["webhook_secrets"][note.dst]
        assert secret.startswith("whsec_")
        event = Webhook(secret).verify(note.body, note.headers)
        assert event == json.loads(note.body)


def test_a_notification_does_not_verify_with_the_other_receivers_secret(
    recorded: Recorded,
) -> None:
    note = next(m for m in recorded.messages if "webhook-signature" in m.headers)
    other = next(s for r, s in recorded.keylog["webhook_secrets"].items() if r != note.dst)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(note.body, note.headers)


def test_pyiso8583_decodes_every_bank_message_as_shown(recorded: Recorded) -> None:
    bank = [m for m in recorded.messages if m.protocol == "iso8583"]
    assert [m.mti for m in bank] == ["0100", "0110", "0220", "0230"]
    for message in bank:
        assert message.raw is not None
        doc, _ = iso8583.decode(message.raw.encode(), iso8583.specs.default_ascii)
        assert doc["t"] == message.mti
        assert {k: v for k, v in doc.items() if k not in ("t", "p")} == message.fields
        assert doc["2"] == "424242******4242", "field 2 is masked in place"


def test_bank_messages_travel_as_iso8583_http_bodies(recorded: Recorded) -> None:
    requests = [m for m in recorded.messages if m.protocol == "iso8583" and m.method]
    for request in requests:
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/iso8583"
        assert request.body == ""


def test_the_run_header_is_stripped(recorded: Recorded) -> None:
    assert "x-payviz-run" not in recorded.trace_text


def test_the_keylog_has_every_secret(recorded: Recorded) -> None:
    keylog = recorded.keylog
    assert set(keylog) == {"jwe_keys", "webhook_secrets", "return_url_secret", "ca_cert_pem"}
    assert set(keylog["webhook_secrets"]) == {"gateway", "merchant"}
    assert keylog["return_url_secret"].startswith("whsec_")
    assert keylog["ca_cert_pem"] is None, "in-process runs have no TLS"


def test_the_trace_file_starts_with_a_schema_header(recorded: Recorded) -> None:
    header = json.loads(recorded.trace_text.splitlines()[0])
    assert header == {"type": "header", "schema": 1, "generator": "payviz"}
    kinds = {json.loads(line)["type"] for line in recorded.trace_text.splitlines()[1:]}
    assert kinds == {"message", "state"}
