"""`payviz chaos`: randomized faulty checkouts end with every invariant holding, and the
checker really does fail when the engine breaks a rule."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable

import pytest

from payviz.cli import main
from payviz.engine.actors.bank import Bank, LedgerEntry
from payviz.engine.actors.merchant_db import Order
from payviz.engine.chaos import draw_scenario
from payviz.engine.invariants import Violation, check
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.world import World

FINAL_LINE = re.compile(
    r"^chaos: (?P<runs>\d+) runs in [\d.]+ s \(\d+/s\), (?P<paid>\d+) paid, "
    r"(?P<broken>\d+) with invariant violations$"
)


def test_sixty_chaos_runs_break_no_invariant(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["chaos", "--runs", "60", "--seed", "1"])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert status == 0
    assert len(lines) == 1, captured.out  # no run listed as broken
    final = FINAL_LINE.match(lines[-1])
    assert final is not None, lines[-1]
    assert final["runs"] == "60"
    assert final["broken"] == "0"
    assert 0 < int(final["paid"]) < 60
    assert "60/60 runs, 0 broken" in captured.err


def _clean_seed() -> int:
    """The first seed whose chaos scenario is an ordinary approved purchase, no faults."""
    for seed in range(1, 1000):
        scenario = draw_scenario(random.Random(seed))
        if (
            not scenario.faults
            and scenario.decision in (None, "approve")
            and not scenario.abandon_after_payment
        ):
            return seed
    raise AssertionError("no clean scenario among the first 1000 seeds")


def test_chaos_reports_a_bank_that_debits_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    complete = Bank._complete

    def debit_twice(self: Bank, fields: dict[str, str]) -> dict[str, str]:
        reply = complete(self, fields)
        if reply["39"] == "00":
            account = self.accounts[fields["2"]]
            amount = int(fields["4"])
            account.balance_minor -= amount
            self._book(account, "debit", amount, fields["11"])
        return reply

    monkeypatch.setattr(Bank, "_complete", debit_twice)
    seed = _clean_seed()
    status = main(["chaos", "--runs", "1", "--seed", str(seed)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert lines[0].startswith(f"seed {seed}: ")
    assert "order paid" in lines[0]
    broken = "\n".join(lines[1:-1])
    assert "no double capture" in broken
    assert "money is conserved" in broken
    final = FINAL_LINE.match(lines[-1])
    assert final is not None
    assert final["broken"] == "1"


# -- the checker on a world whose books are corrupted after a clean run -----------------------


def _extra_debit(world: World) -> None:
    entry = next(e for e in world.bank.ledger if e.kind == "debit")
    world.bank.ledger.append(
        LedgerEntry(entry.at, entry.pan, "debit", entry.amount_minor, entry.stan)
    )


def _debit_nobody_approved(world: World) -> None:
    entry = next(e for e in world.bank.ledger if e.kind == "debit")
    world.bank.ledger.append(LedgerEntry(entry.at, entry.pan, "debit", 1, "999999"))


def _orphaned_hold(world: World) -> None:
    next(iter(world.bank.accounts.values())).holds["999999"] = 1999


def _order_left_pending(world: World) -> None:
    stray = Order("ord_stray", 1999, "USD", "x@example.com", "direct", "pending", *[None] * 4)
    world.orders.create(stray, world.clock.now())


def _capture_forgotten(world: World) -> None:
    auth = next(iter(world.processor.authorizations.values()))
    auth.status = "failed"


@pytest.mark.parametrize(
    ("corrupt", "rules"),
    [
        (_extra_debit, {"no double capture", "money is conserved"}),
        (_debit_nobody_approved, {"no capture without an approval", "money is conserved"}),
        (_orphaned_hold, {"every authorization ends captured, reversed or expired"}),
        (_order_left_pending, {"every order ends paid or failed"}),
        (_capture_forgotten, {"money is conserved"}),
    ],
    ids=["double-debit", "unapproved-debit", "orphaned-hold", "pending-order", "lost-capture"],
)
def test_the_checker_fails_on_corrupted_books(
    corrupt: Callable[[World], None], rules: set[str]
) -> None:
    async def go() -> tuple[list[Violation], list[Violation]]:
        async with Session() as session:
            await session.run_checkout(Scenario(mode="direct"))
            before = check(session.world)
            corrupt(session.world)
            return before, check(session.world)

    before, after = asyncio.run(go())
    assert before == []
    assert {v.rule for v in after} == rules
    assert all(v.detail for v in after)
