"""Shared vocabulary of the engine: the parties, modes and decisions."""

from __future__ import annotations

from typing import Literal, get_args

Party = Literal["browser", "merchant", "gateway", "processor", "bank"]
Mode = Literal["direct", "redirect"]
Notify = Literal["sync", "async", "return", "webhook", "both"]
Direction = Literal["request", "response"]
Protocol = Literal["http", "iso8583", "email"]
Decision = Literal[
    "approve",
    "decline",
    "insufficient-funds",
    "lost-card",
    "stolen-card",
    "expired-card",
    "processing-error",
    "timeout",
]

PARTIES: tuple[Party, ...] = get_args(Party)
MODES: tuple[Mode, ...] = get_args(Mode)
DECISIONS: tuple[Decision, ...] = get_args(Decision)
NOTIFY_BY_MODE: dict[Mode, tuple[Notify, ...]] = {
    "direct": ("sync", "async"),
    "redirect": ("return", "webhook", "both"),
}
DEFAULT_NOTIFY: dict[Mode, Notify] = {"direct": "sync", "redirect": "both"}

USER_AGENT_PREFIX = "payviz-"


def user_agent(party: Party) -> str:
    """The User-Agent a payviz actor sends, the way real services identify themselves."""
    return f"{USER_AGENT_PREFIX}{party}/1.0"


def party_from_user_agent(value: str | None) -> Party:
    """Actors announce themselves in User-Agent; anything else is the customer's browser."""
    if value and value.startswith(USER_AGENT_PREFIX):
        name = value[len(USER_AGENT_PREFIX) :].split("/", 1)[0]
        for party in PARTIES:
            if party == name:
                return party
    return "browser"
