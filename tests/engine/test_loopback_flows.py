"""The same checkouts over loopback HTTPS: real sockets, a session CA, identical outcomes."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from payviz.engine.cards import TEST_CARDS
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from tests.helpers.engine import run_cli

pytestmark = pytest.mark.loopback


def loopback_run(*args: str) -> dict[str, object]:
    run = run_cli("run", "--transport", "loopback", "--format", "json", *args)
    assert run.status == 0, run.stderr
    assert run.summary["invariants"] == []
    return {"summary": run.summary, "messages": run.messages}


@pytest.mark.parametrize("mode", ["direct", "redirect"])
def test_an_approved_checkout_over_https_is_paid_and_debits_the_card(mode: str) -> None:
    run = loopback_run("--mode", mode, "--decision", "approve")
    summary = run["summary"]
    assert isinstance(summary, dict)
    assert summary["order_status"] == "paid"
    assert summary["bank_response_code"] == "00"
    assert summary["balance_before_minor"] - summary["balance_after_minor"] == 1999
    urls = [m["url"] for m in run["messages"] if isinstance(m, dict) and m["url"]]
    assert urls
    assert all(url.startswith("https://127.0.0.1:") for url in urls)


@pytest.mark.parametrize("card", [c for c in TEST_CARDS if c.decision != "approve"], ids=str)
def test_every_decline_card_gives_its_code_over_https(card: object) -> None:
    number, code = card.number, card.response_code  # type: ignore[attr-defined]
    summary = loopback_run("--card", number)["summary"]
    assert isinstance(summary, dict)
    assert (summary["order_status"], summary["bank_response_code"]) == ("failed", code)
    assert summary["balance_after_minor"] == summary["balance_before_minor"]


def test_a_silent_bank_over_https_is_reversed() -> None:
    run = loopback_run("--decision", "timeout")
    summary, messages = run["summary"], run["messages"]
    assert isinstance(summary, dict)
    assert isinstance(messages, list)
    assert summary["order_status"] == "failed"
    mtis = [m["mti"] for m in messages if m["mti"]]
    assert "0420" in mtis
    assert "0430" in mtis
    assert mtis.index("0100") < mtis.index("0420") < mtis.index("0430")


def test_actors_listen_on_loopback_and_refuse_clients_without_the_session_ca() -> None:
    async def probe() -> tuple[list[str], int, BaseException | None]:
        async with Session(transport="loopback") as session:
            result = await session.run_checkout(Scenario())
            assert result.order_status == "paid"
            network = session.world.network
            urls = [network.url(p) for p in ("merchant", "gateway", "processor", "bank")]
            trusted = ssl.create_default_context(cadata=network.ca_cert_pem)
            async with httpx.AsyncClient(verify=trusted) as client:
                status = (await client.get(network.url("merchant", "/"))).status_code
            refused: BaseException | None = None
            async with httpx.AsyncClient() as stranger:  # the system's CAs, not the session's
                try:
                    await stranger.get(network.url("merchant", "/"))
                except httpx.ConnectError as exc:
                    refused = exc
            return urls, status, refused

    urls, status, refused = asyncio.run(probe())
    assert all(url.startswith("https://127.0.0.1:") for url in urls)
    assert len({url.rsplit(":", 1)[1] for url in urls}) == 4, "one port per actor"
    assert status == 200
    assert refused is not None
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused)
