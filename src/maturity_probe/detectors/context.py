"""The raw data of one repository, fetched once and shared by every detector.

Like Scorecard's raw-data layer: the tree listing, each file's text, each YAML file's
documents and each Python file's facts are read at most once per scan, whoever asks.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from maturity_probe import yamlio
from maturity_probe.evidence import JsonValue, Strength
from maturity_probe.filetree import FileTree, Unreadable, decode_text
from maturity_probe.pyfacts import PyFacts, notebook_code, parse_python

T = TypeVar("T")

MAX_PYTHON_BYTES = 500_000  # larger .py files are generated or vendored, not project code
TEXT_CACHE_ENTRIES = 256  # raw texts are re-read rarely; parsed forms are what is kept


@dataclass(frozen=True)
class Finding:
    """What a detector saw in one file; the collector turns it into Evidence."""

    signal: str
    path: str
    line: int | None
    summary: str
    attributes: dict[str, JsonValue] = field(default_factory=dict)
    strength: Strength = Strength.declared
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class FileHistory:
    commits: int
    last_change: datetime


class VcsHistory(Protocol):
    """Version-control history of the tree (git locally, the commits API remotely)."""

    def file_history(self, paths: list[str]) -> dict[str, FileHistory]:
        """Commit count and last change of each path that version control tracks."""
        ...

    def repository_history(self) -> FileHistory | None:
        """Commit count and last commit of the whole repository."""
        ...


# -- words detectors look for -----------------------------------------------------------------
# Detectors declare, at import time, the words whose presence makes a file worth parsing.
# Each code or config file is then read once per repository and the declared words it holds
# noted; a word only prefilters — evidence is always decided on parsed content.
CODE_GLOBS = ("**/*.py", "**/*.ipynb")
CONFIG_GLOBS = ("**/*.yaml", "**/*.yml", "**/*.json", "**/*.template")
_DECLARED_WORDS: set[str] = set()


def vocabulary(*words: str) -> tuple[str, ...]:
    """Declare words a detector looks for in code or config files; returns them."""
    _DECLARED_WORDS.update(words)
    return words


@dataclass(frozen=True)
class WordIndex:
    """Which declared words each file holds (only files holding at least one)."""

    words: frozenset[str]
    by_path: dict[str, frozenset[str]]


@lru_cache(maxsize=8)  # the same declared words for every repository of a scan
def _word_pattern(words: frozenset[str]) -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """One regex finding, at every position, the longest word starting there; and for each
    word the declared words inside it.

    The words are laid out as a trie (`a(?:zureml|lert)`), which `re` scans several times
    faster than a flat alternation of 100+ words; the lookahead tries every position, so
    overlapping words are all seen and the answer equals testing every word with `in`.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here
    pattern = re.compile(f"(?=({_trie_regex(trie)}))") if words else re.compile(r"(?!)")
    inside = {w: frozenset(v for v in words if v in w) for w in words}
    return pattern, inside


def _trie_regex(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if "" in node else body  # greedy: a longer word first


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: `**/` spans directories, `*` and `?` stay within one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "{":
            end = pattern.index("}", i)
            options = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE)


# `**/*.ext` (ext without wildcards) or `**/name` (a plain file name)
_SIMPLE_GLOB = re.compile(r"^\*\*/(?:\*\.(?P<ext>[A-Za-z0-9_.-]+)|(?P<name>[A-Za-z0-9_.-]+))$")


_GLOB_SPECIAL = re.compile(r"[*?{}\[\]]")


@dataclass(frozen=True)
class _PathIndex:
    by_suffix: dict[str, list[str]]  # lower-cased extension ("yml", "rules.yml") -> paths
    by_name: dict[str, list[str]]  # lower-cased file name -> paths
    by_top: dict[str, list[str]]  # lower-cased top directory -> paths under it


@lru_cache(maxsize=256)
def globs_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of the globs."""
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{glob_regex(p).pattern})" for p in patterns), re.IGNORECASE)


def path_matches(path: str, *patterns: str) -> bool:
    return globs_regex(tuple(sorted(set(patterns)))).match(path) is not None


class RepoContext:
    """One repository as detectors see it: paths, cached reads, warnings, history."""

    def __init__(self, tree: FileTree, history: VcsHistory | None = None) -> None:
        self.tree = tree
        self.history = history
        self.paths: list[str] = tree.paths()
        self.warnings: list[str] = []
        # Bounded, so memory stays flat in the number of files; parsed YAML and Python
        # facts are cached in full, but only for files some detector cares about.
        self._text: OrderedDict[str, str | None] = OrderedDict()
        self._warned: set[str] = set()
        self._yaml: dict[str, list[Any]] = {}
        self._python: dict[str, PyFacts | None] = {}
        self._derived: dict[str, Any] = {}
        self.undeclared_words: set[str] = set()  # asked for without vocabulary(): slow path

    # -- listing ---------------------------------------------------------------
    def matching(self, *patterns: str) -> list[str]:
        """Paths matching any glob, in sorted order (memoized)."""
        key = "matching:" + "\x1f".join(sorted(set(patterns)))

        def build() -> list[str]:
            # `**/*.ext` and `**/name` globs are answered from an index of the paths; only
            # the other shapes are matched path by path.
            index = self._path_index
            found: set[str] = set()
            complex_globs = []
            for pattern in set(patterns):
                simple = _SIMPLE_GLOB.match(pattern)
                if simple and simple.group("ext"):
                    found.update(index.by_suffix.get(simple.group("ext").lower(), ()))
                elif simple:
                    found.update(index.by_name.get(simple.group("name").lower(), ()))
                else:
                    complex_globs.append(pattern)
            for pattern in complex_globs:
                regex = glob_regex(pattern)
                found.update(p for p in self._glob_candidates(pattern) if regex.match(p))
            return sorted(found)

        return list(self.derived(key, build))

    def _glob_candidates(self, pattern: str) -> list[str]:
        """The paths a glob can match: those under its literal top directory
        (`.github/workflows/*.yml`), else those with its literal extension
        (`**/conda*.yml`), else all."""
        index = self._path_index
        top, slash, _ = pattern.partition("/")
        if slash and top != "**" and not _GLOB_SPECIAL.search(top):
            return index.by_top.get(top.lower(), [])
        extension = pattern.rsplit("/", 1)[-1].rpartition(".")[2]
        if "." in pattern.rsplit("/", 1)[-1] and extension and not _GLOB_SPECIAL.search(extension):
            return index.by_suffix.get(extension.lower(), [])
        return self.paths

    @property
    def _path_index(self) -> _PathIndex:
        def build() -> _PathIndex:
            by_suffix: dict[str, list[str]] = {}
            by_name: dict[str, list[str]] = {}
            by_top: dict[str, list[str]] = {}
            for path in self.paths:
                top, slash, _ = path.partition("/")
                if slash:
                    by_top.setdefault(top.lower(), []).append(path)
                name = path.rsplit("/", 1)[-1].lower()
                by_name.setdefault(name, []).append(path)
                parts = name.split(".")
                for i in range(1, len(parts)):  # "a.rules.yml" -> "rules.yml", "yml"
                    by_suffix.setdefault(".".join(parts[i:]), []).append(path)
            return _PathIndex(by_suffix, by_name, by_top)

        return self.derived("_path_index", build)

    def exists(self, path: str) -> bool:
        return path in self._path_set

    @property
    def _path_set(self) -> set[str]:
        return self.derived("_path_set", lambda: set(self.paths))

    # -- reading ---------------------------------------------------------------
    def warn(self, path: str, line: int | None, message: str) -> None:
        """Record a one-line warning about input the probe could not use."""
        where = f"{path}:{line}" if line else path
        self.warnings.append(f"{where}: {message}")

    def text(self, path: str, limit: int | None = None) -> str | None:
        """A file's text, or None when it is binary, too big or unreadable (warned once)."""
        if path in self._text:
            self._text.move_to_end(path)
            return self._text[path]
        text: str | None = None
        try:
            data = self.tree.read_bytes(path) if limit is None else self.tree.read_bytes(
                path, limit
            )
            text = decode_text(data)
        except Unreadable as exc:
            if path not in self._warned:
                self._warned.add(path)
                self.warn(path, None, f"skipped, {exc}")
        self._text[path] = text
        if len(self._text) > TEXT_CACHE_ENTRIES:
            self._text.popitem(last=False)
        return text

    def yaml_docs(self, path: str) -> list[Any]:
        """The YAML documents of a file; a malformed file is warned about and reads as []."""
        if path not in self._yaml:
            text = self.text(path)
            docs: list[Any] = []
            if text is not None:
                try:
                    docs = yamlio.load_all(text)
                except yamlio.YamlError as exc:
                    self.warn(path, exc.line, f"invalid YAML, ignored: {exc.message}")
            self._yaml[path] = docs
        return self._yaml[path]

    def yaml(self, path: str) -> Any:
        """The first YAML document of a file, or None."""
        docs = self.yaml_docs(path)
        return docs[0] if docs else None

    def python(self, path: str) -> PyFacts | None:
        """Facts of a Python file or notebook, or None when it cannot be parsed."""
        if path not in self._python:
            facts = None
            text = self.text(path, MAX_PYTHON_BYTES)
            if text is not None and path.lower().endswith(".ipynb"):
                text = notebook_code(text)
            if text is not None:
                facts = parse_python(text)
                if facts is None and path.endswith(".py"):
                    self.warn(path, None, "Python that does not parse, ignored")
            self._python[path] = facts
        return self._python[path]

    def python_files(self, *, notebooks: bool = False) -> list[str]:
        patterns = ("**/*.py", "**/*.ipynb") if notebooks else ("**/*.py",)
        return self.matching(*patterns)

    def word_index(self, globs: tuple[str, ...], limit: int | None = None) -> WordIndex:
        """The declared words each file under `globs` holds, from one read of each file."""

        def build() -> WordIndex:
            words = frozenset(_DECLARED_WORDS)
            pattern, inside = _word_pattern(words)
            by_path = {}
            for path in self.matching(*globs):
                text = self.text(path, limit)
                if not text or not words:
                    continue
                found = {w for hit in set(pattern.findall(text)) for w in inside[hit]}
                if found:
                    by_path[path] = frozenset(found)
            return WordIndex(words, by_path)

        return self.derived(f"word_index:{','.join(globs)}", build)

    def _files_mentioning(self, globs: tuple[str, ...], words: tuple[str, ...],
                          limit: int | None) -> list[str]:
        wanted = set(words)
        index = self.word_index(globs, limit)
        if wanted <= index.words:
            return [p for p, held in index.by_path.items() if held & wanted]
        # An undeclared word: read everything once more (slow; tests/ catch this).
        self.undeclared_words.update(wanted - index.words)
        return [p for p in self.matching(*globs)
                if any(w in (self.text(p, limit) or "") for w in words)]

    def python_mentioning(
        self, *words: str, notebooks: bool = False
    ) -> list[tuple[str, PyFacts]]:
        """Parsed Python files (and notebooks, if asked) whose text mentions one of `words`.

        The words must be declared with `vocabulary()` so the shared index answers; what
        counts as evidence is always decided on the parsed facts (a comment never is).
        """
        found = []
        for path in self._files_mentioning(CODE_GLOBS, words, MAX_PYTHON_BYTES):
            if not notebooks and path.lower().endswith(".ipynb"):
                continue
            facts = self.python(path)
            if facts is not None:
                found.append((path, facts))
        return found

    def config_mentioning(self, *words: str, globs: tuple[str, ...] = ()) -> list[str]:
        """YAML / JSON / template files (optionally only those matching `globs`) holding a word."""
        candidates = self._files_mentioning(CONFIG_GLOBS, words, None)
        return [p for p in candidates if path_matches(p, *globs)] if globs else candidates

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """Data derived once per repository and shared (e.g. the parsed CI jobs)."""
        if key not in self._derived:
            self._derived[key] = build()
        value: T = self._derived[key]
        return value

    def prefetch(self, patterns: Iterable[str]) -> None:
        """Tell the tree which files detectors will read. The paths are matched only if the
        tree iterates them: a local checkout does not, and matching costs at 20,000 files."""
        wanted = tuple(patterns)

        def paths() -> Iterator[str]:
            yield from self.matching(*wanted)

        self.tree.prefetch(paths())
