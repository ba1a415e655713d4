"""Crash safety: `payviz run --trace FILE --db DB` killed with SIGKILL in the middle of a
checkout leaves a trace that still loads and a merchant database that is consistent.

A run on the virtual clock is over in a fraction of a second, far too fast to be killed at
a chosen moment, so the subprocess runs payviz's own `main` with a tap on its two writers:
each trace record and each SQL statement of the order book is logged, in order, to a
progress file. Given a step number, the process stops dead right after that step, and the
test, polling the progress file in a bounded loop, kills it there with SIGKILL. Points are
chosen from a complete reference run: inside the transaction that creates the order,
inside the one that moves it, and between records.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from payviz.diagrams.trace_io import load_trace
from payviz.engine.trace import Message, StateChange

TAPPED_PAYVIZ = """
import sys, time
from payviz.engine.actors import merchant_db
from payviz.engine.trace import Trace

progress = open(sys.argv[1], "a", encoding="utf-8")
stop_at = int(sys.argv[2])
steps = 0

def step(what):
    global steps
    steps += 1
    progress.write(what + "\\n")
    progress.flush()
    if steps == stop_at:
        time.sleep(3600)  # stopped dead here until the test kills the process

class Tapped:
    def __init__(self, db):
        self._db = db
    def execute(self, sql, *args):
        cursor = self._db.execute(sql, *args)
        step(" ".join(sql.split()[:4]))
        return cursor
    def executescript(self, script):
        return self._db.executescript(script)
    def close(self):
        self._db.close()
    def __enter__(self):
        self._db.__enter__()
        return self
    def __exit__(self, *exc):
        done = self._db.__exit__(*exc)
        step("COMMIT (end of with)")
        return done

opened = merchant_db.OrderBook.__init__

def tapped_init(self, path=":memory:"):
    opened(self, path)
    self._db = Tapped(self._db)

merchant_db.OrderBook.__init__ = tapped_init
def tapped(append):
    def tapped_append(self, record, *line):
        append(self, record, *line)
        step("record")
    return tapped_append

Trace.append = tapped(Trace.append)
Trace.append_held = tapped(Trace.append_held)
from payviz.cli import main

sys.exit(main(sys.argv[3:]))
"""
START_TIMEOUT = 60.0  # imports and key generation on a busy machine
STATUSES = {"pending", "paid", "failed"}
RUNS = {
    "direct": ["run", "--mode", "direct", "--notify", "async", "--format", "json"],
    "redirect": ["run", "--mode", "redirect", "--notify", "webhook", "--format", "json"],
}


def tapped(args: list[str], folder: Path, stop_at: int) -> subprocess.Popen[bytes]:
    folder.mkdir(exist_ok=True)
    command = [sys.executable, "-c", TAPPED_PAYVIZ, str(folder / "progress.log"), str(stop_at)]
    command += [*args, "--trace", str(folder / "run.jsonl"), "--db", str(folder / "orders.db")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def steps_of(folder: Path) -> list[str]:
    try:
        return (folder / "progress.log").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A complete run of each flow: its folder, with every step in progress.log."""
    base = tmp_path_factory.mktemp("reference")
    folders: dict[str, Path] = {}
    for mode, args in RUNS.items():
        process = tapped(args, base / mode, stop_at=0)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
        folders[mode] = base / mode
    return folders


def kill_at(args: list[str], folder: Path, stop_at: int) -> int:
    """Run until step `stop_at`, SIGKILL the process there and return its exit status."""
    process = tapped(args, folder, stop_at)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(steps_of(folder)) < stop_at:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"payviz ended ({process.returncode}) before step {stop_at}: {stderr}")
            if time.monotonic() > deadline:
                pytest.fail(f"no step {stop_at} after {START_TIMEOUT:g} s")
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def check_trace(trace: Path) -> int:
    """The trace loads up to its last flushed record; at most the last line is lost."""
    written = trace.read_bytes().splitlines()
    result = load_trace(trace)
    assert result.header is not None
    assert result.header["generator"] == "payviz"
    assert len(result.skipped) <= 1, result.skipped
    if result.skipped:
        [(number, _)] = result.skipped
        assert number == len(written), "only a cut-off last line may be skipped"
    assert len(result.records) == len(written) - 1 - len(result.skipped)
    assert [r.seq for r in result.records] == list(range(1, len(result.records) + 1))
    assert all(isinstance(r, Message | StateChange) for r in result.records)
    return len(result.records)


def check_database(db: Path) -> dict[str, str]:
    """Integrity holds, every order has its first transition and a status it can have."""
    connection = sqlite3.connect(db)  # opening it replays what the write-ahead log committed
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        orders = dict(connection.execute("SELECT id, status FROM orders").fetchall())
        for order_id, status in orders.items():
            assert status in STATUSES
            moves = connection.execute(
                "SELECT from_status, to_status, source FROM transitions WHERE order_id = ?"
                " ORDER BY rowid",
                (order_id,),
            ).fetchall()
            assert moves[0] == (None, "pending", "checkout")
            for before, after in itertools.pairwise(moves):
                assert after[0] == before[1], moves  # each move starts where the last ended
                assert after[1] in STATUSES
            assert moves[-1][1] == status  # the status is the last transition's
        orphans = connection.execute(
            "SELECT COUNT(*) FROM transitions WHERE order_id NOT IN (SELECT id FROM orders)"
        ).fetchone()
        assert orphans == (0,)
        return orders
    finally:
        connection.close()


def _point(steps: list[str], where: str) -> tuple[int, int]:
    """(step to stop at, orders committed by then) for a named point of a run."""
    created = steps.index("INSERT INTO orders VALUES") + 1
    if where == "creating the order":
        return created, 0  # its row is written, its first transition and commit are not
    if where == "moving the order":
        begin = steps.index("BEGIN IMMEDIATE", created)
        return steps.index("UPDATE orders SET status=?,", begin) + 1, 1
    records = [i + 1 for i, s in enumerate(steps) if s == "record" and i + 1 > created]
    return records[len(records) // 2], 1  # between two records, half-way through the rest


def _in_transaction(steps: list[str]) -> bool:
    opened = [i for i, s in enumerate(steps) if s.startswith("BEGIN")]
    closed = [i for i, s in enumerate(steps) if s.startswith(("COMMIT", "ROLLBACK"))]
    return bool(opened) and (not closed or opened[-1] > closed[-1])


@pytest.mark.parametrize("mode", ["direct", "redirect"])
@pytest.mark.parametrize("where", ["creating the order", "moving the order", "between records"])
def test_sigkill_mid_checkout_leaves_readable_trace_and_consistent_db(
    reference: dict[str, Path], tmp_path: Path, mode: str, where: str
) -> None:
    steps = steps_of(reference[mode])
    stop_at, committed = _point(steps, where)
    assert _in_transaction(steps[:stop_at]) == (where != "between records")
    status = kill_at(RUNS[mode], tmp_path, stop_at)
    assert status == -signal.SIGKILL
    assert steps_of(tmp_path) == steps[:stop_at]  # it died exactly there
    check_trace(tmp_path / "run.jsonl")
    orders = check_database(tmp_path / "orders.db")
    assert len(orders) == committed
    if where == "moving the order":
        assert list(orders.values()) == ["pending"]  # the half-done move was rolled back


def test_the_reference_runs_finish_with_the_same_guarantees(reference: dict[str, Path]) -> None:
    for folder in reference.values():
        check_trace(folder / "run.jsonl")
        assert load_trace(folder / "run.jsonl").complete
        assert set(check_database(folder / "orders.db").values()) == {"paid"}
        assert "UPDATE orders SET status=?," in steps_of(folder)  # a move to kill in
