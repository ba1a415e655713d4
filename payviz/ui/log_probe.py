"""Log probe: a trace of N messages opened in the message log model, timed and weighed.

`python -m payviz.ui.log_probe N TRACE.jsonl` writes (once, if the file is missing) a trace
of N messages made of real checkouts' messages renumbered, then, in this fresh process:
reads it (`read_trace`), fills a `TraceTableModel` behind a `TraceFilterProxy` (the log
dock's pair), filters it by text, and prints one JSON line: seconds to read, to fill, to
filter, and resident memory grown per message while loading.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import SCHEMA_VERSION, Message, read_trace

from .log_model import TraceFilterProxy, TraceTableModel

FILTER_TEXT = "decline"


async def _sample() -> list[Message]:
    session = Session()
    await session.start()
    try:
        for decision in ("approve", "decline"):
            await session.run_checkout(Scenario(mode="direct", decision=decision))
        return session.trace.messages()
    finally:
        await session.close()


SEQ_MARK, CHECKOUT_MARK = -7_654_321, -1_234_567


def write_trace(path: Path, count: int) -> None:
    """N messages: real ones, repeated with fresh seq and checkout numbers."""
    sample = asyncio.run(_sample())
    templates = [
        json.dumps(
            dataclasses.replace(m, seq=SEQ_MARK, checkout=CHECKOUT_MARK).to_json(),
            ensure_ascii=False,
        )
        for m in sample
    ]
    with path.open("w", encoding="utf-8") as sink:
        sink.write(json.dumps({"type": "header", "schema": SCHEMA_VERSION}) + "\n")
        for index in range(count):
            round_, offset = divmod(index, len(sample))
            line = templates[offset].replace(str(SEQ_MARK), str(index + 1), 1)
            sink.write(line.replace(str(CHECKOUT_MARK), str(round_ + 1), 1) + "\n")


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(argv: list[str]) -> int:
    count, path = int(argv[0]), Path(argv[1])
    if not path.exists():
        write_trace(path, count)
    app = QApplication(["payviz-log-probe"])
    model = TraceTableModel()
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    app.processEvents()
    before = resident_bytes()
    started = time.perf_counter()
    records = read_trace(path)
    read = time.perf_counter() - started
    started = time.perf_counter()
    model.append_records(records)
    proxy.rowCount()
    fill = time.perf_counter() - started
    grown = resident_bytes() - before
    started = time.perf_counter()
    proxy.set_text(FILTER_TEXT)
    kept = proxy.rowCount()
    filtered = time.perf_counter() - started
    print(
        json.dumps(
            {
                "messages": model.rowCount(),
                "read_s": read,
                "fill_s": fill,
                "filter_s": filtered,
                "filter_kept": kept,
                "bytes_per_message": grown / max(model.rowCount(), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
