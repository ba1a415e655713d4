"""Mermaid and PlantUML exports of real checkouts: syntax, lifelines, arrows, step notes."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from payviz.diagrams.export_text import escape_mermaid, escape_plantuml, to_mermaid, to_plantuml
from payviz.diagrams.sequence import build_sequence, short_summary
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message

from .recorded import messages, record_trace

PARTY_ORDER = ["browser", "merchant", "gateway", "processor", "bank"]
MERMAID_ARROW = re.compile(r"^    (\w+)(->>|-->>|-x|--x)(\w+): (.*)$")
PLANTUML_ARROW = re.compile(r"^(\w+) -\[(#[0-9A-F]{6})(,dotted)?\](-?)>(x?) (\w+) : (.*)$")
NASTY = (
    'a;b #c: d <b>x</b> %% %date()% **bold** //it// --s-- __u__ ""m"" ~~w~~ [[l]] '
    "\\n back\\slash & {br} `tick` 'q' end ->> == |x| ^^"
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Message]]:
    folder = tmp_path_factory.mktemp("runs")
    scenarios = {
        "direct": Scenario(mode="direct"),
        "redirect": Scenario(mode="redirect"),
        "declined": Scenario(mode="direct", decision="decline"),
    }
    return {
        name: messages(record_trace(folder / f"{name}.jsonl", scenario))
        for name, scenario in scenarios.items()
    }


def _unmermaid(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


def _unplantuml(text: str) -> str:
    return html.unescape(text.replace("<U+005C>", "\\"))


def _steps(found: list[Message]) -> list[str]:
    """'Step N: title' at each change of step, as a reader of the trace would mark them."""
    notes, previous = [], None
    for message in found:
        if message.step != previous:
            notes.append(f"Step {message.step}: {message.title}")
            previous = message.step
    return notes


@pytest.mark.parametrize("name", ["direct", "redirect", "declined"])
def test_mermaid_has_one_arrow_per_message_in_order(
    runs: dict[str, list[Message]], name: str
) -> None:
    found = runs[name]
    lines = to_mermaid(found).splitlines()
    assert lines[0] == "sequenceDiagram"
    participants = [line.split()[1] for line in lines if line.startswith("    participant ")]
    seen = {m.src for m in found} | {m.dst for m in found}
    assert participants == [p for p in PARTY_ORDER if p in seen]
    body = [line for line in lines[1:] if not line.startswith(("    participant ", "    Note "))]
    arrows = [MERMAID_ARROW.match(line) for line in body]
    assert len(arrows) == len(found)
    for match, message in zip(arrows, found, strict=True):
        assert match is not None
        src, arrow, dst, label = match.groups()
        assert (src, dst) == (message.src, message.dst)
        if message.failed or message.kind in ("error", "decline"):
            assert arrow == ("--x" if message.direction == "response" else "-x")
        else:
            assert arrow == ("->>" if message.direction == "request" else "-->>")
        assert not set(re.sub(r"#\d+;", "", label)) & set(";#:<>%")
        assert _unmermaid(label) == f"step {message.step}: {short_summary(message.summary)}"
    notes = [line for line in lines if line.startswith("    Note over ")]
    span = f"{participants[0]},{participants[-1]}"
    assert all(note.startswith(f"    Note over {span}: ") for note in notes)
    assert [_unmermaid(note.split(": ", 1)[1]) for note in notes] == _steps(found)


def test_the_redirect_flow_has_no_gateway_and_the_direct_flow_all_five(
    runs: dict[str, list[Message]],
) -> None:
    assert build_sequence(runs["direct"]).participants == tuple(PARTY_ORDER)
    assert "gateway" not in build_sequence(runs["redirect"]).participants
    assert "participant gateway" not in to_plantuml(runs["redirect"])


def test_a_bank_decline_is_drawn_as_a_failed_answer(runs: dict[str, list[Message]]) -> None:
    mermaid = to_mermaid(runs["declined"])
    assert re.search(r"bank--xprocessor: step 4#58; 0110 .*do not honor", mermaid)
    plantuml = to_plantuml(runs["declined"])
    assert re.search(r"bank -\[#D55E00\]->x processor : step 4: 0110 .*do not honor", plantuml)


@pytest.mark.parametrize("name", ["direct", "redirect", "declined"])
def test_plantuml_has_participants_separators_and_arrows(
    runs: dict[str, list[Message]], name: str
) -> None:
    found = runs[name]
    lines = to_plantuml(found).splitlines()
    assert lines[0] == "@startuml"
    assert lines[-1] == "@enduml"
    participants = [line.split()[-2] for line in lines if line.startswith("participant ")]
    assert participants == [
        p for p in PARTY_ORDER if p in {m.src for m in found} | {m.dst for m in found}
    ]
    arrows = [PLANTUML_ARROW.match(line) for line in lines if " : " in line]
    assert len(arrows) == len(found)
    for match, message in zip(arrows, found, strict=True):
        assert match is not None
        src, _colour, _dotted, dashed, cross, dst, label = match.groups()
        assert (src, dst) == (message.src, message.dst)
        assert (dashed == "-") == (message.direction == "response")
        assert (cross == "x") == (message.failed or message.kind in ("error", "decline"))
        assert _unplantuml(label) == f"step {message.step}: {short_summary(message.summary)}"
    separators = [line[3:-3] for line in lines if line.startswith("== ")]
    assert separators == _steps(found)


def test_labels_with_markup_and_separators_survive_both_languages(
    runs: dict[str, list[Message]],
) -> None:
    assert _unmermaid(escape_mermaid(NASTY)) == NASTY
    assert not set(escape_mermaid(NASTY).replace("#", "").replace(";", "")) & set(":<>%\n")
    escaped = escape_plantuml(NASTY)
    assert _unplantuml(escaped) == NASTY
    for markup in ("**", "//", "--", "__", '""', "~~", "[[", "<b>", "%date", "\\n"):
        assert markup not in escaped
    # the shortened label keeps the markup visible, never interpreted
    message = replace(runs["direct"][0], summary=NASTY[:60])
    assert _unmermaid(to_mermaid([message]).splitlines()[-1].split(": ", 1)[1]).endswith(NASTY[:60])


def test_long_urls_lose_their_query_string_in_labels(runs: dict[str, list[Message]]) -> None:
    redirect = next(m for m in runs["redirect"] if "/return?" in m.summary)
    label = build_sequence([redirect]).arrows[0].label
    assert label.endswith("/return?…")
    assert "sig=" not in to_mermaid([redirect])


def test_several_checkouts_name_the_checkout_in_their_notes(tmp_path: Path) -> None:
    found = messages(
        record_trace(tmp_path / "two.jsonl", Scenario(mode="direct"), Scenario(mode="direct"))
    )
    notes = [line for line in to_plantuml(found).splitlines() if line.startswith("== ")]
    assert notes[0] == "== Checkout 1, step 1: User checkout =="
    assert "== Checkout 2, step 1: User checkout ==" in notes


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("plantuml") is None, reason="plantuml is not installed")
def test_plantuml_itself_renders_the_exports_without_error(
    runs: dict[str, list[Message]], tmp_path: Path
) -> None:
    for name, found in runs.items():
        (tmp_path / f"{name}.puml").write_text(to_plantuml(found), encoding="utf-8")
    nasty = replace(runs["direct"][0], summary=NASTY[:70])
    (tmp_path / "nasty.puml").write_text(to_plantuml([nasty]), encoding="utf-8")
    sources = sorted(str(path) for path in tmp_path.glob("*.puml"))
    subprocess.run(["plantuml", "-tsvg", *sources], check=True, capture_output=True)
    for name in [*runs, "nasty"]:
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        # PlantUML exits 0 and draws its error into the image instead
        assert "Syntax Error" not in svg
        assert "error has occured" not in svg.lower()
        assert "step 1: GET /checkout" in svg or name == "nasty"
