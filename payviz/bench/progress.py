"""A plain-text progress bar on stderr: redrawn in place on a terminal, a line per tenth
otherwise (so a CI log stays short), never more often than `interval` seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """`update(done)` as work goes on, `finish()` once at the end.

    Attributes:
        total: the amount of work; label: the word after the counts ("checkouts").
    """

    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, interval: float = 0.1
    ) -> None:
        self.total = max(total, 1)
        self.label = label
        self._stream = stream or sys.stderr
        self._interval = interval
        self._tty = self._stream.isatty()
        self._started = time.perf_counter()
        self._last_draw = 0.0
        self._last_tenth = -1

    def line(self, done: int) -> str:
        elapsed = time.perf_counter() - self._started
        share = min(done / self.total, 1.0)
        filled = round(share * WIDTH)
        rate = done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "." * (WIDTH - filled)
        return (
            f"[{bar}] {done}/{self.total} {self.label} {share:4.0%}"
            f"  {rate:6.1f}/s  {elapsed:6.1f} s"
        )

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self._tty:
            if now - self._last_draw >= self._interval or done >= self.total:
                self._last_draw = now
                self._stream.write("\r" + self.line(done))
                self._stream.flush()
            return
        tenth = min(done * 10 // self.total, 10)
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self._stream.write(self.line(done) + "\n")
            self._stream.flush()

    def finish(self, done: int) -> None:
        self.update(done)
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
