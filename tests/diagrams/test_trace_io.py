"""Loading traces robustly, and saved sessions: what a user gets from a damaged file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payviz.diagrams.session_file import open_session, save_session
from payviz.diagrams.trace_io import TraceFormatError, describe_skipped, load_trace
from payviz.engine.scenario import Scenario
from payviz.engine.trace import read_trace

from .recorded import record_trace


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_trace(tmp_path_factory.mktemp("trace") / "direct.jsonl", Scenario())


def test_a_whole_trace_loads_like_the_engines_reader(trace: Path) -> None:
    loaded = load_trace(trace)
    assert list(loaded.records) == read_trace(trace)
    assert loaded.header == {"type": "header", "schema": 1, "generator": "payviz"}
    assert loaded.skipped == []
    assert loaded.complete


def test_a_trace_cut_mid_line_keeps_every_complete_record(trace: Path, tmp_path: Path) -> None:
    data = trace.read_bytes()
    lines = data.splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    loaded = load_trace(cut)
    assert list(loaded.records) == read_trace(trace)[:-1]
    assert loaded.skipped == [(len(lines), "truncated (the file ends in the middle of this line)")]
    assert describe_skipped(loaded.skipped).startswith(f"skipped 1 line: line {len(lines)} (")


def test_corrupt_and_unknown_lines_in_the_middle_are_reported_by_number(
    trace: Path, tmp_path: Path
) -> None:
    lines = trace.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3][:40] + "\n"  # a line damaged in the middle of the file
    lines[5] = json.dumps({"type": "gossip", "seq": 99}) + "\n"
    message = next(i for i in range(7, len(lines)) if json.loads(lines[i])["type"] == "message")
    lines[message] = json.dumps({**json.loads(lines[message]), "src": "eavesdropper"}) + "\n"
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(lines), encoding="utf-8")
    loaded = load_trace(damaged)
    assert [number for number, _ in loaded.skipped] == [4, 6, message + 1]
    assert "not valid JSON" in loaded.skipped[0][1]
    assert "unknown record type 'gossip'" in loaded.skipped[1][1]
    assert "eavesdropper" in loaded.skipped[2][1]
    assert len(loaded.records) == len(lines) - 1 - 3
    assert describe_skipped(loaded.skipped).startswith("skipped 3 lines: line 4 (not valid JSON")


def test_an_unknown_schema_version_is_a_clear_error(trace: Path, tmp_path: Path) -> None:
    future = tmp_path / "future.jsonl"
    header, rest = trace.read_text(encoding="utf-8").split("\n", 1)
    header = json.dumps({**json.loads(header), "schema": 2})
    future.write_text(header + "\n" + rest, encoding="utf-8")
    with pytest.raises(TraceFormatError, match=r"unsupported trace schema 2 .*reads schema 1"):
        load_trace(future)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a payviz trace"),
        (b'{\n  "log": {"version": "1.2"}\n}\n', "not a payviz trace"),
        (b"seq,ts,src\n1,0.0,browser\n", "not a payviz trace"),
        (b'{"name": "something else"}\n', "not a payviz trace"),
    ],
)
def test_a_file_that_is_not_a_trace_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "other.jsonl"
    path.write_bytes(content)
    with pytest.raises(TraceFormatError, match=message):
        load_trace(path)


def test_a_missing_file_is_a_trace_format_error(tmp_path: Path) -> None:
    with pytest.raises(TraceFormatError, match="cannot read"):
        load_trace(tmp_path / "absent.jsonl")


def test_json_output_of_payviz_run_loads_without_its_summary(tmp_path: Path) -> None:
    from tests.helpers.engine import run_cli

    run = run_cli("run", "--format", "json")
    path = tmp_path / "stdout.jsonl"
    path.write_text(run.stdout, encoding="utf-8")
    loaded = load_trace(path)
    assert loaded.header is None
    assert loaded.skipped == []
    assert [m.seq for m in loaded.messages] == [m["seq"] for m in run.messages]


def test_a_saved_session_keeps_its_scenarios_and_stays_a_trace(tmp_path: Path) -> None:
    scenarios = [Scenario(mode="redirect", decision="decline"), Scenario(mode="direct")]
    trace = record_trace(tmp_path / "run.jsonl", *scenarios)
    saved = tmp_path / "session.jsonl"
    save_session(saved, read_trace(trace), dict(enumerate(scenarios, start=1)))
    assert read_trace(saved) == read_trace(trace)  # the engine's own reader opens it
    opened = open_session(saved)
    assert opened.scenarios == {1: scenarios[0], 2: scenarios[1]}
    assert list(opened.records) == read_trace(trace)
    assert opened.saved.endswith("Z")
    assert opened.skipped == []
    bare = open_session(trace)  # a plain trace opens as a session without scenarios
    assert bare.scenarios == {}
    assert list(bare.records) == read_trace(trace)


def test_a_header_scenario_that_no_longer_validates_is_reported(
    trace: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "session.jsonl"
    save_session(saved, read_trace(trace), {1: Scenario()})
    lines = saved.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    header["scenarios"][0]["scenario"]["card"] = "1234"
    saved.write_text(json.dumps(header) + "\n" + "".join(lines[1:]), encoding="utf-8")
    opened = open_session(saved)
    assert opened.scenarios == {}
    assert opened.skipped[0][0] == 1
    assert "scenario of checkout 1 ignored" in opened.skipped[0][1]
    assert list(opened.records) == read_trace(trace)
