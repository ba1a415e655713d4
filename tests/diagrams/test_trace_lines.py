"""The log's reader of trace lines: where it reads a line's text by pattern, it reads what
the JSON parser reads."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from payviz.diagrams import trace_lines
from payviz.diagrams.trace_lines import COMPACT, SPACED

# Any text: quotes, backslashes, control characters, accents and emoji among them.
_TEXTS = st.text(max_size=16) | st.sampled_from(["GET /orders/ord_00000000169f", "200 OK", ""])
_STATUSES = st.none() | st.integers(-(2**70), 2**70) | st.sampled_from([0, 200, 303, 10**18 - 1])


def _plain(text: str) -> bool:
    return all(" " <= c <= "~" and c not in '"\\' for c in text)


@settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(
    summary=_TEXTS,
    kind=_TEXTS,
    encrypted=st.booleans(),
    method=st.none() | _TEXTS,
    url=st.none() | _TEXTS,
    status=_STATUSES,
    spaced=st.booleans(),
)
def test_the_text_pattern_reads_what_the_parser_reads(
    summary: str,
    kind: str,
    encrypted: bool,
    method: str | None,
    url: str | None,
    status: int | None,
    spaced: bool,
) -> None:
    members = {
        "summary": summary,
        "kind": kind,
        "encrypted": encrypted,
        "method": method,
        "url": url,
        "status": status,
    }
    layout, separators = (SPACED, (", ", ": ")) if spaced else (COMPACT, (",", ":"))
    encoded = json.dumps(members, separators=separators).encode()
    part = separators[0].encode() + encoded[1:-1]  # as a line has it, after the exchange
    text = b"xx" + part + b"yy"  # read where it lies, between the line's other keys
    read = trace_lines._plain_text(layout, text, 2, len(text) - 2)
    strings = [summary, kind, method or "", url or ""]
    plain = all(map(_plain, strings)) and (status is None or abs(status) < 10**18)
    assert (read is not None) == plain  # the pattern takes every text it can read
    if read is not None:
        assert read == trace_lines._text(part) == (summary, encrypted, status)
