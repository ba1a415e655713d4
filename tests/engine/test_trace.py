"""The trace file: what is written for each record, and what reads back from it."""

from __future__ import annotations

import dataclasses
from io import FileIO
from pathlib import Path
from typing import Any

import orjson
import pytest

from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import (
    Message,
    StateChange,
    Trace,
    encode_line,
    make_message,
    make_message_unwritten,
    make_state,
    make_state_unwritten,
    read_trace,
    record_from_json,
)
from tests.helpers.engine import LiveSession

SCENARIOS = [
    Scenario(mode="direct", decision="approve"),
    Scenario(mode="direct", decision="insufficient-funds"),
    Scenario(mode="direct", decision="timeout"),
    Scenario(mode="redirect", decision="approve"),
    Scenario(mode="redirect", decision="decline", retry_card="4242424242424242"),
]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Session, Path]:
    path = tmp_path_factory.mktemp("trace") / "run.jsonl"
    live = LiveSession(trace_path=path)
    try:
        for scenario in SCENARIOS:
            live.run(live.session.run_checkout(scenario))
    finally:
        live.close()
    return live.session, path


def test_each_record_is_written_as_its_own_line(written: tuple[Session, Path]) -> None:
    session, path = written
    lines = path.read_bytes().splitlines(keepends=True)
    records = session.trace.records
    assert len(lines) == 1 + len(records)
    kinds = {r.kind for r in records if isinstance(r, Message)}
    assert {"iso8583", "decline", "error", "email", "redirect"} <= kinds
    assert [encode_line(r) for r in records] == lines[1:]


def test_a_trace_file_reads_back_as_the_records_written(written: tuple[Session, Path]) -> None:
    session, path = written
    assert read_trace(path) == session.trace.records


def test_every_record_is_timed_to_the_microsecond(written: tuple[Session, Path]) -> None:
    # as docs/trace-format.md says of messages and state changes alike ("0.012", not
    # "0.011999845504760742", the float left by subtracting two clock readings)
    session, path = written
    records = session.trace.records
    assert any(isinstance(r, StateChange) for r in records)
    assert all(r.ts == round(r.ts, 6) for r in records)
    for line in path.read_bytes().splitlines()[1:]:
        ts = str(orjson.loads(line)["ts"])
        assert len(ts.partition(".")[2]) <= 6, ts


def test_records_made_with_their_line_are_the_records_and_lines_of_their_fields() -> None:
    message_fields: tuple[Any, ...] = (
        *(3, 0.25, 2, "direct", "processor", "bank", 3, "Processor asks the bank", "request"),
        *("iso8583", 7, "0100 authorization request", "iso8583", False, "POST", "https://b"),
        *(None, {"content-type": "application/iso8583"}, "", "0100", {"2": "424242******4242"}),
        *("0100...", None),
    )
    message, line = make_message(*message_fields)
    assert type(message) is Message
    assert message == Message(*message_fields)
    assert line == encode_line(message)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.summary = "changed"  # type: ignore[misc]
    assert dataclasses.replace(message, seq=9) == Message(9, *message_fields[1:])
    # A value orjson refuses (an integer past 64 bits) is written the way encode_line does.
    state_fields: tuple[Any, ...] = (4, 0.5, 2, "bank", "account", {"balance_minor": 2**70}, "")
    state, line = make_state(*state_fields)
    assert state == StateChange(*state_fields)
    assert line == encode_line(state)
    assert b"1180591620717411303424" in line


def test_records_for_a_trace_without_a_file_are_the_same_records_without_a_line(
    tmp_path: Path,
) -> None:
    message_fields: tuple[Any, ...] = (
        *(1, 0.5, 1, "direct", "merchant", "gateway", 1, "User checkout", "request", "http"),
        *(2, "POST /v1/payments", "request", False, "POST", "https://gateway/v1/payments"),
        *(None, {"content-type": "application/json"}, "{}", None, {}, None, None),
    )
    message, line = make_message_unwritten(*message_fields)
    assert (message, line) == (make_message(*message_fields)[0], None)
    assert type(message) is Message
    state_fields: tuple[Any, ...] = (2, 0.5, 1, "bank", "account", {"balance_minor": 2**70}, "")
    state, line = make_state_unwritten(*state_fields)
    assert (state, line) == (StateChange(*state_fields), None)
    assert not Trace().writing
    written = Trace(tmp_path / "t.jsonl")
    assert written.writing
    written.append(state)  # a record without its line is encoded on the way to the file
    written.close()
    assert not written.writing
    assert read_trace(tmp_path / "t.jsonl") == [state]


def test_appending_writes_each_line_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    trace = Trace(path)
    state, line = make_state(1, 0.0, 1, "merchant", "order", {"status": "pending"}, "")
    trace.append(state, line)
    # Nothing is held back in a buffer: a reader sees the record before the trace closes.
    assert path.read_bytes().splitlines(keepends=True)[1:] == [line]
    trace.close()


class _Trickle(FileIO):
    """A file the kernel writes a few bytes of at a time, as it may when a signal comes."""

    def write(self, data: Any) -> int:
        return super().write(bytes(data)[:7])


def test_a_line_the_kernel_takes_in_parts_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    trace = Trace(path)
    trace.close()  # written: the header line; the rest goes through the trickling file
    trace._sink = _Trickle(path, "ab")
    records = [make_state(seq, 0.0, 1, "bank", "account", {"n": seq}, "") for seq in (1, 2)]
    for record, line in records:
        trace.append(record, line)
    trace.close()
    assert read_trace(path) == [record for record, _ in records]


def test_a_line_read_back_is_the_record_written_and_an_odd_one_is_judged_by_its_fields() -> None:
    message, line = make_message(
        *(3, 0.5, 1, "direct", "merchant", "gateway", 1, "User checkout", "request", "http"),
        *(2, "POST /v1/payments", "request", False, "POST", "https://gateway/v1/payments"),
        *(None, {"content-type": "application/json"}, "{}", None, {}, None, None),
    )
    back = record_from_json(orjson.loads(line))
    assert back == message
    assert type(back) is Message
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.seq = 4  # type: ignore[misc]
    # A line with fewer keys (an older writer) gets the defaults; an unknown key is refused.
    short = orjson.loads(line)
    del short["error"]
    assert record_from_json(short) == message
    with pytest.raises(TypeError, match="gossip"):
        record_from_json({**orjson.loads(line), "gossip": 1})
    with pytest.raises(ValueError, match="unknown record type"):
        record_from_json({**orjson.loads(line), "type": "memo"})
