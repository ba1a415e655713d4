"""The sequence view: an arrow per message, in step with the playhead, fast on long traces."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QColor

from payviz.diagrams.sequence import build_sequence
from payviz.diagrams.topology import OKABE_ITO
from payviz.engine.scenario import Scenario
from payviz.ui.diagram.painting import Theme
from payviz.ui.main_window import MainWindow
from payviz.ui.sequence_paint import CURRENT_ALPHA, mix
from payviz.ui.sequence_view import SequenceView
from tests.conftest import record_checkout
from tests.helpers.ui import many_messages, run_checkout, window_fixture

if TYPE_CHECKING:
    from tests.conftest import RecordedRun


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    yield from window_fixture(qtbot)


@pytest.fixture
def view(qtbot) -> SequenceView:
    made = SequenceView()
    qtbot.addWidget(made)
    made.resize(1200, 500)
    made.show()
    qtbot.waitExposed(made)
    return made


def test_one_arrow_per_message_between_the_parties_lifelines(view, direct_run: RecordedRun):
    view.set_messages(direct_run.messages)
    diagram = view.diagram
    assert len(diagram.arrows) == len(direct_run.messages)
    assert [a.seq for a in diagram.arrows] == [m.seq for m in direct_run.messages]
    assert diagram.participants == ("browser", "merchant", "gateway", "processor", "bank")
    columns = view.sequence_layout().columns
    assert list(columns) == list(diagram.participants)
    assert list(columns.values()) == sorted(columns.values())  # browser left, bank right
    changes = sum(a.step != b.step for a, b in itertools.pairwise(direct_run.messages))
    assert len(diagram.boundaries) == 1 + changes  # a note wherever the step changes
    assert diagram.boundaries[0].text.startswith("Step 1: ")


def test_the_window_shows_every_message_of_a_run_as_an_arrow(qtbot, window: MainWindow):
    run_checkout(qtbot, window)
    assert (
        len(window.sequence.diagram.arrows) == window.player.length == window.log_model.rowCount()
    )


def test_clicking_an_arrow_moves_the_playhead_log_and_inspector(qtbot, window: MainWindow):
    window.docks["sequence"].raise_()
    run_checkout(qtbot, window)
    window.player.go_to(0)
    sequence = window.sequence
    qtbot.waitUntil(sequence.isVisible)
    target = 4
    point = sequence.arrow_rect(target).center()
    assert sequence.index_at(point) == target
    qtbot.mouseClick(sequence.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.player.position == target
    assert window.log_model.current_row == target
    assert window.inspector.message is window.player.messages[target]
    selected = window.log.view.selectionModel().currentIndex()
    assert window.log_proxy.mapToSource(selected).row() == target
    header = QPoint(point.x(), 5)  # the participants' header is not an arrow
    qtbot.mouseClick(sequence.viewport(), Qt.MouseButton.LeftButton, pos=header)
    assert window.player.position == target


def test_the_playhead_arrow_is_highlighted_and_scrolled_into_view(qtbot, window: MainWindow):
    window.docks["sequence"].raise_()
    run_checkout(qtbot, window, mode="redirect")
    sequence = window.sequence
    qtbot.waitUntil(sequence.isVisible)
    last = window.player.length - 1
    window.playback_actions.last.trigger()  # the shortcut's action: the end of the trace
    assert sequence.current == last
    row = sequence.arrow_rect(last)
    assert sequence.viewport().rect().contains(row)
    image = sequence.viewport().grab().toImage()
    band = mix(
        Theme.from_palette(sequence.palette()).background,
        QColor(OKABE_ITO["orange"]),
        CURRENT_ALPHA,
    )
    assert image.pixelColor(4, row.center().y()).name() == band.name()
    window.player.go_to(0)  # clicking a log row or stepping: the highlight follows
    assert sequence.current == 0
    image = sequence.viewport().grab().toImage()
    assert image.pixelColor(4, sequence.arrow_rect(0).center().y()).name() == band.name()
    assert image.pixelColor(4, sequence.arrow_rect(1).center().y()).name() != band.name()


def test_a_twenty_thousand_message_trace_paints_only_what_is_visible(
    qtbot, view: SequenceView, direct_run: RecordedRun
):
    children_before = len(view.findChildren(QObject))
    messages = many_messages(direct_run.messages, 20_000)
    view.set_messages(messages)
    assert len(view.diagram.arrows) == 20_000
    assert len(view.findChildren(QObject)) == children_before  # no item per message
    bar = view.verticalScrollBar()
    assert bar.maximum() > 20_000 * 40
    for value in (bar.maximum() // 2, bar.maximum(), 0):
        bar.setValue(value)
        view.viewport().repaint()
        assert 0 < len(view.painted) < 40
        top = view.sequence_layout().index_near(value + view.sequence_layout().header)
        assert view.painted.start <= top + 1
        assert top < view.painted.stop
    view.set_current(12_345)
    view.viewport().repaint()
    assert 12_345 in view.painted
    point = view.arrow_rect(12_345).center()
    assert view.index_at(point) == 12_345


def test_behind_the_log_tab_a_long_trace_is_laid_out_only_once_the_tab_is_opened(
    qtbot, window: MainWindow, direct_run: RecordedRun
):
    sequence = window.sequence
    window.docks["log"].raise_()
    window.show_records(many_messages(direct_run.messages, 5_000))
    window.player.go_to(4_000)
    # Nobody looks at it: opening or recording a long trace costs it nothing yet.
    assert sequence.current == 4_000
    assert sequence._layout is None
    window.docks["sequence"].raise_()
    qtbot.waitUntil(
        lambda: sequence.viewport().rect().contains(sequence.arrow_rect(4_000)), timeout=5_000
    )
    assert 4_000 in sequence.painted


def test_messages_arriving_in_batches_draw_as_one_trace(view: SequenceView) -> None:
    first = record_checkout(Scenario(mode="direct"))
    second = record_checkout(Scenario(mode="redirect", decision="decline"))
    later = [dataclasses.replace(m, checkout=2, seq=m.seq + 1000) for m in second.messages]
    messages = [*first.messages, *later]
    view.set_messages([])
    for start in range(0, len(messages), 7):  # batches as the bridge hands them over
        view.append_messages(messages[start : start + 7])
        view.viewport().repaint()
    assert view.diagram == build_sequence(messages)  # notes now name their checkout
    assert view.diagram.boundaries[0].text.startswith("Checkout 1, step 1")
