"""Frame probe: the diagram as load mode shows it, rendered frame after frame, timed.

`python -m payviz.ui.frame_probe [TOKENS] [FRAMES]` shows a real checkout on a
`DiagramView`, lays per-link heat over it and puts TOKENS messages in flight on the links
(a `SwarmItem`), then renders FRAMES frames of the view (tokens move between frames, as
the animation moves them) into an offscreen image. It prints one JSON line with the p50
and p99 of the time per frame in milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from payviz.diagrams.load_stats import link_counts, percentile
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import Message, Record

from .diagram import DiagramView
from .diagram.heat import show_heat
from .diagram.swarm import FlyingToken, SwarmItem

SIZE = (1280, 720)


async def _records() -> list[Record]:
    session = Session()
    await session.start()
    try:
        await session.run_checkout(Scenario(mode="direct", notify="async"))
        return list(session.trace.records)
    finally:
        await session.close()


def load_scene(view: DiagramView, records: list[Record], tokens: int) -> SwarmItem:
    """The view as load mode shows it: heat on every link, `tokens` in flight."""
    view.set_animations_enabled(False)
    view.set_records(records)
    view.show_seq(records[-1].seq, animate=False)
    show_heat(view.diagram_scene, link_counts(records * 100))
    swarm = SwarmItem(view.diagram_scene)
    hops = [
        (m.src, m.dst, "failed" if m.failed else m.direction)
        for m in records
        if isinstance(m, Message) and m.protocol != "email"
    ]
    rng = random.Random(0)
    swarm.set_tokens(
        FlyingToken(src, dst, rng.random(), kind) for src, dst, kind in rng.choices(hops, k=tokens)
    )
    return swarm


def main(argv: list[str]) -> int:
    tokens = int(argv[0]) if argv else 500
    frames = int(argv[1]) if len(argv) > 1 else 200
    app = QApplication(["payviz-frame-probe"])
    view = DiagramView()
    view.resize(*SIZE)
    view.show()
    app.processEvents()
    swarm = load_scene(view, asyncio.run(_records()), tokens)
    app.processEvents()
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    times: list[float] = []
    step = 1 / 45  # a token crosses a link in about 0.75 s at 60 frames per second
    for frame in range(frames + 10):
        moved = [FlyingToken(t.src, t.dst, (t.progress + step) % 1.0, t.kind) for t in swarm.tokens]
        started = time.perf_counter()
        swarm.set_tokens(moved)
        painter = QPainter(image)
        view.render(painter)
        painter.end()
        if frame >= 10:  # the first frames fill the items' caches
            times.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "tokens": tokens,
                "frames": frames,
                "p50_ms": percentile(times, 50),
                "p99_ms": percentile(times, 99),
                "size": list(SIZE),
            }
        )
    )
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
