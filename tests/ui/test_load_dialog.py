"""The load dialog runs a small load on its own thread and shows it as it goes."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from payviz.diagrams.load_stats import undirected
from payviz.engine.load import LoadResult
from payviz.ui.diagram import DiagramView
from payviz.ui.load_dialog import LoadDialog


def test_a_small_load_fills_progress_charts_and_heat_while_the_ui_keeps_ticking(
    qtbot: QtBot,
) -> None:
    dialog = LoadDialog()
    qtbot.addWidget(dialog)
    dialog.count_box.setValue(20)
    dialog.concurrency_box.setValue(5)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    with qtbot.waitSignal(dialog.load_finished, timeout=60_000) as finished:
        assert dialog.start()
        assert dialog.running
    timer.stop()
    result = finished.args[0]
    assert isinstance(result, LoadResult)
    assert len(result.results) == 20
    assert not result.violations
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 100
    assert dialog.throughput_chart.points
    assert dialog.latency_chart.histogram.total == 20
    assert len(ticks) >= 3, "the UI thread stopped while the load ran"

    view = DiagramView()
    qtbot.addWidget(view)
    overlay = dialog.show_heat(view)
    counts = undirected(result.link_counts)
    assert overlay.counts == {key: counts.get(key, 0) for key in view.diagram_scene.links}
    busiest = max(counts, key=lambda key: counts[key])
    quietest = min(counts, key=lambda key: counts[key])
    assert counts[busiest] > counts[quietest]
    assert overlay.width_of(busiest) > overlay.width_of(quietest) > 0
    unused = [key for key in view.diagram_scene.links if key not in counts]
    assert unused
    assert all(overlay.width_of(key) == 0 for key in unused)


def test_a_bad_mix_is_refused_at_the_door(qtbot: QtBot) -> None:
    dialog = LoadDialog()
    qtbot.addWidget(dialog)
    dialog.mix_edit.setText("approve=0.5,teleport=0.5")
    assert not dialog.start()
    assert "teleport" in dialog.status_label.text()
    assert not dialog.running
