"""The playhead: replays the trace's messages at human speed, one hop at a time.

The engine runs at machine speed; the Player owns which message every view shows. It holds
no payment logic: it only counts messages and time. While playing it moves on when the
diagram reports that the current message's token has arrived (plus a short dwell to read),
or after a timer of the same length when nothing animates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from payviz.engine.trace import Message, Record

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


class Player(QObject):
    """The position in the list of messages, with play/pause, stepping and speed.

    Signals:
        position_changed(int): the index of the message at the playhead (-1: none).
        playing_changed(bool): playback started or stopped.
        speed_changed(float): the playback speed, 0.25x to 8x.
        length_changed(int): the number of messages on the timeline.

    Attributes:
        travel_ms: how long a token takes along its link at 1x.
        dwell_ms: how long the playhead rests on a message after its token arrives, at 1x.
        grace_ms: how much longer than planned a token may take before the playhead moves
            on without it (nothing animates, or an animation was dropped).
        animated: whether the last move was one step forward (views animate only those).
        live: the engine is still producing messages; playing at the end waits for more.
    """

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    length_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: Sequence[Message] | list[Message] = []
        self._position = -1
        self._playing = False
        self._speed = 1.0
        self._waiting_for: int | None = None  # index to show once it exists (follow-live)
        self.travel_ms = 700
        self.dwell_ms = 500
        self.grace_ms = 250
        self.animated = False
        self.live = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- the timeline ----------------------------------------------------------------------

    @property
    def messages(self) -> Sequence[Message]:
        """The timeline (read-only): a list, or a long file's messages decoded when read."""
        return self._messages

    @property
    def length(self) -> int:
        return len(self._messages)

    @property
    def position(self) -> int:
        return self._position

    @property
    def current(self) -> Message | None:
        return self._messages[self._position] if 0 <= self._position < self.length else None

    def append_records(self, records: Iterable[Record]) -> None:
        """Extend the timeline with the messages among `records`; a waiting play resumes."""
        from payviz.engine.trace import Message

        new = [r for r in records if isinstance(r, Message)]
        if not new:
            return
        if not isinstance(self._messages, list):  # a file's messages: the live ones follow
            self._messages = list(self._messages)
        self._messages.extend(new)
        self.length_changed.emit(self.length)
        if self._playing and self._waiting_for is not None and self._waiting_for < self.length:
            target, self._waiting_for = self._waiting_for, None
            self._move(target, animated=True)

    def set_messages(self, messages: Sequence[Message]) -> None:
        """Replay these messages instead (kept as given: a long file's are read when
        reached); the playhead goes nowhere until told."""
        self.clear()
        self._messages = messages
        self.length_changed.emit(self.length)

    def clear(self) -> None:
        self.pause()
        self._messages = []
        self._waiting_for = None
        self.length_changed.emit(0)
        self._move(-1, animated=False)

    def set_live(self, live: bool) -> None:
        """The engine started or finished producing; playing at the end stops when it ends."""
        self.live = live
        if not live and self._playing and self._waiting_for is not None:
            self.pause()

    # -- moving ----------------------------------------------------------------------------

    def go_to(self, index: int) -> None:
        """Jump to a message (clamped to the timeline); jumps never animate."""
        self._move(max(-1, min(index, self.length - 1)), animated=False)

    def go_to_seq(self, seq: int) -> None:
        for index, message in enumerate(self._messages):
            if message.seq == seq:
                self.go_to(index)
                return

    def go_to_end(self) -> None:
        self.go_to(self.length - 1)

    def step_forward(self) -> None:
        if self._position + 1 < self.length:
            self._move(self._position + 1, animated=True)

    def step_back(self) -> None:
        if self._position > 0:
            self._move(self._position - 1, animated=False)

    def restart(self) -> None:
        self._move(0 if self.length else -1, animated=False)

    def _move(self, index: int, *, animated: bool) -> None:
        self.animated = animated
        changed = index != self._position
        self._position = index
        if self._playing:
            self._timer.start(self.interval_ms(self.travel_ms + self.dwell_ms) + self.grace_ms)
        if changed or animated:
            self.position_changed.emit(index)

    # -- playing ---------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing

    def play(self) -> None:
        """Play from the next message; at the end of a finished trace, from the start."""
        self.play_from(0 if self._position + 1 >= self.length and not self.live else None)

    def play_from(self, index: int | None) -> None:
        """Play starting at `index` (None: the next message), waiting for it if need be."""
        target = self._position + 1 if index is None else index
        self._set_playing(True)
        if target < self.length:
            self._move(target, animated=True)
        else:
            self._waiting_for = target

    def pause(self) -> None:
        self._timer.stop()
        self._waiting_for = None
        self._set_playing(False)

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    def on_token_arrived(self, seq: int) -> None:
        """The diagram's token for `seq` reached its party: rest a moment, then move on."""
        current = self.current
        if self._playing and current is not None and current.seq == seq:
            self._timer.start(self.interval_ms(self.dwell_ms))

    def _on_timer_timeout(self) -> None:
        if not self._playing:
            return
        if self._position + 1 < self.length:
            self._move(self._position + 1, animated=True)
        elif self.live:
            self._waiting_for = self._position + 1
        else:
            self.pause()

    # -- speed -----------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        speed = max(MIN_SPEED, min(MAX_SPEED, speed))
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    def interval_ms(self, base_ms: int) -> int:
        """A duration at 1x scaled by the speed: what the diagram's animation should last."""
        return max(1, round(base_ms / self._speed))
