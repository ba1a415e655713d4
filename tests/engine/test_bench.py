"""`payviz bench` machinery with tiny counts: every figure is there, with its fields, and the
JSON is written. Timings are the benchmark's business, never a test's."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from payviz.bench.commands import Sizes, bench_command
from payviz.bench.report import Figure, table
from payviz.cli import main

TINY = Sizes(
    engine_checkouts=2,
    engine_rounds=1,
    trace_checkouts=2,
    startup_runs=1,
    frames=3,
    log_messages=200,
)
NAMES = {
    "engine.inprocess",
    "engine.loopback",
    "ui.startup",
    "ui.frame",
    "ui.log.load",
    "ui.log.filter",
    "ui.log.memory",
    "trace.write",
}
WITH_FLOOR = {"engine.inprocess", "engine.loopback", "ui.startup"}


@pytest.mark.slow
def test_every_figure_is_measured_and_written_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    args = argparse.Namespace(quick=True, json=out, only=None)
    assert bench_command(args, TINY) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert {f["name"] for f in figures} == NAMES
    for figure in figures:
        assert {"name", "value", "unit", "target", "ratio", "pass"} <= set(figure), figure
        assert "note" not in figure or not figure["note"].startswith("not measured"), figure
        assert isinstance(figure["value"], float | int), figure
        assert isinstance(figure["pass"], bool), figure
        if figure["name"] in WITH_FLOOR:
            assert figure["ratio"] > 0, figure
    printed = capsys.readouterr().out
    assert all(name in printed for name in NAMES)
    engine = next(f for f in figures if f["name"] == "engine.inprocess")
    assert (engine["round_trips"], engine["jwe"], engine["iso8583_messages"]) == (9, 1, 4)


def test_a_figure_without_a_floor_has_no_ratio_and_prints_its_note() -> None:
    figure = Figure("x.y", float("nan"), "ms", "<= 1 ms", None, False, note="not measured: why")
    assert figure.to_json() == {
        "name": "x.y",
        "value": None,
        "unit": "ms",
        "target": "<= 1 ms",
        "ratio": None,
        "pass": False,
        "note": "not measured: why",
    }
    assert "note: not measured: why" in table([figure])


def test_bench_is_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    assert "--quick" in capsys.readouterr().out


def test_a_timed_recorder_method_answers_as_the_method_and_adds_its_time() -> None:
    from payviz.bench.trace_write import _timed

    calls: list[tuple[object, ...]] = []

    def response(
        exchange: object, status: int, headers: dict[str, str], error: str | None = None
    ) -> str:
        calls.append((exchange, status, headers, error))
        return "answered"

    spent = [0.0]
    timed = _timed(response, spent)
    assert timed("x", 200, {}) == "answered"
    assert timed("y", 500, {"a": "b"}, error="late") == "answered"
    assert calls == [("x", 200, {}, None), ("y", 500, {"a": "b"}, "late")]
    assert spent[0] > 0
    assert timed.__name__ == "response"
    with pytest.raises(TypeError, match="only plain parameters"):
        _timed(lambda *args: None, spent)
