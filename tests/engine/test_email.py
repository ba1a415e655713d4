"""A paid order sends one confirmation email: in the merchant's outbox and in the trace."""

from __future__ import annotations

import pytest

from tests.helpers.engine import run_cli


@pytest.mark.parametrize("mode", ["direct", "redirect"])
def test_a_paid_order_sends_one_confirmation_email(mode: str) -> None:
    run = run_cli("run", "--mode", mode, "--format", "json")
    assert run.status == 0, run.stderr
    emails = [m for m in run.messages if m["protocol"] == "email"]
    assert len(emails) == 1
    [email] = emails
    assert (email["src"], email["dst"]) == ("merchant", "browser")
    assert run.summary["order_id"] in email["headers"]["subject"]
    assert "19.99 USD" in email["body"]
    assert "4242424242424242" not in email["body"]


def test_a_declined_order_sends_no_email() -> None:
    run = run_cli("run", "--decision", "decline", "--format", "json")
    assert run.summary["order_status"] == "failed"
    assert not [m for m in run.messages if m["protocol"] == "email"]
