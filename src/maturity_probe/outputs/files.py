"""Writing an output file so that a reader never sees half of it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from maturity_probe.errors import UserError


def _mode_for(path: Path) -> int:
    """Keep an existing file's mode; else what a plain open() would give (0666 - umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same directory, then rename it over `path`.

    A rename within one file system is atomic, so node_exporter's textfile collector, a
    web server or a CI uploader reads the old file or the new one, never a partial one.
    The temporary name starts with a dot and ends in .tmp, which the textfile collector
    ignores (it reads *.prom only). A device or pipe (/dev/null, /dev/stdout, a FIFO) is
    written in place: renaming over it would replace the device with a plain file.
    """
    if path.exists() and not path.is_file():
        try:
            with path.open("w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as exc:
            raise UserError(f"{path}: cannot write: {exc.strerror}") from exc
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UserError(f"{path}: cannot write: {exc.strerror}") from exc
        raise
