"""File trees: what repository detectors read.

A tree lists paths and reads a file on demand. The local checkout implements it here;
the GitHub and GitLab collectors provide their own trees over their APIs, so the same
detectors run unchanged on all three.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

MAX_TEXT_BYTES = 1_000_000  # bigger files are data or generated code, never configuration
_BINARY_SNIFF = 8192
_SKIPPED_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


class Unreadable(Exception):
    """A listed file could not be read; the message says why in a few words."""


class FileTree(Protocol):
    """A repository's files, independent of where they live."""

    label: str  # how messages name this tree, e.g. a path or owner/name

    def paths(self) -> list[str]:
        """Sorted POSIX paths of the regular files, relative to the repository root."""
        ...

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        """The file's content; raises Unreadable (too big, unreadable, gone)."""
        ...

    def prefetch(self, paths: Iterable[str]) -> None:
        """Hint that these files will be read soon (remote trees fetch them concurrently)."""
        ...


def decode_text(data: bytes) -> str | None:
    """Text of a file, or None when it looks binary."""
    if b"\x00" in data[:_BINARY_SNIFF]:
        return None
    return data.decode("utf-8", errors="replace")


class LocalTree:
    """A checkout on disk. Uses git's index when it is a git work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = str(self.root)
        self._paths: list[str] | None = None

    def paths(self) -> list[str]:
        if self._paths is None:
            listed = _git_listed_files(self.root)
            self._paths = sorted(listed if listed is not None else _walk(self.root))
        return self._paths

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        full = os.path.join(self.root, path)
        try:
            # only links need resolving (listings never descend into linked folders)
            if stat.S_ISLNK(os.lstat(full).st_mode) and not Path(os.path.realpath(full)).is_relative_to(
                self.root
            ):
                raise Unreadable("symlink leads outside the repository")
            info = os.stat(full)  # follows symlinks; a loop raises OSError (ELOOP)
            if not stat.S_ISREG(info.st_mode):
                raise Unreadable("not a regular file")
            if info.st_size > limit:
                raise Unreadable(f"larger than {limit // 1000} kB")
            with open(full, "rb") as handle:
                return handle.read(limit + 1)
        except Unreadable:
            raise
        except OSError as exc:
            raise Unreadable(exc.strerror or type(exc).__name__) from exc

    def prefetch(self, paths: Iterable[str]) -> None:
        """Local files are read on demand; nothing to do."""


def _git_listed_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, or None when not a git work tree.

    Works for a sub-directory of a work tree too: git then lists paths relative to it.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # not a work tree (git exits non-zero) or no git at all
    names = {name for name in done.stdout.decode("utf-8", "replace").split("\x00") if name}
    return [name for name in names if not name.startswith(".git/")]


def _walk(root: Path) -> Iterator[str]:
    """Files under root; never follows directory symlinks, so loops cannot trap it."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        rel_dir = Path(dirpath).relative_to(root)
        for name in filenames:
            yield (rel_dir / name).as_posix()
