"""Log probe: a trace of N messages opened from the File menu into the log, timed and weighed.

`python -m payviz.ui.log_probe N TRACE.jsonl` writes (once, if the file is missing) a trace
of N messages as payviz writes one: real checkouts' records (their state changes too),
repeated with fresh seq, checkout, exchange and order numbers. Then, in this fresh process,
it builds the log dock as the main window does (a `TraceTableModel` behind a
`TraceFilterProxy`, in a shown `LogPanel`) and opens the file into it the way the log opens
a file (`TraceTableModel.open_trace`), until the view has painted its first rows; the best
of three opens is kept, the memory of the first. It types a filter, then picks a row and
decodes its message as the inspector would, and prints one JSON line: seconds to read the
file, to show it, to filter, and resident memory grown per message while opening.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import SCHEMA_VERSION, Message, Record, encode_line

from .log_filter import TraceFilterProxy
from .log_model import LogPanel, TraceTableModel

FILTER_TEXT = "decline"
OPENS = 3
FILTERS = 3  # the filter is typed again after clearing it: the best of these
SEQ_MARK, CHECKOUT_MARK, EXCHANGE_MARK = -7_654_321, -1_234_567, -3_456_789
ORDER_ID = re.compile(r"ord_[0-9a-f]{12}")


async def _sample() -> list[Record]:
    session = Session()
    await session.start()
    try:
        for decision in ("approve", "decline"):
            await session.run_checkout(Scenario(mode="direct", decision=decision))
        return list(session.trace.records)
    finally:
        await session.close()


def _template(record: Record) -> tuple[str, int, int]:
    """A record's line with its numbers marked, and its checkout and exchange numbers."""
    exchange = record.exchange if isinstance(record, Message) else 0
    marked = record.to_json() | {"seq": SEQ_MARK, "checkout": CHECKOUT_MARK}
    if isinstance(record, Message):
        marked["exchange"] = EXCHANGE_MARK
    return encode_line(marked).decode("utf-8"), record.checkout, exchange


def write_trace(path: Path, count: int) -> None:
    """N messages: real ones with their state changes, repeated with fresh numbers."""
    sample = asyncio.run(_sample())
    templates = [_template(record) for record in sample]
    orders = sorted({m for line, _, _ in templates for m in ORDER_ID.findall(line)})
    checkouts = max(checkout for _, checkout, _ in templates)
    exchanges = max(exchange for _, _, exchange in templates)
    per_round = sum(isinstance(record, Message) for record in sample)
    header = encode_line({"type": "header", "schema": SCHEMA_VERSION, "generator": "payviz"})
    seq = written = 0
    with path.open("wb") as sink:
        sink.write(header)
        for round_ in range(-(-count // per_round)):
            renamed = {old: f"ord_{round_ * len(orders) + n:012x}" for n, old in enumerate(orders)}
            lines = []
            for line, checkout, exchange in templates:
                is_message = exchange != 0
                if is_message and written == count:
                    break
                seq += 1
                written += is_message
                line = line.replace(str(SEQ_MARK), str(seq), 1)
                line = line.replace(str(CHECKOUT_MARK), str(round_ * checkouts + checkout), 1)
                if is_message:
                    number = str(round_ * exchanges + exchange)
                    line = line.replace(str(EXCHANGE_MARK), number, 1)
                for old, new in renamed.items():
                    line = line.replace(old, new)
                lines.append(line)
            sink.write("".join(lines).encode("utf-8"))
        # On disk before it is timed, as a file someone opens is: a gigabyte still being
        # written back would take a core from the reader.
        sink.flush()
        os.fsync(sink.fileno())


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settle() -> None:
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)


def _open(model: TraceTableModel, proxy: TraceFilterProxy, path: Path) -> tuple[float, float]:
    """Seconds to read the file into the model, then for the view to show it."""
    started = time.perf_counter()
    model.open_trace(path)
    read = time.perf_counter() - started
    proxy.rowCount()
    _settle()  # the view lays out and paints its first rows
    return read, time.perf_counter() - started - read


def _filter(panel: LogPanel, proxy: TraceFilterProxy) -> tuple[float, float, int]:
    """Seconds from typing the filter to the proxy knowing the rows kept, then for the view
    to show them, and how many rows were kept."""
    panel.search_box.clear()
    _settle()
    started = time.perf_counter()
    panel.search_box.setText(FILTER_TEXT)  # as typed: the proxy filters on textChanged
    kept = proxy.rowCount()
    filtered = time.perf_counter()
    _settle()  # a screenful of rows painted: the same for any size of trace
    return filtered - started, time.perf_counter() - filtered, kept


def _window_open(path: Path) -> tuple[float, int]:
    """Seconds for the main window's File -> Open of the file (the window not shown: its
    engine does not start), and how many messages its player then holds."""
    import tempfile

    from PySide6.QtCore import QSettings

    from .main_window import MainWindow

    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "probe.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        started = time.perf_counter()
        window.file_menu.open_path(path)
        _settle()
        opened = time.perf_counter() - started
        length = window.player.length
        window.bridge.shutdown()
        window.deleteLater()
        _settle()
    return opened, length


def main(argv: list[str]) -> int:
    count, path = int(argv[0]), Path(argv[1])
    if not path.exists():
        write_trace(path, count)
    app = QApplication(["payviz-log-probe"])
    model = TraceTableModel()
    proxy = TraceFilterProxy()
    proxy.setSourceModel(model)
    panel = LogPanel(proxy)
    panel.resize(1200, 400)
    panel.show()
    _settle()
    before = resident_bytes()
    opens = [_open(model, proxy, path)]
    grown = resident_bytes() - before  # the first open: nothing of the file was held before
    skipped = len(model.rows.skipped)
    # Like the other figures, the best of a few rounds: a busy neighbour slows one of them.
    opens += [_open(model, proxy, path) for _ in range(OPENS - 1)]
    read, fill = min(opens, key=sum)
    filters = [_filter(panel, proxy) for _ in range(FILTERS)]
    filtered, shown, kept = min(filters, key=lambda f: f[0] + f[1])
    started = time.perf_counter()
    source_row = proxy.mapToSource(proxy.index(kept // 2, 0)).row()
    message = model.message(source_row)  # what the inspector shows of the row picked
    decoded = time.perf_counter() - started
    window_open, window_rows = _window_open(path)
    print(
        json.dumps(
            {
                "messages": model.rowCount(),
                "skipped_lines": skipped,
                "read_s": read,
                "fill_s": fill,
                "opens": len(opens),
                "worst_open_s": max(sum(o) for o in opens),
                "window_open_s": window_open,
                "window_messages": window_rows,
                "filter_s": filtered,
                "filter_show_s": shown,
                "worst_filter_s": max(f + painted for f, painted, _ in filters),
                "filter_kept": kept,
                "decode_row_ms": decoded * 1000,
                "decoded_ok": isinstance(message, Message) and FILTER_TEXT in message.summary,
                "bytes_per_message": grown / max(model.rowCount(), 1),
            }
        )
    )
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
