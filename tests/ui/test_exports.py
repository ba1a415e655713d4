"""Pictures of a checkout: the sequence diagram as PNG (2x) and SVG, from the app or the CLI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtGui import QImage

from payviz.diagrams.sequence import participant_label
from payviz.diagrams.session_file import save_session
from payviz.ui.main_window import MainWindow
from payviz.ui.render import EXPORT_WIDTH, MAX_PNG_SIDE, export_diagram, export_image
from tests.helpers.engine import run_cli
from tests.helpers.ui import many_messages, run_checkout, window_fixture

if TYPE_CHECKING:
    from tests.conftest import RecordedRun

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    yield from window_fixture(qtbot)


def _texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [" ".join(element.itertext()).strip() for element in root.iter(f"{SVG}text")]


def test_png_exports_are_twice_the_size_at_2x(qapp, tmp_path: Path, direct_run: RecordedRun):
    single, double = tmp_path / "1x.png", tmp_path / "2x.png"
    export_image(direct_run.messages, single, "png", scale=1.0)
    export_image(direct_run.messages, double, "png")  # 2x is the default
    one, two = QImage(str(single)), QImage(str(double))
    assert single.read_bytes().startswith(b"\x89PNG")
    assert one.width() == EXPORT_WIDTH
    assert (two.width(), two.height()) == (2 * one.width(), 2 * one.height())
    assert one.height() > 40 * len(direct_run.messages)  # every row is there


def test_svg_export_is_xml_with_a_text_for_every_participant(
    qapp, tmp_path: Path, direct_run: RecordedRun
):
    path = tmp_path / "sequence.svg"
    export_image(direct_run.messages, path, "svg")
    texts = _texts(path)
    for party in ("browser", "merchant", "gateway", "processor", "bank"):
        assert participant_label(party) in texts
    assert any(text.startswith("Step 2: ") for text in texts)  # the step notes
    assert any("POST /v1/payments" in text for text in texts)  # the arrows' labels


def test_a_trace_too_long_for_one_png_is_cut_to_a_size_viewers_open(
    qapp, tmp_path: Path, direct_run: RecordedRun
):
    path = tmp_path / "long.png"
    export_image(many_messages(direct_run.messages, 1_000), path, "png", scale=1.0)
    image = QImage(str(path))  # a reader refuses pictures over 256 MB: this one opens
    assert MAX_PNG_SIDE - 100 < image.height() <= MAX_PNG_SIDE
    assert image.width() == EXPORT_WIDTH


def test_payviz_export_writes_a_png_from_the_command_line(tmp_path: Path, direct_run: RecordedRun):
    trace, target = tmp_path / "run.jsonl", tmp_path / "f.png"
    save_session(trace, direct_run.records)
    result = run_cli("export", str(trace), "--to", "png", "-o", str(target))
    assert result.status == 0, result.stderr
    assert QImage(str(target)).width() == 2 * EXPORT_WIDTH
    svg = tmp_path / "f.svg"
    assert run_cli("export", str(trace), "--to", "svg", "-o", str(svg)).status == 0
    assert "Processor" in _texts(svg)
    small = tmp_path / "small.png"
    assert (
        run_cli("export", str(trace), "--to", "png", "--scale", "1", "-o", str(small)).status == 0
    )
    assert QImage(str(small)).width() == EXPORT_WIDTH
    for fmt in ("png", "svg"):
        nowhere = run_cli("export", str(trace), "--to", fmt, "-o", str(tmp_path / "no" / "f"))
        assert nowhere.status == 2
        assert "cannot write" in nowhere.stderr or "No such file" in nowhere.stderr


def test_the_component_diagram_exports_at_a_given_message(
    qapp, tmp_path: Path, direct_run: RecordedRun
):
    jwe = next(m for m in direct_run.messages if m.encrypted)
    png, svg = tmp_path / "diagram.png", tmp_path / "diagram.svg"
    export_diagram(direct_run.records, jwe.seq, png, "png")
    export_diagram(direct_run.records, jwe.seq, svg, "svg")
    assert QImage(str(png)).width() > 1000
    assert any("Gateway" in text for text in _texts(svg))


def test_the_file_menu_exports_text_and_pictures(qtbot, window: MainWindow, tmp_path: Path):
    run_checkout(qtbot, window)
    menu = window.file_menu
    for kind, name in (("mermaid", "a.mmd"), ("plantuml", "a.puml"), ("jsonl", "a.jsonl")):
        assert menu.export_to(kind, tmp_path / name)
    assert (tmp_path / "a.mmd").read_text(encoding="utf-8").startswith("sequenceDiagram")
    assert '"keylog"' not in (tmp_path / "a.jsonl").read_text(encoding="utf-8")  # no secrets
    for kind in ("diagram-png", "sequence-png", "diagram-svg", "sequence-svg"):
        assert menu.export_to(kind, tmp_path / f"{kind}.{kind[-3:]}")
    sequence = QImage(str(tmp_path / "sequence-png.png"))
    assert sequence.width() == 2 * EXPORT_WIDTH
    assert "Bank" in _texts(tmp_path / "sequence-svg.svg")
    assert not menu.export_to("mermaid", tmp_path / "missing" / "a.mmd")  # said, not raised
    assert "could not be written" in window.statusBar().currentMessage()


def test_the_export_menu_offers_every_text_format_with_its_suffix(window: MainWindow) -> None:
    from payviz.diagrams.exports import SUFFIXES, TEXT_FORMATS
    from payviz.ui.file_menu import IMAGE_EXPORTS, TEXT_LABELS, export_suffix

    assert tuple(TEXT_LABELS) == TEXT_FORMATS
    shown = [action.text() for action in window.file_menu.export_menu.actions()]
    labels = [*TEXT_LABELS.values(), *IMAGE_EXPORTS.values()]
    assert [text for text in shown if text] == [f"{label}\u2026" for label in labels]
    assert [export_suffix(fmt) for fmt in TEXT_FORMATS] == list(SUFFIXES.values())
    assert export_suffix("sequence-svg") == ".svg"
