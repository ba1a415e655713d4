"""A trace file read lazily gives what the file read whole gives, a piece at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payviz.diagrams import trace_lines
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


@pytest.mark.parametrize("chunk", [97, 4096], ids=["lines-longer-than-a-chunk", "small-chunks"])
def test_a_file_read_in_small_pieces_opens_as_when_read_whole(
    path: Path, tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lines cross the reader's chunks, span several of them, and the last ends the file
    # with no newline: every row must still point at its own line.
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(path.read_bytes().rstrip(b"\n"))
    monkeypatch.setattr(trace_lines, "_CHUNK", chunk)
    opened = open_lazily(cut)
    assert list(opened.messages) == [r for r in open_session(cut).records if isinstance(r, Message)]
    assert tuple(opened.records) == open_session(cut).records


@pytest.fixture(scope="module")
def quiet_gateway(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A direct checkout, then six hosted ones: the gateway has nothing to do in those, so
    its last action lies far more than the diagram's window before the end."""
    folder = tmp_path_factory.mktemp("quiet")
    scenarios = [Scenario(mode="direct"), *[Scenario(mode="redirect")] * 6]
    return record_trace(folder / "quiet.jsonl", *scenarios)


@pytest.mark.parametrize("spaced", [False, True], ids=["compact", "spaced"])
def test_a_servers_last_change_long_before_the_window_is_still_its_caption(
    quiet_gateway: Path, tmp_path: Path, spaced: bool
) -> None:
    path = quiet_gateway
    if spaced:  # the same records written the way json.dumps spaces them
        path = tmp_path / "spaced.jsonl"
        lines = quiet_gateway.read_text(encoding="utf-8").splitlines()
        path.write_text("".join(json.dumps(json.loads(line)) + "\n" for line in lines))
    whole = list(open_session(path).records)
    opened = open_lazily(path)
    last_action = max(
        (r for r in whole if isinstance(r, StateChange) and r.party == "gateway"),
        key=lambda r: r.seq,
    )
    end = len(opened.messages) - 1
    assert opened.messages[end - WINDOW_ROWS].seq > last_action.seq  # out of the window
    for row in [end, *range(len(opened.messages))]:  # from the end first, then forwards
        seq = opened.messages[row].seq
        shown = node_states(opened.records_before(row), seq)
        assert shown == node_states(whole, seq), row
    assert (
        node_states(opened.records_before(end), opened.messages[end].seq)["gateway"].lines
        == node_states([last_action], last_action.seq)["gateway"].lines
    )


def test_a_server_with_no_change_in_the_file_stays_idle(tmp_path: Path) -> None:
    path = record_trace(tmp_path / "hosted.jsonl", *[Scenario(mode="redirect")] * 4)
    opened = open_lazily(path)
    end = len(opened.messages) - 1
    states = node_states(opened.records_before(end), opened.messages[end].seq)
    assert states["gateway"].tone == "idle"
    assert states == node_states(list(open_session(path).records), opened.messages[end].seq)


def test_a_servers_last_change_thousands_of_messages_back_is_found(
    quiet_gateway: Path, tmp_path: Path
) -> None:
    # The last hosted checkout again and again with new numbers: more than 5,000 messages
    # after the gateway's last action (the window once widened to 4,096 at most).
    lines = [json.loads(line) for line in quiet_gateway.read_text(encoding="utf-8").splitlines()]
    last = max(line.get("checkout", 0) for line in lines)
    hosted = [line for line in lines if line.get("checkout") == last]
    seq, checkout = lines[-1]["seq"], last
    for _ in range(300):
        checkout += 1
        for line in hosted:
            seq += 1
            lines.append({**line, "seq": seq, "checkout": checkout})
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
    opened = open_lazily(path)
    end = len(opened.messages) - 1
    assert end > 5000
    whole = list(open_session(path).records)
    expected = node_states(whole, opened.messages[end].seq)
    assert expected["gateway"].tone != "idle"
    assert node_states(opened.records_before(end), opened.messages[end].seq) == expected
