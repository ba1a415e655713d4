"""A trace file read lazily gives what the file read whole gives, a piece at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from payviz.diagrams.lazy_trace import WINDOW_ROWS, open_lazily
from payviz.diagrams.node_state import node_states
from payviz.diagrams.session_file import open_session
from payviz.diagrams.trace_io import TraceFormatError
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, StateChange

from .recorded import record_trace


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six checkouts, about 170 records: longer than the diagram's window."""
    folder = tmp_path_factory.mktemp("lazy")
    scenarios = [Scenario(mode=mode) for mode in ("direct", "redirect")] * 3
    return record_trace(folder / "trace.jsonl", *scenarios)


def test_its_messages_are_the_files_and_are_read_when_asked_for(path: Path) -> None:
    whole = open_session(path)
    opened = open_lazily(path)
    messages = [r for r in whole.records if isinstance(r, Message)]
    assert len(opened.messages) == len(messages)
    assert list(opened.messages) == messages
    assert opened.messages[-1] == messages[-1]
    assert opened.messages[3:6] == messages[3:6]
    with pytest.raises(IndexError):
        opened.messages[len(messages)]


def test_every_record_is_read_again_in_order_for_saving(path: Path) -> None:
    opened = open_lazily(path)
    assert tuple(opened.records) == open_session(path).records
    assert len(opened.records) == len(open_session(path).records)


def test_the_diagram_reads_the_records_of_the_messages_before_the_playhead(path: Path) -> None:
    whole = list(open_session(path).records)
    opened = open_lazily(path)
    row = len(opened.messages) - 1
    window = opened.records_before(row)
    last = opened.messages[row]
    first = opened.messages[row - WINDOW_ROWS]
    assert window == [r for r in whole if first.seq <= r.seq <= last.seq]
    assert any(isinstance(r, StateChange) for r in window)
    assert opened.records_before(0) == [r for r in whole if r.seq <= opened.messages[0].seq]
    early = WINDOW_ROWS // 2
    assert opened.records_before(early) == [r for r in whole if r.seq <= opened.messages[early].seq]


def test_a_state_change_before_the_first_message_is_read_for_the_first_messages(
    path: Path, tmp_path: Path
) -> None:
    from payviz.diagrams.session_file import save_session

    opening = StateChange(0, 0.0, 1, "bank", "account", {"balance_minor": 100_000})
    early = tmp_path / "early.jsonl"
    save_session(early, (opening, *open_session(path).records))
    opened = open_lazily(early)
    assert opened.records_before(0)[0] == opening
    assert opening in opened.records_before(WINDOW_ROWS - 1)


def test_a_line_changed_after_opening_is_shown_as_what_the_log_knows_of_it(
    path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    opened = open_lazily(copy)
    row = 2
    start = opened.rows.line_start(row)
    assert start is not None
    data = bytearray(copy.read_bytes())
    data[start + 40 : start + 60] = b"#" * 20  # damaged in place, same length
    copy.write_bytes(bytes(data))
    shown = opened.messages[row]
    assert shown.kind == "error"
    assert "no longer reads whole" in shown.summary
    assert (shown.src, shown.dst) == (opened.rows.look(row).src, opened.rows.look(row).dst)


def test_a_session_header_says_its_scenarios_and_a_file_that_is_no_trace_is_refused(
    path: Path, tmp_path: Path
) -> None:
    from payviz.diagrams.session_file import save_session

    whole = open_session(path)
    session = tmp_path / "session.jsonl"
    scenarios = {1: Scenario(mode="direct")}
    save_session(session, whole.records, scenarios, keylog={"k": "v"}, started=12.5)
    opened = open_lazily(session)
    assert (opened.scenarios, opened.keylog, opened.started) == (scenarios, {"k": "v"}, 12.5)
    notes = tmp_path / "notes.jsonl"
    notes.write_text("shopping list\n", encoding="utf-8")
    with pytest.raises(TraceFormatError):
        open_lazily(notes)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixteen checkouts: both flows, approvals, declines and a silent bank, in turns."""
    folder = tmp_path_factory.mktemp("mixed")
    decisions = ("approve", "decline", "insufficient-funds", "timeout")
    scenarios = [
        Scenario(mode=mode, decision=decision)  # type: ignore[arg-type]
        for decision in decisions
        for mode in ("direct", "redirect", "redirect", "direct")
    ]
    return record_trace(folder / "mixed.jsonl", *scenarios)


def test_every_caption_at_every_message_is_the_one_the_file_read_whole_shows(
    mixed: Path,
) -> None:
    whole = list(open_session(mixed).records)
    opened = open_lazily(mixed)
    for row, message in enumerate(opened.messages):
        assert node_states(opened.records_before(row), message.seq) == node_states(
            whole, message.seq
        ), row


def test_a_file_that_starts_with_blank_lines_opens_as_when_read_whole(
    path: Path, tmp_path: Path
) -> None:
    padded = tmp_path / "padded.jsonl"
    padded.write_bytes(b"\n\n" + path.read_bytes())
    opened = open_lazily(padded)
    assert list(opened.messages) == [
        r for r in open_session(padded).records if isinstance(r, Message)
    ]
    assert tuple(opened.records) == open_session(padded).records
