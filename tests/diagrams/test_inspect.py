"""What the inspector shows, computed from real checkouts and the session's key log."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from payviz.diagrams import inspect
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import Message


@dataclasses.dataclass
class Run:
    messages: list[Message]
    keylog: dict[str, Any]
    started: float

    def first(self, **match: object) -> Message:
        for message in self.messages:
            if all(getattr(message, k) == v for k, v in match.items()):
                return message
        raise AssertionError(f"no message with {match}")


def _run(scenario: Scenario) -> Run:
    async def go() -> Run:
        session = Session()
        await session.start()
        try:
            await session.run_checkout(scenario)
            started = session.world.recorder.started
            return Run(session.trace.messages(), dict(session.keylog()), started)
        finally:
            await session.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def direct() -> Run:
    return _run(Scenario(mode="direct", notify="async"))


@pytest.fixture(scope="module")
def redirect() -> Run:
    return _run(Scenario(mode="redirect", decision="decline"))


def test_jwe_view_opens_the_card_with_the_processors_key(direct: Run) -> None:
    message = direct.first(src="gateway", dst="processor", direction="request")
    view = inspect.jwe_view(message, direct.keylog)
    assert view is not None
    assert [name for name, _ in view.parts] == list(inspect.JWE_PART_NAMES)
    assert view.header["alg"] == "RSA-OAEP-256"
    assert view.header["enc"] == "A256GCM"
    assert view.ciphertext == view.parts[3][1]
    assert view.plaintext is not None
    assert view.error is None
    card = json.loads(view.plaintext)
    assert card["number"] == "424242******4242"  # opened, and still masked on screen
    assert "4242424242424242" not in view.plaintext
    assert "Only the processor" in view.readers


def test_jwe_view_says_why_without_the_key(direct: Run) -> None:
    message = direct.first(src="gateway", dst="processor", direction="request")
    view = inspect.jwe_view(message, {"jwe_keys": []})
    assert view is not None
    assert view.plaintext is None
    assert view.error == "the key log has no such key"
    assert inspect.jwe_view(direct.first(src="browser"), direct.keylog) is None


def test_notifications_verify_with_the_receivers_secret(direct: Run) -> None:
    notes = [m for m in direct.messages if m.kind == "notification"]
    assert {(m.src, m.dst) for m in notes} == {("processor", "gateway"), ("gateway", "merchant")}
    for message in notes:
        view = inspect.signature_view(message, direct.keylog, direct.started)
        assert view is not None
        assert view.verified, view.reason
        assert view.signed_content == f"{view.msg_id}.{view.timestamp}.{message.body}"
        assert view.expected in view.received.split(" ")
        assert view.receiver == message.dst


def test_a_tampered_notification_does_not_verify(direct: Run) -> None:
    message = direct.first(kind="notification", dst="merchant")
    tampered = dataclasses.replace(message, body=message.body.replace("succeeded", "failed"))
    view = inspect.signature_view(tampered, direct.keylog, direct.started)
    assert view is not None
    assert not view.verified
    assert "no webhook-signature matches" in view.reason
    wrong_key = {"webhook_secrets": {"merchant": direct.keylog["webhook_secrets"]["gateway"]}}
    other = inspect.signature_view(message, wrong_key, direct.started)
    assert other is not None
    assert not other.verified


def test_the_timestamp_is_judged_at_the_message_time_not_now(direct: Run) -> None:
    message = direct.first(kind="notification", dst="merchant")
    on_time = inspect.signature_view(message, direct.keylog, direct.started)
    replayed = inspect.signature_view(message, direct.keylog, direct.started + 900)
    assert on_time is not None
    assert on_time.verified
    assert replayed is not None
    assert not replayed.verified
    assert "old" in replayed.reason


def test_the_signed_return_url_verifies_and_tampering_shows(redirect: Run) -> None:
    message = next(m for m in redirect.messages if m.url and "sig=" in m.url)
    view = inspect.signature_view(message, redirect.keylog)
    assert view is not None
    assert view.verified
    assert view.scheme == "signed return URL"
    assert "status=failed" in view.signed_content
    forged = dataclasses.replace(message, url=message.url.replace("failed", "paid"))
    forged_view = inspect.signature_view(forged, redirect.keylog)
    assert forged_view is not None
    assert not forged_view.verified


def test_iso_view_names_fields_and_explains_the_verdict(redirect: Run) -> None:
    answer = redirect.first(mti="0110")
    rows = {row.number: row for row in inspect.iso_view(answer)}
    assert rows["MTI"].value == "0110"
    assert rows["MTI"].meaning == "authorization response"
    assert rows["39"].value == "05"
    assert rows["39"].meaning == "do not honor"
    request = redirect.first(mti="0100")
    fields = {row.number: row for row in inspect.iso_view(request)}
    assert fields["2"].value == "400000******0002"
    assert fields["4"].meaning == "19.99 USD"
    assert inspect.iso_view(redirect.first(src="browser")) == []


def test_raw_view_shows_the_wire(direct: Run) -> None:
    request = direct.first(src="merchant", dst="gateway", direction="request")
    raw = inspect.raw_view(request)
    assert raw.startswith("POST /v1/payments HTTP/1.1\n")
    assert raw.endswith("\n\n" + request.body)
    response = direct.first(src="merchant", dst="browser", kind="redirect")
    assert inspect.raw_view(response).startswith("HTTP/1.1 303 See Other\n")
    iso = direct.first(mti="0100")
    assert iso.raw is not None
    assert inspect.raw_view(iso).endswith(iso.raw)


def test_body_view_formats_by_content_type(direct: Run) -> None:
    form = direct.first(src="browser", method="POST")
    view = inspect.body_view(form)
    assert view.kind == "form"
    assert dict(view.fields)["cvc"] == "***"
    page = direct.first(src="merchant", dst="browser", status=200)
    assert inspect.body_view(page).kind == "html"
    payment = direct.first(src="merchant", dst="gateway", direction="request")
    assert inspect.body_view(payment).kind == "json"
    assert inspect.body_view(payment).text.startswith("{\n  ")
