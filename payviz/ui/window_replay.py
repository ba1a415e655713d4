"""What the main window shows: the live session's records or an opened file's, and the
views following the playhead through them.

`ReplayWindow` is the part of `MainWindow` that hands records to the views (log, player,
sequence, diagram) and, at every move of the playhead, shows its message in each of them.
The window builds the views; this class only feeds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QMainWindow

from payviz.diagrams.node_state import node_states
from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO

from .narration import step_caption

if TYPE_CHECKING:
    from payviz.diagrams.lazy_trace import OpenedTrace
    from payviz.engine.invariants import Violation
    from payviz.engine.scenario import Scenario
    from payviz.engine.trace import Record

    from .bridge import EngineBridge
    from .controls import PlaybackControls
    from .diagram import DiagramView
    from .inspector import InspectorPanel
    from .invariants_badge import InvariantsBadge
    from .log_model import LogPanel, TraceTableModel
    from .narration import NarrationPanel
    from .player import Player
    from .sequence_view import SequenceView

STEP_LOOKBACK = 10_000  # messages from the end searched for a step of the latest checkout


class ReplayWindow(QMainWindow):
    """Records in, the message at the playhead out to every view (see `MainWindow`)."""

    bridge: EngineBridge
    player: Player
    records: list[Record]
    source: Path | None
    log_model: TraceTableModel
    log: LogPanel
    diagram: DiagramView
    inspector: InspectorPanel
    narration: NarrationPanel
    invariants_badge: InvariantsBadge
    playback_controls: PlaybackControls
    outcome_label: QLabel
    _sequence: SequenceView | None
    _lazy: OpenedTrace | None
    _live_records: list[Record]
    _opened: dict[str, Any]
    _violations: list[Violation] | None

    def _on_records_recorded(self, records: list[Record]) -> None:
        from payviz.engine.trace import Message

        self._live_records.extend(records)
        if self.source is not None:  # a file is shown; the live trace waits for Run
            return
        self.records.extend(records)
        self.log_model.append_records(records)
        # The views first: a playhead waiting for these messages moves as the player gets them.
        if self._sequence is not None:
            self._sequence.append_messages(r for r in records if isinstance(r, Message))
        self.player.append_records(records)

    def show_records(
        self,
        records: Sequence[Record],
        *,
        keylog: Mapping[str, Any] | None = None,
        started: float | None = None,
        scenarios: Mapping[int, Scenario] | None = None,
        source: Path | None = None,
    ) -> None:
        """Replay these records in every view: an opened file's, or (source None) the live
        session's. The playhead goes to the first message, paused."""
        self.source = source
        self._opened = {"keylog": dict(keylog or {}), "started": started}
        self._opened["scenarios"] = dict(scenarios or {})
        self.player.clear()
        self._lazy = None
        self.records = list(records)  # the diagram is given this very list below
        self.log_model.clear()
        self.log_model.append_records(self.records)
        self.player.append_records(self.records)
        if self._sequence is not None:
            self._sequence.set_messages(self.player.messages)
        self.diagram.set_records(self.records)
        if source is None and self._violations is not None:
            self.invariants_badge.show_result(self._violations)
        else:
            self.invariants_badge.clear_result()  # a file says nothing of invariants
        title = "payviz" if source is None else f"payviz \u2014 {source.name}"
        self.setWindowTitle(title)
        self.player.go_to(0)
        if not self.player.length:  # nothing to step to: the views show the empty state
            self._on_position_changed(-1)

    def show_opened(self, opened: OpenedTrace) -> None:
        """Replay a long file read lazily (see `payviz.diagrams.lazy_trace`): the log shows
        its rows as read, the player and the diagram read what they show."""
        self.show_records([], keylog=opened.keylog, started=opened.started, source=opened.path)
        self._opened["scenarios"] = dict(opened.scenarios)
        self._lazy = opened
        self.log_model.show_rows(opened.rows)
        self.player.set_messages(opened.messages)
        if self._sequence is not None:
            self._sequence.set_messages(opened.messages)
        self.player.go_to(0)

    @property
    def shown_records(self) -> Iterable[Record]:
        """Every record of what is shown (a long file's are read again, in order)."""
        return self.records if self._lazy is None else self._lazy.records

    @property
    def keylog(self) -> Mapping[str, Any]:
        """The key log of what is shown (the inspector opens JWEs and checks signatures)."""
        return self.bridge.keylog if self.source is None else self._opened["keylog"]

    @property
    def started_at(self) -> float | None:
        return self.bridge.started_at if self.source is None else self._opened["started"]

    @property
    def scenarios(self) -> dict[int, Scenario]:
        return dict(self.bridge.scenarios if self.source is None else self._opened["scenarios"])

    def _on_position_changed(self, index: int) -> None:
        message = self.player.current
        self.log_model.set_current_row(index)
        self.narration.show_message(message)
        self.inspector.show_message(message, self.keylog, self.started_at)
        self.playback_controls.set_position(index, step_caption(message))
        if self._sequence is not None:
            self._sequence.set_current(index)
        if message is None:
            self.diagram.clear()
            self.diagram.set_records(self.records)
            self.outcome_label.setText("")
            return
        records: Sequence[Record] = self.records
        if self._lazy is not None:  # a long file: the records around the playhead only
            records = self._lazy.records_before(index)
            self.diagram.set_records(records)
        duration = self.player.interval_ms(self.player.travel_ms)
        self.diagram.show_seq(message.seq, animate=self.player.animated, duration_ms=duration)
        self.log.show_row(index)
        self._show_outcome(records, message.seq)

    def _show_outcome(self, records: Sequence[Record], seq: int) -> None:
        """The merchant's order as the diagram's merchant card shows it, in the status bar."""
        state = node_states(records, seq)["merchant"]
        colour = {"bad": ERROR_COLOUR, "good": OKABE_ITO["bluish_green"]}.get(state.tone)
        mark = {"bad": "\u2718 ", "good": "\u2714 "}.get(state.tone, "")
        style = f"color: {colour}; font-weight: bold" if colour else ""
        self.outcome_label.setStyleSheet(style)
        self.outcome_label.setText(f"Merchant: {mark}" + " \u00b7 ".join(state.lines))

    def go_to_step(self, step: int | None) -> None:
        """Move to the last message of `step` in the latest checkout (None: the very end)."""
        messages = self.player.messages
        if not messages:
            return
        latest = messages[-1].checkout
        # From the end back, and not forever: a long file's messages are read one by one.
        last = len(messages) - 1
        for index in range(last, max(-1, last - STEP_LOOKBACK), -1):
            message = messages[index]
            if message.checkout == latest and (step is None or message.step == step):
                self.player.go_to(index)
                return
        self.player.go_to(last)
