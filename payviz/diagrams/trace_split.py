"""Reading a large trace file for the log on two cores.

Reading a line costs about two microseconds of Python whatever is done to make it cheaper
(`trace_lines`), so a million-message file takes seconds on one core. Its second half is
read by a second Python process (`python -m payviz.diagrams.trace_split`, which imports
nothing but the reader) while this one reads the first half; the halves' rows are then
joined. A process rather than a thread: the reader holds the GIL all the time. Should the
second process fail, its half is read here.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import IO, Final

from .trace_lines import COMPACT, SPACED, Layout, ReadRows, first_layout, read_rows

SPLIT_FROM: Final = 64 << 20  # smaller files are read in one go: a process costs ~0.1 s
_LAYOUTS: Final = {"compact": COMPACT, "spaced": SPACED}
_FIRST_SHARE: Final = 50  # percent of the file read here


def read_file(path: Path, handle: IO[bytes]) -> ReadRows:
    """The message rows of the trace file `path`, open as `handle` (see `read_rows`)."""
    size = os.fstat(handle.fileno()).st_size
    middle = _middle(handle, size) if size >= SPLIT_FROM and (os.cpu_count() or 1) > 1 else 0
    if not middle:
        return read_rows(handle, path.name)
    layout = first_layout(handle)
    name = "spaced" if layout is SPACED else "compact"
    command = [sys.executable, "-m", __name__, str(path), str(middle), name]
    try:
        helper: subprocess.Popen[bytes] | None = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        helper = None
    try:
        rows = read_rows(handle, path.name, end=middle)
    except BaseException:
        if helper is not None:
            helper.kill()
            helper.wait()
        raise
    rows.extend(_second_half(helper, handle, path.name, middle, layout))
    return rows


def _middle(handle: IO[bytes], size: int) -> int:
    """Where the second process starts: the first line after the middle of the file (0 if
    there is none). The middle: this process joins the halves when both are read, but
    the other starts cold (its imports, then pickling its rows). Read from 46 % on, the
    other half came back 0.2-1.3 s after this one was read; from the middle, 0.1-0.5 s."""
    handle.seek(size * _FIRST_SHARE // 100)
    handle.readline()
    middle = handle.tell()
    return middle if middle < size else 0


def _second_half(
    helper: subprocess.Popen[bytes] | None,
    handle: IO[bytes],
    source: str,
    start: int,
    layout: Layout,
) -> ReadRows:
    if helper is not None:
        output, _ = helper.communicate()
        if helper.returncode == 0:
            try:
                rows = pickle.loads(output)
            except (pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                rows = None
            if isinstance(rows, ReadRows):
                return rows
    return read_rows(handle, source, start=start, layout=layout)


def main(argv: list[str]) -> int:
    """Read a file from byte argv[1] on, spaced as argv[2] says; write the rows, pickled."""
    path, start, layout = Path(argv[0]), int(argv[1]), _LAYOUTS[argv[2]]
    with path.open("rb") as handle:
        rows = read_rows(handle, path.name, start=start, layout=layout)
    sys.stdout.buffer.write(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
