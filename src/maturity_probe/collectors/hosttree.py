"""A repository's files and history read through a Git host's API.

`RemoteTree` is the `FileTree` the detectors read on GitHub and GitLab: the paths come
from one recursive tree listing; file contents are fetched only when a detector wants
them. `prefetch` receives every path the detectors' `wants` globs match and fetches them
before the detectors run: several files in one batched read when the host offers one (a
GraphQL query), else one request per blob, concurrently. A file nobody prefetched costs
one request when it is read. Contents are kept in a cache bounded in bytes.

`RemoteHistory` answers the detectors' history questions (commit count and last change of
the repository and of chosen paths) with one commits-API request per path, concurrently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from maturity_probe.detectors.context import FileHistory
from maturity_probe.filetree import MAX_TEXT_BYTES, Unreadable

CACHE_BYTES = 32_000_000  # per repository; evicted files are fetched again if read again


@dataclass(frozen=True)
class TreeEntry:
    """A file of the tree: its path, blob id and size (None when the host does not say)."""

    path: str
    sha: str
    size: int | None = None


# Host-specific readers. A batch reader returns the contents it could read; the files it
# left out are fetched one by one.
ReadOne = Callable[[TreeEntry], bytes]
ReadMany = Callable[[list[TreeEntry]], dict[str, bytes]]


class RemoteTree:
    """A FileTree over a Git host's API, with concurrent prefetch and a bounded cache."""

    def __init__(
        self,
        label: str,
        entries: Iterable[TreeEntry],
        *,
        read_one: ReadOne,
        read_many: ReadMany | None,
        pool: ThreadPoolExecutor,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.label = label
        self._entries = {entry.path: entry for entry in entries}
        self._paths = sorted(self._entries)
        self._read_one = read_one
        self._read_many = read_many
        self._pool = pool
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self.fetched = 0  # files fetched, for the status and the benchmark

    def paths(self) -> list[str]:
        return self._paths

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        entry = self._entries.get(path)
        if entry is None:
            raise Unreadable("not in the repository tree")
        if entry.size is not None and entry.size > limit:
            raise Unreadable(f"larger than {limit // 1000} kB")
        data = self._cached_copy(path)
        if data is None:
            if path in self._failed:
                raise Unreadable(self._failed[path])
            data = self._fetch(entry)
        if len(data) > limit:
            raise Unreadable(f"larger than {limit // 1000} kB")
        return data

    def prefetch(self, paths: Iterable[str]) -> None:
        """Fetch the wanted files now: batched when the host can, else concurrently."""
        todo = []
        for path in dict.fromkeys(paths):
            entry = self._entries.get(path)
            if entry is None or (entry.size is not None and entry.size > MAX_TEXT_BYTES):
                continue
            if self._cached_copy(path) is None and path not in self._failed:
                todo.append(entry)
        if not todo:
            return
        if self._read_many is not None and len(todo) > 1:
            found = self._read_many(todo)
            for entry in todo:
                if entry.path in found:
                    self._store(entry.path, found[entry.path])
            todo = [entry for entry in todo if entry.path not in found]
        for _ in self._pool.map(self._fetch_quietly, todo):
            pass

    # -- internals -----------------------------------------------------------------------------
    def _fetch(self, entry: TreeEntry) -> bytes:
        try:
            data = self._read_one(entry)
        except Unreadable as exc:
            with self._lock:
                self._failed[entry.path] = str(exc)
            raise
        self._store(entry.path, data)
        return data

    def _fetch_quietly(self, entry: TreeEntry) -> None:
        with suppress(Unreadable):  # remembered; reported once when a detector reads the file
            self._fetch(entry)

    def _cached_copy(self, path: str) -> bytes | None:
        with self._lock:
            data = self._cache.get(path)
            if data is not None:
                self._cache.move_to_end(path)
            return data

    def _store(self, path: str, data: bytes) -> None:
        with self._lock:
            self.fetched += 1
            if path in self._cache:
                return
            self._cache[path] = data
            self._cached += len(data)
            while self._cached > self._cache_bytes and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)


# Host-specific: (commit count, last change) of a path, or of the repository for None.
PathHistory = Callable[[str | None], FileHistory | None]


class RemoteHistory:
    """VcsHistory over a host's commits API: one request per asked path, concurrently."""

    def __init__(self, history_of: PathHistory, pool: ThreadPoolExecutor) -> None:
        self._history_of = history_of
        self._pool = pool
        self._known: dict[str | None, FileHistory | None] = {}

    def repository_history(self) -> FileHistory | None:
        if None not in self._known:
            self._known[None] = self._history_of(None)
        return self._known[None]

    def file_history(self, paths: list[str]) -> dict[str, FileHistory]:
        todo = [p for p in dict.fromkeys(paths) if p not in self._known]
        for path, history in zip(todo, self._pool.map(self._history_of, todo), strict=True):
            self._known[path] = history
        found = {p: self._known[p] for p in paths}
        return {p: h for p, h in found.items() if h is not None and h.commits > 0}
