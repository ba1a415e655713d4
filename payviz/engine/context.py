"""Which checkout a message belongs to, carried across tasks and across the wire.

Inside one process a ContextVar follows the work of a checkout through every task it
spawns. Across a real socket (loopback mode) the same facts travel in the `x-payviz-run`
request header, the way distributed tracing carries a trace id; the actors' middleware
restores the ContextVar from it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ._types import MODES, Mode

RUN_HEADER = "x-payviz-run"


@dataclass(frozen=True, slots=True)
class RunContext:
    checkout: int
    mode: Mode

    def header(self) -> str:
        return f"{self.checkout};{self.mode}"

    @classmethod
    def from_header(cls, value: str) -> RunContext | None:
        number, _, mode = value.partition(";")
        if not number.isdigit():
            return None
        for known in MODES:
            if known == mode:
                return cls(int(number), known)
        return None


# RunContext is frozen, so sharing one default instance is safe.
CURRENT_RUN: ContextVar[RunContext] = ContextVar(
    "payviz_run",
    default=RunContext(0, "direct"),  # noqa: B039
)
