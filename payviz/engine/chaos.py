"""`payviz chaos`: many randomized checkouts with faults, and the invariants after each.

Every run draws its scenario (mode, notification style, the bank's answer, card, amount,
faults) from a random generator seeded with `seed + index`, so a run that breaks a rule is
reproduced exactly by its seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ._types import DECISIONS, NOTIFY_BY_MODE, Mode
from .faults import ADVERSARIAL_FAULTS, BANK_FAULTS, LINK_FAULTS, Fault
from .invariants import Violation, check
from .scenario import Scenario
from .session import Session
from .world import Secrets

LINKS: dict[Mode, tuple[tuple[str, str], ...]] = {
    "direct": (
        ("browser", "merchant"),
        ("merchant", "gateway"),
        ("gateway", "processor"),
        ("processor", "bank"),
        ("processor", "gateway"),
        ("gateway", "merchant"),
    ),
    "redirect": (
        ("browser", "merchant"),
        ("merchant", "processor"),
        ("browser", "processor"),
        ("processor", "bank"),
        ("processor", "merchant"),
    ),
}


@dataclass(frozen=True, slots=True)
class ChaosRun:
    """One randomized checkout and what it broke."""

    seed: int
    scenario: Scenario
    order_status: str
    violations: tuple[Violation, ...]


@dataclass
class ChaosReport:
    runs: list[ChaosRun] = field(default_factory=list)

    @property
    def violations(self) -> list[ChaosRun]:
        return [run for run in self.runs if run.violations]


def draw_scenario(rng: random.Random) -> Scenario:
    mode: Mode = rng.choice(("direct", "redirect"))
    faults: list[str] = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        kind = rng.random()
        if kind < 0.6:
            name = rng.choice(LINK_FAULTS)
            src, dst = rng.choice(LINKS[mode])
            arg = f"={rng.choice((1, 5, 12, 40))}" if name == "delay" else ""
            faults.append(f"{name}@{src}-{dst}{arg}")
        elif kind < 0.85:
            faults.append(rng.choice(ADVERSARIAL_FAULTS))
        else:
            faults.append(rng.choice(BANK_FAULTS))
    decision = rng.choice((None, None, *DECISIONS))
    return Scenario(
        mode=mode,
        notify=rng.choice(NOTIFY_BY_MODE[mode]),
        decision=decision,
        amount_minor=rng.randint(100, 25_000),
        abandon_after_payment=mode == "redirect" and rng.random() < 0.1,
        faults=tuple(Fault.parse(f).spec() for f in faults),
    )


async def chaos(
    runs: int, seed: int, progress: Callable[[int, ChaosRun], None] | None = None
) -> ChaosReport:
    """Run `runs` randomized checkouts, each in a fresh world (keys made once)."""
    report = ChaosReport()
    keys = Secrets.generate()
    for index in range(runs):
        run_seed = seed + index
        scenario = draw_scenario(random.Random(run_seed))
        async with Session(seed=run_seed, keys=keys) as session:
            result = await session.run_checkout(scenario)
            found = tuple(check(session.world))
        run = ChaosRun(run_seed, scenario, result.order_status, found)
        report.runs.append(run)
        if progress is not None:
            progress(index + 1, run)
    return report
