"""The engine's guarantees, checked after every run.

Whatever faults were injected, money is conserved, nothing is captured without an approval
or twice, every order reaches an end (or says why it could not), and every authorization
is captured, reversed or expired: a hold is never left orphaned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cards import mask_pan
from .trace import Message

if TYPE_CHECKING:
    from .world import World

INVARIANT_COUNT = 5  # money conserved, capture after approval, once, orders end, holds end


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule, with what was seen."""

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def check(world: World, messages: list[Message] | None = None) -> list[Violation]:
    """Every invariant over the world's final state and its trace; [] when all hold."""
    messages = world.trace.messages() if messages is None else messages
    found: list[Violation] = []
    found += _money_conserved(world)
    found += _captures_follow_approvals(world, messages)
    found += _orders_resolved(world)
    found += _no_orphaned_holds(world)
    return found


def _money_conserved(world: World) -> list[Violation]:
    debits = world.bank.debits()
    captured = sum(
        a.amount_minor for a in world.processor.authorizations.values() if a.status == "captured"
    )
    paid = world.orders.paid_total()
    if debits == captured == paid:
        return []
    return [
        Violation(
            "money is conserved",
            f"bank debits {debits}, processor captures {captured}, paid orders {paid}",
        )
    ]


def _captures_follow_approvals(world: World, messages: list[Message]) -> list[Violation]:
    found: list[Violation] = []
    approved: set[str] = set()
    for message in messages:
        if message.protocol != "iso8583" or message.direction != "response" or message.error:
            continue
        if message.mti == "0110" and message.fields.get("39") == "00":
            approved.add(message.fields.get("11", ""))
    debits = Counter(e.stan for e in world.bank.ledger if e.kind == "debit")
    for stan, count in debits.items():
        if stan not in approved:
            found.append(
                Violation("no capture without an approval", f"STAN {stan} was debited unseen")
            )
        if count > 1:
            found.append(Violation("no double capture", f"STAN {stan} was debited {count} times"))
    return found


def _orders_resolved(world: World) -> list[Violation]:
    pending = world.orders.unresolved()
    return [
        Violation("every order ends paid or failed", f"order {order_id} is still pending")
        for order_id, reason in pending
        if not reason
    ]


def _no_orphaned_holds(world: World) -> list[Violation]:
    found: list[Violation] = []
    for account in world.bank.accounts.values():
        for stan, amount in account.holds.items():
            found.append(
                Violation(
                    "every authorization ends captured, reversed or expired",
                    f"STAN {stan} still holds {amount} on {mask_pan(account.pan)}",
                )
            )
    return found
