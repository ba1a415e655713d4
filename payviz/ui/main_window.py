"""The main window: the animated diagram in the middle, log, inspector and narration around.

Every view follows one Player: the diagram's token, the highlighted log row and sequence
arrow, the inspector, the narration and the status bar all show the message at the
playhead. What is shown is either the live session's trace or a file opened from the File
menu (a saved session, a trace or a HAR), replayed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QLayout,
    QScrollArea,
    QWidget,
)

from payviz.diagrams.topology import OKABE_ITO

if TYPE_CHECKING:
    from payviz.diagrams.lazy_trace import OpenedTrace
    from payviz.engine.invariants import Violation
    from payviz.engine.session import CheckoutResult
    from payviz.engine.trace import Record

    from .diagram.heat import Link
    from .faults_panel import FaultsPanel
    from .load_dialog import LoadDialog
    from .sequence_view import SequenceView

from .bridge import EngineBridge
from .controls import (
    PlaybackActions,
    PlaybackControls,
    RunControls,
    connect_actions,
    media_icon,
)
from .diagram import DiagramView, LegendWidget
from .file_menu import FileMenu
from .inspector import InspectorPanel
from .invariants_badge import InvariantsBadge, describe
from .log_filter import TraceFilterProxy
from .log_model import LogPanel, TraceTableModel, svg_icon
from .narration import NarrationPanel
from .player import Player
from .window_replay import ReplayWindow
from .window_view import ViewWindow

ORGANIZATION = APPLICATION = "payviz"
# The sequence view's minimum size (its `minimumSizeHint`), kept by its dock until the view
# is made: the window's minimum size is the same before and after.
SEQUENCE_MINIMUM = (200, 120)


def app_icon() -> QIcon:
    return svg_icon("app")


def _placeholder(minimum: tuple[int, int] = (0, 0)) -> QWidget:
    """What a dock holds until its panel is made: empty, as small as the panel can be."""
    widget = QWidget()
    widget.setMinimumSize(*minimum)
    return widget


def _scrolling(widget: QWidget) -> QScrollArea:
    """The widget in a scroll area: a dock shown later must not raise the window's minimum."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    return area


class MainWindow(ReplayWindow, ViewWindow):
    """payviz's window: run a checkout, then replay it hop by hop.

    This class builds the window and runs the engine; feeding the views what is shown is
    `ReplayWindow`'s part, zoom, help and saved settings `ViewWindow`'s.

    Attributes:
        bridge: the EngineBridge (engine thread); player: the playhead.
        log_model / log_proxy: the trace as a table and its filter.
        diagram, inspector, narration, log, sequence: the views; run_controls,
            playback_controls: the toolbar widgets; faults: the faults panel. The sequence
            view and the faults panel start behind other tabs: they are made once the
            window is on screen, or when first shown or asked for.
        records: the records shown, in order (the live session's, or an opened file's).
        source: the file shown, or None for the live session.
        file_menu: the File menu's commands; invariants_badge: the last run's verdict.
    """

    def __init__(
        self,
        bridge: EngineBridge | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("payviz")
        self._owns_bridge = bridge is None
        self.bridge = bridge or EngineBridge(parent=self)
        self.settings = settings or QSettings(ORGANIZATION, APPLICATION)
        self.player = Player(self)
        self.records: list[Record] = []
        self._lazy: OpenedTrace | None = None  # a long file, read as it is shown
        self.source: Path | None = None
        self._live_records: list[Record] = []
        self._opened: dict[str, Any] = {}  # an opened file's keylog, started and scenarios
        self._violations: list[Violation] | None = None
        self.log_model = TraceTableModel(self)
        self.log_proxy = TraceFilterProxy(self)
        self.log_proxy.setSourceModel(self.log_model)
        self._scale = 1.0
        self._painted = False
        self._apply_font()

        self.load_dialog: LoadDialog | None = None
        self.diagram = DiagramView(self)
        self.diagram.set_records(self.records)
        self.setCentralWidget(self.diagram)
        self.inspector = InspectorPanel()
        self.narration = NarrationPanel()
        self.log = LogPanel(self.log_proxy)
        self._sequence: SequenceView | None = None
        self.legend = LegendWidget()
        self._faults: FaultsPanel | None = None
        legend_area = _scrolling(self.legend)
        self.docks = {
            "narration": self._dock(
                "Narration", self.narration, Qt.DockWidgetArea.BottomDockWidgetArea
            ),
            "log": self._dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea),
            "sequence": self._dock(
                "Sequence", _placeholder(SEQUENCE_MINIMUM), Qt.DockWidgetArea.BottomDockWidgetArea
            ),
            "inspector": self._dock(
                "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
            ),
            "legend": self._dock("Legend", legend_area, Qt.DockWidgetArea.RightDockWidgetArea),
            "faults": self._dock("Faults", _placeholder(), Qt.DockWidgetArea.RightDockWidgetArea),
        }
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.docks["narration"], self.docks["log"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["log"], self.docks["sequence"])  # "Log | Sequence"
        self.tabifyDockWidget(self.docks["inspector"], self.docks["faults"])
        self.docks["log"].raise_()
        self.docks["inspector"].raise_()
        self.docks["legend"].hide()
        self.docks["faults"].hide()

        self.run_action = self._action("&Run checkout", "Ctrl+R", self._on_run_triggered)
        self.run_action.setIcon(media_icon("play", QColor(OKABE_ITO["bluish_green"])))
        self.run_action.setToolTip("Run a checkout with these choices (Ctrl+R)")
        self.playback_actions = PlaybackActions.create(self)
        connect_actions(self.playback_actions, self.player)
        self.run_controls = RunControls(self.run_action)
        self.playback_controls = PlaybackControls(self.playback_actions)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.run_controls)
        self.addToolBarBreak()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.playback_controls)
        self.outcome_label = QLabel("")
        self.outcome_label.setMinimumWidth(420)  # fixed floor: text changes never resize
        self.invariants_badge = InvariantsBadge()
        self.statusBar().addPermanentWidget(self.invariants_badge)
        self.statusBar().addPermanentWidget(self.outcome_label)
        self.setAcceptDrops(True)
        self._build_menus()
        self._connect()
        self.resize(1600, 1000)
        self._restored = self._restore_settings()
        self.statusBar().showMessage("Ready: press Run checkout (Ctrl+R).")
        # Settle the minimum size before a native window exists, so showing it does not
        # have to push size hints to the platform again (offscreen cannot, and says so).
        layout = self.layout()
        if layout is not None:
            layout.activate()

    # -- construction ----------------------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _fill_dock(self, key: str, widget: QWidget) -> None:
        """Put a panel made later in its dock, in place of the placeholder."""
        dock = self.docks[key]
        placeholder = dock.widget()
        dock.setWidget(widget)
        if placeholder is not None:
            placeholder.deleteLater()

    @property
    def sequence(self) -> SequenceView:
        return self._make_sequence() if self._sequence is None else self._sequence

    @property
    def faults(self) -> FaultsPanel:
        return self._make_faults() if self._faults is None else self._faults

    def _make_sequence(self) -> SequenceView:
        """The sequence view, showing what the player holds (its messages and position)."""
        from .sequence_view import SequenceView

        view = self._sequence = SequenceView()
        view.set_scale(self._scale)
        view.set_messages(self.player.messages)
        view.set_current(self.player.position)
        view.arrow_activated.connect(self.player.go_to)
        self._fill_dock("sequence", view)
        return view

    def _make_faults(self) -> FaultsPanel:
        """The faults panel, offering the links of the toolbar's flow."""
        from .faults_panel import FaultsPanel

        panel = self._faults = FaultsPanel()
        panel.set_mode(self.run_controls.mode)
        panel.faults_changed.connect(self.run_controls.set_faults)
        self.run_controls.mode_changed.connect(panel.set_mode)
        self._fill_dock("faults", _scrolling(panel))
        return panel

    def _make_panels(self, visible: bool = True) -> None:
        """Make the panels that start behind other tabs (when one of them is shown)."""
        if visible and self._sequence is None:
            self._make_sequence()
        if visible and self._faults is None:
            self._make_faults()

    def _action(
        self, text: str, key: str, slot: object, *more: QKeySequence.StandardKey
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(key), *(QKeySequence(k) for k in more)])
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.file_menu = FileMenu(self, file_menu)
        file_menu.addAction(self._action("&Quit", "Ctrl+Q", self.close))
        view = menu.addMenu("&View")
        legend = self.docks["legend"].toggleViewAction()
        legend.setText("&Legend")
        view.addAction(legend)
        view.addSeparator()
        view.addAction(
            self._action("Zoom &in", "Ctrl+=", self.zoom_in, QKeySequence.StandardKey.ZoomIn)
        )
        view.addAction(
            self._action("Zoom &out", "Ctrl+-", self.zoom_out, QKeySequence.StandardKey.ZoomOut)
        )
        view.addAction(self._action("&Reset zoom", "Ctrl+0", self.reset_zoom))
        view.addAction(self._action("&Full screen", "F11", self.toggle_full_screen))
        view.addSeparator()
        for key in ("narration", "log", "sequence", "inspector", "faults"):
            view.addAction(self.docks[key].toggleViewAction())
        run = menu.addMenu("&Run")
        run.addAction(self.run_action)
        run.addAction(self._action("&Faults…", "Ctrl+Shift+F", self.show_faults))
        run.addAction(self._action("&Load test…", "Ctrl+L", self.show_load_test))
        run.addSeparator()
        actions = self.playback_actions
        for action in (actions.play, actions.forward, actions.back, actions.first, actions.last):
            run.addAction(action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard shortcuts", "F1", self.show_shortcuts))
        help_menu.addAction(self._action("&About payviz", "", self.show_about))

    def _connect(self) -> None:
        bridge, player = self.bridge, self.player
        bridge.records_recorded.connect(self._on_records_recorded)
        bridge.checkout_finished.connect(self._on_checkout_finished)
        bridge.checkout_failed.connect(self._on_checkout_failed)
        bridge.invariants_checked.connect(self._on_invariants_checked)
        bridge.busy_changed.connect(self._on_busy_changed)
        player.position_changed.connect(self._on_position_changed)
        player.playing_changed.connect(self.playback_actions.set_playing)
        player.length_changed.connect(self.playback_controls.set_length)
        player.speed_changed.connect(self.playback_controls.set_speed)
        self.playback_controls.speed_selected.connect(player.set_speed)
        self.playback_controls.scrubbed.connect(player.go_to)
        self.diagram.token_arrived.connect(player.on_token_arrived)
        self.log.row_activated.connect(player.go_to)
        for key in ("sequence", "faults"):
            self.docks[key].visibilityChanged.connect(self._make_panels)

    # -- engine ----------------------------------------------------------------------------

    def _on_run_triggered(self) -> None:
        self._clear_heat()  # single tokens again, not a load run's traffic
        if self.source is not None:  # back from a file to the live session
            self.show_records(self._live_records)
        if self.bridge.run_checkout(self.run_controls.scenario_fields()):
            self.player.set_live(True)
            self.player.play_from(self.player.length)  # follow the new checkout from its start
            self.statusBar().showMessage("Running a checkout...")

    def _on_invariants_checked(self, violations: list[Violation]) -> None:
        self._violations = violations
        if self.source is None:
            self.invariants_badge.show_result(violations)

    def _on_checkout_finished(self, result: CheckoutResult) -> None:
        count = result.last_seq - result.first_seq + 1
        scenario = self.bridge.scenarios.get(result.checkout)
        faults = f" with {', '.join(scenario.faults)}" if scenario and scenario.faults else ""
        verdict = describe(self._violations) if self._violations is not None else ""
        self.statusBar().showMessage(
            f"Checkout {result.checkout} recorded{faults}: {count} records. {verdict} "
            "Step through it with the arrow keys."
        )

    # -- files, load test, faults ----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if FileMenu.dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = FileMenu.dropped_file(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.file_menu.open_path(path)

    def show_load_test(self) -> LoadDialog:
        """Run -> Load test: many checkouts at once; the diagram shows traffic per link."""
        dialog = self.load_dialog
        if dialog is None:
            from .load_dialog import LoadDialog  # the load engine loads when first asked for

            dialog = self.load_dialog = LoadDialog(self)
            dialog.link_counts_changed.connect(self._on_link_counts_changed)
            # Size constraints fixed before the window exists: the layout must not change
            # them once shown (window systems are told each change, some refuse it).
            layout = dialog.layout()
            if layout is not None:
                layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
            dialog.setMinimumSize(dialog.sizeHint())
        if dialog.isVisible():
            dialog.raise_()
        else:
            dialog.show()
        return dialog

    def _on_link_counts_changed(self, counts: Mapping[Link, int]) -> None:
        from .diagram.heat import show_heat

        show_heat(self.diagram.diagram_scene, counts)

    def _clear_heat(self) -> None:
        from .diagram.heat import HeatOverlay

        overlay = self.diagram.diagram_scene.findChild(HeatOverlay)
        if isinstance(overlay, HeatOverlay):
            overlay.clear()

    def show_faults(self) -> None:
        self._make_panels()
        self.docks["faults"].show()
        self.docks["faults"].raise_()

    def _on_checkout_failed(self, reason: str) -> None:
        self.player.set_live(False)
        self.statusBar().showMessage(f"\u2718 Checkout not run: {reason}")

    def _on_busy_changed(self, busy: bool) -> None:
        self.run_action.setEnabled(not busy)
        self.file_menu.set_busy(busy)
        if not busy:
            self.player.set_live(False)

    # -- on screen -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._restored:  # first run: the diagram gets the room, docks their share
            self._restored = True
            self.resizeDocks([self.docks["inspector"]], [620], Qt.Orientation.Horizontal)
            self.resizeDocks(
                [self.docks["narration"], self.docks["log"]], [165, 285], Qt.Orientation.Vertical
            )

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self._after_first_paint)  # dropped if self is gone

    def _after_first_paint(self) -> None:
        """On screen: the panels behind other tabs are made and the engine (its thread,
        services and session) starts now, so none of it delays the first paint. Each is
        also made when first needed (a checkout asked for earlier starts the engine).

        The icon (drawn by the window system, not in the window) comes now too: reading
        its SVG loads Qt's SVG image plugin. It is the application's: every window and
        dialog shows it."""
        QApplication.setWindowIcon(app_icon())
        self._make_panels()
        self.bridge.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.player.pause()
        if self._owns_bridge:
            self.bridge.shutdown()
        event.accept()
