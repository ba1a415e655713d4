"""The load dialog: run many checkouts at once and watch throughput, latency and traffic.

The load runs on its own thread with its own Session (`payviz.engine.load.run_load`), so
the engine bridge's single-checkout session and the UI stay untouched; a QTimer reads the
run's `LoadMonitor` ten times a second and redraws. The main window can lay the traffic
per link over its diagram with `show_heat(view)`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from payviz.diagrams.load_stats import (
    hop_latencies,
    latency_histogram,
    percentile,
    throughput_series,
    undirected,
)
from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO
from payviz.engine._types import MODES, Party
from payviz.engine.load import LoadMonitor, LoadPlan, LoadResult, MixError, parse_mix, run_load

from .diagram import DiagramView
from .diagram.heat import HeatOverlay, show_heat
from .load_charts import HistogramChart, ThroughputChart

Link = tuple[Party, Party]
REFRESH_MS = 100
TILE_CAPTIONS = {
    "throughput": "checkouts/s",
    "approved": "approved",
    "latency": "p95 checkout",
    "invariants": "invariants",
}


class LoadDialog(QDialog):
    """Inputs for a load run, its progress and two live charts.

    Signals:
        load_finished(object): the LoadResult, once the run is over.
        load_failed(str): why the run could not go on.
        link_counts_changed(dict): messages per diagram link so far, on every refresh.

    Attributes:
        count_box, concurrency_box, mix_edit, mode_box: the inputs; start_button.
        progress_bar, status_label, throughput_chart, latency_chart: what is shown.
        monitor: the running (or last) run's LoadMonitor; last_result: the last LoadResult.
        link_counts: messages per diagram link (both directions), last seen.
    """

    load_finished = Signal(object)
    load_failed = Signal(str)
    link_counts_changed = Signal(object)
    _run_ended = Signal(object, object)  # (result, error) from the load thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Load run")
        self.monitor: LoadMonitor | None = None
        self.last_result: LoadResult | None = None
        self.link_counts: dict[Link, int] = {}
        self._thread: threading.Thread | None = None
        self.count_box = QSpinBox()
        self.count_box.setRange(1, 1_000_000)
        self.count_box.setValue(200)
        self.count_box.setGroupSeparatorShown(True)
        self.concurrency_box = QSpinBox()
        self.concurrency_box.setRange(1, 1000)
        self.concurrency_box.setValue(10)
        self.mix_edit = QLineEdit("approve=0.8,decline=0.2")
        self.mix_edit.setToolTip("bank decisions and their shares, e.g. approve=0.8,decline=0.2")
        self.mode_box = QComboBox()
        for mode in MODES:
            self.mode_box.addItem(mode.capitalize(), mode)
        self.start_button = QPushButton("Start load")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p %")
        self.status_label = QLabel("Set the run up and press Start.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.throughput_chart = ThroughputChart()
        self.latency_chart = HistogramChart()
        self.hops_label = QLabel("")
        self.hops_label.setTextFormat(Qt.TextFormat.RichText)
        self._layout()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_refresh)
        self._run_ended.connect(self._on_run_ended, Qt.ConnectionType.QueuedConnection)

    def _layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        for box in (self.count_box, self.concurrency_box):
            box.setMinimumWidth(120)
        self.mix_edit.setMinimumWidth(220)
        form.addRow("Checkouts", self.count_box)
        form.addRow("At once", self.concurrency_box)
        form.addRow("Outcome mix", self.mix_edit)
        form.addRow("Flow", self.mode_box)
        form.addRow("", self.start_button)
        self.tiles = {key: QLabel() for key in ("throughput", "approved", "latency", "invariants")}
        tiles = QGridLayout()
        for index, label in enumerate(self.tiles.values()):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setFrameShape(QFrame.Shape.StyledPanel)
            label.setMinimumSize(150, 74)
            tiles.addWidget(label, index // 2, index % 2)
        self._set_tiles(None)
        top = QHBoxLayout()
        top.addLayout(form)
        top.addSpacing(24)
        top.addLayout(tiles, 1)
        charts = QHBoxLayout()
        charts.addWidget(self.throughput_chart, 1)
        charts.addWidget(self.latency_chart, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addLayout(charts, 1)
        heading = QLabel("<b>Latency per hop</b> (requester → responder, wall clock)")
        layout.addWidget(heading)
        layout.addWidget(self.hops_label)

    def _set_tiles(self, monitor: LoadMonitor | None, result: LoadResult | None = None) -> None:
        def tile(value: str, caption: str, colour: str = "") -> str:
            style = f" style='color:{colour}'" if colour else ""
            return (
                f"<span style='font-size:20pt; font-weight:600'{style}>{value}</span>"
                f"<br><span style='font-size:10pt'>{caption}</span>"
            )

        if monitor is None or monitor.done == 0:
            values = {key: ("-", caption) for key, caption in TILE_CAPTIONS.items()}
        else:
            elapsed = monitor.elapsed()
            durations = list(monitor.durations)
            values = {
                "throughput": (f"{monitor.done / max(elapsed, 1e-9):,.0f}", "checkouts/s"),
                "approved": (f"{monitor.approved / monitor.done:.0%}", "approved"),
                "latency": (f"{percentile(durations, 95) * 1000:,.0f} ms", "p95 checkout"),
                "invariants": ("…", "invariants"),
            }
        if result is not None:
            values["throughput"] = (f"{result.throughput:,.0f}", "checkouts/s")
            ok = not result.violations
            values["invariants"] = (
                "hold" if ok else f"{len(result.violations)} broken",
                "invariants",
            )
        for key, (value, caption) in values.items():
            colour = ""
            if key == "invariants" and result is not None:
                colour = OKABE_ITO["bluish_green"] if not result.violations else ERROR_COLOUR
            self.tiles[key].setText(tile(value, caption, colour))

    # -- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def plan(self) -> LoadPlan:
        """The run the inputs describe (raises MixError for a bad mix)."""
        return LoadPlan(
            count=self.count_box.value(),
            concurrency=self.concurrency_box.value(),
            mix=parse_mix(self.mix_edit.text()),
            mode=self.mode_box.currentData(),
        )

    def start(self) -> bool:
        """Start a run on its own thread; False (and a message) if it cannot start."""
        if self.running:
            return False
        try:
            plan = self.plan()
        except MixError as exc:
            self.status_label.setText(f"Outcome mix: {exc}")
            return False
        self.last_result = None
        self.monitor = LoadMonitor(plan.count)
        self.progress_bar.setValue(0)
        self.status_label.setText(f"Running {plan.count:,} checkouts, {plan.concurrency} at once…")
        self._set_inputs_enabled(False)
        monitor = self.monitor

        def work() -> None:
            try:
                result = asyncio.run(run_load(plan, monitor))
            except Exception as exc:  # reported in the dialog, never lost on the thread
                self._run_ended.emit(None, f"{exc.__class__.__name__}: {exc}")
                return
            self._run_ended.emit(result, None)

        self._thread = threading.Thread(target=work, name="payviz-load", daemon=True)
        self._thread.start()
        self._timer.start()
        return True

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.count_box, self.concurrency_box, self.mix_edit, self.mode_box):
            widget.setEnabled(enabled)
        self.start_button.setEnabled(enabled)

    def _on_refresh(self) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        self.progress_bar.setValue(round(monitor.fraction * 100))
        finished, durations = list(monitor.finished), list(monitor.durations)
        bucket = _bucket(finished)
        self.throughput_chart.set_points(throughput_series(finished, bucket, 8 * bucket))
        self._set_tiles(monitor)
        self.latency_chart.set_histogram(latency_histogram(durations))
        self.link_counts = undirected(monitor.snapshot_links())
        self.link_counts_changed.emit(dict(self.link_counts))
        elapsed = monitor.elapsed()
        rate = monitor.done / elapsed if elapsed > 0 else 0.0
        self.status_label.setText(
            f"{monitor.done:,} of {monitor.total:,} checkouts · {rate:,.1f}/s · "
            f"{monitor.approved:,} paid"
            + (f" · p95 {percentile(durations, 95) * 1000:,.0f} ms" if durations else "")
        )

    def _on_run_ended(self, result: object, error: object) -> None:
        self._timer.stop()
        self._on_refresh()
        self._thread = None
        self._set_inputs_enabled(True)
        if not isinstance(result, LoadResult):
            self.status_label.setText(f"The load run stopped: {error}")
            self.load_failed.emit(str(error))
            return
        self.last_result = result
        self.progress_bar.setValue(100)
        self.link_counts = undirected(result.link_counts)
        self.status_label.setText(summary(result))
        self._set_tiles(self.monitor, result)
        self.hops_label.setText(hops_table(result))
        self.link_counts_changed.emit(dict(self.link_counts))
        self.load_finished.emit(result)

    # -- for the main window ---------------------------------------------------------------

    def show_heat(self, view: DiagramView) -> HeatOverlay:
        """Lay the traffic per link seen so far over `view`'s diagram."""
        return show_heat(view.diagram_scene, self.link_counts)


def _bucket(finished: list[float]) -> float:
    """Time buckets of about a fiftieth of the run, at least a tenth of a second."""
    return max(0.1, (max(finished, default=0.0) / 50))


def summary(result: LoadResult) -> str:
    verdict = (
        "all invariants hold"
        if not result.violations
        else f"{len(result.violations)} invariant violations"
    )
    durations = result.durations
    return (
        f"{len(result.finished):,} checkouts in {result.elapsed:.1f} s · "
        f"{result.throughput:,.1f}/s · {result.approval_rate:.0%} approved · "
        f"p50 {percentile(durations, 50) * 1000:,.0f} ms, p99 "
        f"{percentile(durations, 99) * 1000:,.0f} ms · {verdict}"
    )


def hops_table(result: LoadResult) -> str:
    """Latency per hop as a small rich-text table."""
    rows = "".join(
        f"<tr><td>{h.link[0]} → {h.link[1]}</td><td align=right>{h.count:,}</td>"
        f"<td align=right>{h.p50 * 1000:.1f}</td><td align=right>{h.p95 * 1000:.1f}</td>"
        f"<td align=right>{h.p99 * 1000:.1f}</td></tr>"
        for h in hop_latencies(result.hops)
    )
    head = (
        "<tr><th align=left>hop</th><th>count</th><th>p50 ms</th><th>p95 ms</th>"
        "<th>p99 ms</th></tr>"
    )
    return f"<table cellspacing=0 cellpadding=3>{head}{rows}</table>"


def snapshot(path: Path, count: int = 300, concurrency: int = 10) -> None:
    """Run a load in the dialog and save the dialog as a PNG (docs/screenshots)."""
    app = QApplication.instance() or QApplication(["payviz"])
    dialog = LoadDialog()
    dialog.resize(1000, 780)
    dialog.count_box.setValue(count)
    dialog.concurrency_box.setValue(concurrency)
    dialog.show()
    done: list[object] = []
    dialog.load_finished.connect(done.append)
    dialog.load_failed.connect(done.append)
    dialog.start()
    while not done:
        app.processEvents()
        if dialog._thread is not None:
            dialog._thread.join(0.1)
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(path))


if __name__ == "__main__":
    snapshot(Path(sys.argv[1] if len(sys.argv) > 1 else "load-dialog.png"))
