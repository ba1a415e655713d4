"""Session files keep what inspecting a reopened session needs: the key log and the clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from payviz.diagrams.session_file import open_session, save_session
from payviz.engine.scenario import Scenario

if TYPE_CHECKING:
    from tests.conftest import RecordedRun


def test_the_key_log_and_the_start_time_come_back(tmp_path: Path, direct_run: RecordedRun) -> None:
    path = tmp_path / "session.jsonl"
    scenarios = {1: Scenario(mode="direct", notify="async")}
    save_session(
        path, direct_run.records, scenarios, keylog=direct_run.keylog, started=direct_run.started
    )
    opened = open_session(path)
    assert opened.keylog == json.loads(json.dumps(direct_run.keylog))
    assert opened.started == direct_run.started
    assert opened.scenarios == scenarios
    assert opened.skipped == []


def test_an_older_session_without_them_still_opens(tmp_path: Path, direct_run: RecordedRun) -> None:
    path = tmp_path / "older.jsonl"
    save_session(path, direct_run.records)
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert "keylog" not in header  # nothing secret unless asked for
    opened = open_session(path)
    assert (opened.keylog, opened.started) == ({}, None)
    assert list(opened.records) == direct_run.records


def test_a_malformed_key_log_is_reported_and_left_out(
    tmp_path: Path, direct_run: RecordedRun
) -> None:
    path = tmp_path / "edited.jsonl"
    save_session(path, direct_run.records, keylog={"jwe_keys": []}, started=12.5)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    header["keylog"], header["started"] = "secret", "noon"
    path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]), encoding="utf-8")
    opened = open_session(path)
    assert (opened.keylog, opened.started) == ({}, None)
    assert [line for line, _ in opened.skipped] == [1, 1]
    assert "keylog is not an object" in opened.skipped[0][1] + opened.skipped[1][1]
    assert list(opened.records) == direct_run.records
