"""--output to a device or a pipe writes into it, never replaces it with a plain file."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from maturity_probe.outputs.files import write_atomic


def test_output_to_a_fifo_is_written_through_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    write_atomic(fifo, "level 2\n")
    reader.join(timeout=10)
    assert received == ["level 2\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.pipe"]  # no temporary file left


def test_output_to_a_regular_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n", encoding="utf-8")
    write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n" and stat.S_ISREG(target.stat().st_mode)
