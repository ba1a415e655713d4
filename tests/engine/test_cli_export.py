"""`payviz export` and `payviz run --format mermaid|plantuml`, as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from payviz.engine.trace import Message, read_trace
from tests.helpers.engine import CliRun, run_cli

MERMAID_ARROW = re.compile(r"^    \w+(->>|-->>|-x|--x)\w+: ")
PLANTUML_ARROW = re.compile(r"^\w+ -\[#[0-9A-F]{6}(,dotted)?\]-?>x? \w+ : ")


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    made = {}
    for mode in ("direct", "redirect"):
        path = folder / f"{mode}.jsonl"
        assert run_cli("run", "--mode", mode, "--trace", str(path)).status == 0
        made[mode] = path
    return made


def _messages(path: Path) -> list[Message]:
    return [r for r in read_trace(path) if isinstance(r, Message)]


def _mermaid_arrows(text: str) -> int:
    return sum(1 for line in text.splitlines() if MERMAID_ARROW.match(line))


def _plantuml_arrows(text: str) -> int:
    return sum(1 for line in text.splitlines() if PLANTUML_ARROW.match(line))


def _refused(run: CliRun, *words: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr that says why."""
    assert run.status == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("payviz: error: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("mode", ["direct", "redirect"])
def test_export_to_mermaid_and_plantuml(traces: dict[str, Path], mode: str) -> None:
    count = len(_messages(traces[mode]))
    mermaid = run_cli("export", str(traces[mode]), "--to", "mermaid")
    assert mermaid.status == 0
    assert mermaid.stderr == ""
    assert mermaid.stdout.startswith("sequenceDiagram\n")
    assert _mermaid_arrows(mermaid.stdout) == count
    plantuml = run_cli("export", str(traces[mode]), "--to", "plantuml")
    assert plantuml.stdout.startswith("@startuml\n")
    assert plantuml.stdout.rstrip().endswith("@enduml")
    assert _plantuml_arrows(plantuml.stdout) == count


def test_export_writes_to_a_file_with_o(traces: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "direct.puml"
    run = run_cli("export", str(traces["direct"]), "--to", "plantuml", "-o", str(out))
    assert (run.status, run.stdout, run.stderr) == (0, "", "")
    assert _plantuml_arrows(out.read_text(encoding="utf-8")) == len(_messages(traces["direct"]))


def test_trace_to_har_and_back_to_a_trace(traces: dict[str, Path], tmp_path: Path) -> None:
    har, back = tmp_path / "redirect.har", tmp_path / "back.jsonl"
    assert run_cli("export", str(traces["redirect"]), "--to", "har", "-o", str(har)).status == 0
    assert json.loads(har.read_text(encoding="utf-8"))["log"]["version"] == "1.2"
    assert run_cli("export", str(har), "--to", "jsonl", "-o", str(back)).status == 0
    assert read_trace(back) == read_trace(traces["redirect"])


def test_a_browser_har_with_host_mappings(traces: dict[str, Path], tmp_path: Path) -> None:
    har = tmp_path / "loopback.har"
    entries = [
        _entry("GET", "https://127.0.0.1:9001/checkout"),
        _entry("GET", "https://127.0.0.1:9003/pay/cs_1"),
    ]
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), "utf-8")
    guessed = run_cli("export", str(har), "--to", "mermaid")
    assert "browser->>processor" not in guessed.stdout
    mapped = run_cli("export", str(har), "--to", "mermaid", "--map", "127.0.0.1:9003=processor")
    assert mapped.status == 0
    assert "browser->>processor: step 2#58; GET /pay/cs_1" in mapped.stdout
    _refused(run_cli("export", str(har), "--to", "mermaid", "--map", "x=acquirer"), "acquirer")
    _refused(
        run_cli("export", str(traces["direct"]), "--to", "mermaid", "--map", "x=bank"),
        "--map applies to a HAR",
    )


def test_a_har_missing_a_field_exports_the_rest_and_says_what_was_skipped(
    tmp_path: Path,
) -> None:
    har = tmp_path / "partial.har"
    entries = [_entry("GET", "https://shop.test/"), _entry("GET", "https://shop.test/cart")]
    del entries[1]["request"]["url"]
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), "utf-8")
    run = run_cli("export", str(har), "--to", "mermaid")
    assert run.status == 0
    assert run.stderr == "payviz: skipped 1 entry: entry 1 (request.url missing)\n"
    assert _mermaid_arrows(run.stdout) == 2


def test_a_trace_cut_mid_line_still_exports(traces: dict[str, Path], tmp_path: Path) -> None:
    data = traces["direct"].read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) - 40])
    run = run_cli("export", str(cut), "--to", "mermaid")
    assert run.status == 0
    lines = data.count(b"\n")
    assert run.stderr == (
        f"payviz: skipped 1 line: line {lines} "
        "(truncated (the file ends in the middle of this line))\n"
    )
    whole_lines = cut.read_bytes().splitlines()[1:-1]
    complete = [line for line in whole_lines if json.loads(line)["type"] == "message"]
    assert _mermaid_arrows(run.stdout) == len(complete)


def test_files_that_cannot_be_exported_are_refused_in_one_line(
    traces: dict[str, Path], tmp_path: Path
) -> None:
    _refused(run_cli("export", str(tmp_path / "none.jsonl"), "--to", "har"), "cannot read")
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    _refused(run_cli("export", str(picture), "--to", "mermaid"), "not a payviz trace")
    future = tmp_path / "future.jsonl"
    header, rest = traces["direct"].read_text("utf-8").split("\n", 1)
    future.write_text(json.dumps({**json.loads(header), "schema": 9}) + "\n" + rest, "utf-8")
    _refused(run_cli("export", str(future), "--to", "mermaid"), "unsupported trace schema 9")
    broken_har = tmp_path / "broken.har"
    broken_har.write_text('{"log": {"entries": [', "utf-8")
    _refused(run_cli("export", str(broken_har), "--to", "mermaid"), "not a HAR file")
    _refused(run_cli("export", str(traces["direct"]), "--to", "pdf"), "invalid choice")


@pytest.mark.skipif(
    importlib.util.find_spec("payviz.ui.render") is not None,
    reason="the app's renderer exists: images are its tests' business",
)
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_images_need_the_apps_renderer(traces: dict[str, Path], fmt: str) -> None:
    run = run_cli("export", str(traces["direct"]), "--to", fmt, "-o", f"out.{fmt}")
    _refused(run, f"--to {fmt} needs the app's renderer")


@pytest.mark.parametrize(("mode", "fmt"), [("direct", "mermaid"), ("redirect", "plantuml")])
def test_run_prints_the_diagram_instead_of_lines(tmp_path: Path, mode: str, fmt: str) -> None:
    trace = tmp_path / "run.jsonl"
    run = run_cli("run", "--mode", mode, "--format", fmt, "--trace", str(trace))
    assert run.status == 0
    assert run.stderr == ""
    assert "outcome:" not in run.stdout
    count = len(_messages(trace))
    if fmt == "mermaid":
        assert run.stdout.startswith("sequenceDiagram\n")
        assert _mermaid_arrows(run.stdout) == count
    else:
        assert run.stdout.startswith("@startuml\n")
        assert run.stdout.endswith("@enduml\n")
        assert _plantuml_arrows(run.stdout) == count


def _entry(method: str, url: str) -> dict[str, object]:
    return {
        "startedDateTime": "2026-03-01T10:00:00.000Z",
        "time": 1,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": []},
        "response": {"status": 200, "statusText": "OK", "headers": [], "content": {}},
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
