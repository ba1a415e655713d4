"""Reading a HAR back as payviz messages (`from_har`, re-exported by `har`).

Entries that payviz wrote carry `_payviz` and come back exactly as they were recorded.
Other entries (a HAR saved from a browser's developer tools, or a proxy's) are turned into
messages the way payviz's own capture would have recorded them:

- the sender is the party its User-Agent names (`payviz-merchant/1.0`, as payviz's actors
  announce themselves); anything else is the customer's browser;
- the receiver is the party of the request's host: an explicit `host_map` entry (by
  "host:port" or "host") wins, otherwise a guess from the host's labels, leftmost first
  ("shop", "merchant", "store" -> merchant; "gateway" -> gateway; "processor", "checkout",
  "pay", "stripe", "adyen" -> processor; "bank", "issuer" -> bank), otherwise merchant;
- the handshake step comes from `payviz.engine.steps.classify`, the table capture uses;
- card numbers are masked as capture masks them, since a browser's HAR holds them whole.

An entry without a request method, an absolute URL or a response status is skipped and
reported by its index in `log.entries`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from payviz.engine._types import PARTIES, Mode, Party, party_from_user_agent
from payviz.engine.cards import redact
from payviz.engine.jwe import looks_like_jwe
from payviz.engine.steps import classify
from payviz.engine.trace import Message, Record, StateChange, record_from_json

from ._har_entry import Parsed, parse_entry

_KEYWORDS: Final[tuple[tuple[Party, tuple[str, ...]], ...]] = (
    ("merchant", ("shop", "merchant", "store")),
    ("gateway", ("gateway",)),
    ("processor", ("processor", "checkout", "pay", "stripe", "adyen")),
    ("bank", ("bank", "issuer")),
)
_JWE_IN_JSON: Final = re.compile(r'"payment"\s*:\s*"([^"]+)"')


class HarFormatError(ValueError):
    """The data is not a HAR: no `log.entries` list."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Messages read from a HAR.

    Attributes:
        messages: in trace order, numbered by `seq`.
        mode: the flow, from payviz's own fields or guessed (the browser at the
            processor's pages means a hosted checkout, "redirect").
        states: the actors' state changes (only in a HAR that payviz wrote).
        hosts: each host ("host:port" as in the URL) and the party it was taken for.
        skipped: (index in log.entries, reason) for each entry left out.
        skipped_other: (index in log._payviz_other, reason) for each bad kept message.
    """

    messages: tuple[Message, ...]
    mode: Mode
    states: tuple[StateChange, ...] = ()
    hosts: dict[str, Party] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    skipped_other: list[tuple[int, str]] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        """Messages and state changes together, in order of `seq`."""
        return sorted([*self.messages, *self.states], key=lambda r: r.seq)


def guess_party(host: str) -> Party | None:
    """The party a host name suggests, reading its labels from the left; None if none.

    Labels, not substrings of the whole name: "bank.payviz.test" is the bank although
    "payviz" contains "pay".
    """
    for label in re.split(r"[.\-]", host.lower()):
        for party, words in _KEYWORDS:
            if any(word in label for word in words):
                return party
    return None


def parse_host_map(items: Iterable[str]) -> dict[str, Party]:
    """'HOST=PARTY' strings (the CLI's --map) as a host map; ValueError names a bad one."""
    mapping: dict[str, Party] = {}
    for item in items:
        host, sep, party = item.partition("=")
        if not sep or not host.strip():
            raise ValueError(f"expected HOST=PARTY, got {item!r}")
        mapping[host.strip().lower()] = _party(party.strip(), host.strip())
    return mapping


def _party(name: str, host: str) -> Party:
    for party in PARTIES:
        if party == name.lower():
            return party
    raise ValueError(f"unknown party {name!r} for {host} (one of {', '.join(PARTIES)})")


def _request_kind(parsed: Parsed) -> tuple[str, bool]:
    if "webhook-signature" in {k.lower() for k in parsed.request_headers}:
        return "notification", False
    found = _JWE_IN_JSON.search(parsed.request_body)
    encrypted = found is not None and looks_like_jwe(found.group(1))
    return ("encrypted" if encrypted else "request"), encrypted


def _response_summary(parsed: Parsed) -> tuple[str, str]:
    if parsed.status == 0:
        return "no answer: " + (parsed.error or "no response"), "error"
    summary = f"{parsed.status} {parsed.status_text}".strip()
    if parsed.location:
        summary += f" -> {redact(parsed.location)}"
    if parsed.status >= 400:
        return summary, "error"
    return summary, ("redirect" if 300 <= parsed.status < 400 else "response")


@dataclass(frozen=True, slots=True)
class _Route:
    src: Party
    dst: Party
    ts: float
    exchange: int


def _foreign(parsed: Parsed, route: _Route, mode: Mode) -> list[Message]:
    """The request and response of an entry payviz did not write."""
    src, dst = route.src, route.dst
    operation = f"{parsed.method} {parsed.path}"
    kind, encrypted = _request_kind(parsed)
    asked = classify(mode, src, dst, operation, "request")
    answered = classify(mode, src, dst, operation, "response", parsed.status or None)
    summary, outcome = _response_summary(parsed)
    request = Message(
        seq=0,
        ts=route.ts,
        checkout=1,
        mode=mode,
        src=src,
        dst=dst,
        step=asked.number,
        title=asked.title,
        direction="request",
        protocol="http",
        exchange=route.exchange,
        summary=operation,
        kind=kind,
        encrypted=encrypted,
        method=parsed.method,
        url=redact(parsed.url),
        headers=parsed.request_headers,
        body=redact(parsed.request_body),
    )
    response = replace(
        request,
        ts=route.ts + parsed.seconds,
        src=dst,
        dst=src,
        step=answered.number,
        title=answered.title,
        direction="response",
        summary=summary,
        kind=outcome,
        encrypted=False,
        method=None,
        url=None,
        status=parsed.status or None,
        headers=parsed.response_headers,
        body=redact(parsed.response_body),
        error=None if parsed.status else (parsed.error or "no response"),
    )
    return [request, response]


def _kept(items: Any, skipped: list[tuple[int, str]]) -> list[Record]:
    """The records payviz kept whole in log._payviz_other / log._payviz_states."""
    records: list[Record] = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        try:
            if not isinstance(item, dict):
                raise TypeError("not an object")
            records.append(record_from_json(item))
        except (TypeError, ValueError) as exc:
            skipped.append((index, str(exc)))
    return records


def _flow(mode: Mode | None, own: list[Message], routes: list[_Route]) -> Mode:
    if mode is not None:
        return mode
    for message in own:
        if message.mode in ("direct", "redirect"):
            return "redirect" if message.mode == "redirect" else "direct"
    hosted = any({route.src, route.dst} == {"browser", "processor"} for route in routes)
    return "redirect" if hosted else "direct"


def from_har(
    data: Any, host_map: Mapping[str, str] | None = None, *, mode: Mode | None = None
) -> ImportResult:
    """Messages from a parsed HAR document (see the module's docstring for the rules).

    Raises HarFormatError if `data` has no `log.entries` list, ValueError for a host map
    naming an unknown party.
    """
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(log, dict) or not isinstance(entries, list):
        raise HarFormatError("not a HAR file (no log.entries list)")
    given = {host.lower(): _party(party, host) for host, party in (host_map or {}).items()}
    result_hosts: dict[str, Party] = {}
    skipped: list[tuple[int, str]] = []
    skipped_other: list[tuple[int, str]] = []
    own = [m for m in _kept(log.get("_payviz_other"), skipped_other) if isinstance(m, Message)]
    states = [s for s in _kept(log.get("_payviz_states"), []) if isinstance(s, StateChange)]
    foreign: list[tuple[Parsed, _Route]] = []
    first: datetime | None = None
    last_ts = 0.0
    for index, entry in enumerate(entries):
        parsed = parse_entry(entry)
        if isinstance(parsed, str):
            skipped.append((index, parsed))
            continue
        if parsed.own is not None:
            own.extend(parsed.own)
            continue
        first = first or parsed.started
        if parsed.started is not None and first is not None:
            last_ts = max(0.0, (parsed.started - first).total_seconds())
        dst = given.get(parsed.netloc.lower()) or given.get(parsed.host.lower())
        dst = dst or guess_party(parsed.host) or "merchant"
        result_hosts[parsed.netloc.lower()] = dst
        src = party_from_user_agent(parsed.user_agent or None)
        foreign.append((parsed, _Route(src, dst, last_ts, 0)))
    flow = _flow(mode, own, [route for _, route in foreign])
    own.sort(key=lambda m: m.seq)
    if not foreign:
        return ImportResult(tuple(own), flow, tuple(states), result_hosts, skipped, skipped_other)
    exchange = max((m.exchange for m in own), default=0)
    made = [
        message
        for number, (parsed, route) in enumerate(foreign, start=exchange + 1)
        for message in _foreign(parsed, replace(route, exchange=number), flow)
    ]
    # Entries that payviz did not write have no seq: order by time (a stable sort keeps
    # each request before its response and the file's order among equal times).
    ordered = sorted([*own, *made], key=lambda m: m.ts)
    messages = tuple(replace(m, seq=seq) for seq, m in enumerate(ordered, start=1))
    return ImportResult(messages, flow, tuple(states), result_hosts, skipped, skipped_other)


__all__ = ["HarFormatError", "ImportResult", "from_har", "guess_party", "parse_host_map"]
