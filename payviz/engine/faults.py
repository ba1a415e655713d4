"""Faults a scenario can inject, and the plan that fires each of them once.

Spec strings follow the CLI: `NAME[@LINK][=ARG]`, a link being `src-dst`
(`http-500@merchant-gateway`, `delay@processor-bank=12`). Link faults act on the wire, in
the sender's transport; adversarial faults are what an attacker or a careless customer
does; bank faults change what the issuer answers. Each fault fires on the first message it
matches, so a run shows one failure and the defence that copes with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ._types import PARTIES, Mode, Party

LINK_FAULTS = ("drop", "delay", "duplicate", "reorder", "reset", "http-500")
ADVERSARIAL_FAULTS = (
    "tamper-jwe",
    "forge-return",
    "replay-webhook",
    "bad-signature",
    "wrong-api-key",
)
BANK_FAULTS = ("timeout", "unavailable")
FAULT_NAMES = LINK_FAULTS + ADVERSARIAL_FAULTS + BANK_FAULTS

# Where a fault acts when its spec names no link: the link where it teaches most.
DEFAULT_LINKS: dict[Mode, dict[str, tuple[Party, Party]]] = {
    "direct": {
        "drop": ("gateway", "merchant"),
        "delay": ("processor", "bank"),
        "duplicate": ("gateway", "merchant"),
        "reorder": ("gateway", "merchant"),
        "reset": ("merchant", "gateway"),
        "http-500": ("merchant", "gateway"),
        "bad-signature": ("gateway", "merchant"),
        "wrong-api-key": ("merchant", "gateway"),
        "tamper-jwe": ("gateway", "processor"),
    },
    "redirect": {
        "drop": ("processor", "merchant"),
        "delay": ("processor", "bank"),
        "duplicate": ("processor", "merchant"),
        "reorder": ("processor", "merchant"),
        "reset": ("merchant", "processor"),
        "http-500": ("merchant", "processor"),
        "bad-signature": ("processor", "merchant"),
        "wrong-api-key": ("merchant", "processor"),
        "tamper-jwe": ("gateway", "processor"),
    },
}
DEFAULT_DELAY_SECONDS = 3.0
REORDER_HOLD_SECONDS = 60.0


class FaultError(ValueError):
    """A fault spec payviz does not understand."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: its name, the link it acts on (None: its default) and an arg."""

    name: str
    link: tuple[Party, Party] | None = None
    arg: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Fault:
        text = spec.strip()
        name, _, arg_text = text.partition("=")
        name, _, link_text = name.partition("@")
        if name not in FAULT_NAMES:
            raise FaultError(f"unknown fault {name!r} (known: {', '.join(FAULT_NAMES)})")
        link = _parse_link(link_text) if link_text else None
        if link is not None and name in BANK_FAULTS:
            raise FaultError(f"fault {name!r} acts at the bank and takes no link")
        arg: float | None = None
        if arg_text:
            if name != "delay":
                raise FaultError(f"fault {name!r} takes no value")
            try:
                arg = float(arg_text)
            except ValueError:
                raise FaultError(f"delay must be a number of seconds, got {arg_text!r}") from None
            if not 0 <= arg <= 86400:
                raise FaultError("delay must be between 0 and 86400 seconds")
        return cls(name, link, arg)

    def spec(self) -> str:
        text = self.name
        if self.link:
            text += f"@{self.link[0]}-{self.link[1]}"
        if self.arg is not None:
            text += f"={self.arg:g}"
        return text


def _parse_link(text: str) -> tuple[Party, Party]:
    src, _, dst = text.partition("-")
    parties = {p: p for p in PARTIES}
    if src not in parties or dst not in parties or src == dst:
        raise FaultError(
            f"a link is src-dst between two parties ({', '.join(PARTIES)}), got {text!r}"
        )
    return parties[src], parties[dst]


@dataclass
class FaultPlan:
    """The faults of one checkout; each fires once, on the first message it matches."""

    mode: Mode
    faults: tuple[Fault, ...] = ()
    fired: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def link_of(self, fault: Fault) -> tuple[Party, Party] | None:
        return fault.link or DEFAULT_LINKS[self.mode].get(fault.name)

    def take(self, names: tuple[str, ...], src: Party, dst: Party) -> Fault | None:
        """The first unfired fault among `names` on the link src -> dst, now fired."""
        with self._lock:
            for fault in self.faults:
                if fault.name in names and self.link_of(fault) == (src, dst):
                    spec = fault.spec()
                    if spec not in self.fired:
                        self.fired.append(spec)
                        return fault
        return None

    def take_named(self, name: str) -> Fault | None:
        """The fault `name` if the plan has it and it has not fired yet (no link needed)."""
        with self._lock:
            for fault in self.faults:
                if fault.name == name and fault.spec() not in self.fired:
                    self.fired.append(fault.spec())
                    return fault
        return None


class FaultBook:
    """The plan of every checkout in flight, by checkout number (shared by all actors).

    Actors find theirs through CURRENT_RUN, which follows a checkout across tasks and, in
    its header, across real sockets.
    """

    def __init__(self) -> None:
        self._plans: dict[int, FaultPlan] = {}

    def set(self, checkout: int, plan: FaultPlan) -> None:
        self._plans[checkout] = plan

    def get(self, checkout: int) -> FaultPlan | None:
        return self._plans.get(checkout)

    def pop(self, checkout: int) -> None:
        self._plans.pop(checkout, None)

    def current(self) -> FaultPlan | None:
        from .context import CURRENT_RUN

        return self._plans.get(CURRENT_RUN.get().checkout)
