"""Defensive access to CI YAML nodes and to the shell lines they hold.

Any node of a CI file may have an unexpected type (a string where a mapping is
expected, a number for a name); these accessors never raise. Script values become
`Command`s with the line each shell line is on, block scalars (`run: |`) included.
"""

from __future__ import annotations

import re
from typing import Any

from maturity_probe import yamlio
from maturity_probe.detectors.ci.model import Command
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import as_list, as_str

MAX_DEPTH = 16  # YAML aliases can share structures: every walk is bounded
MAX_NESTED_LISTS = 4  # script lists nest only through GitLab `!reference`
MAX_ITEMS = 2000  # aliases can make a small file expand to millions of items: stop early

_BLOCK_SCALAR = re.compile(r"(?:^|[:\-]\s)\s*[|>][-+0-9]*\s*(?:#.*)?$")
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")




def str_list(node: Any) -> list[str]:
    """A string or a list of strings as a list of non-empty strings."""
    if isinstance(node, list):
        return [s for item in node if (s := as_str(item))]
    text = as_str(node)
    return [text] if text else []


def line(node: Any, key: Any = None, default: int = 0) -> int:
    """Line of a node, or of one of its keys / items; `default` when unknown."""
    return yamlio.line_of(node, key) or default


def item_lines(node: Any) -> list[tuple[Any, int]]:
    """Items of a sequence with their lines."""
    items = as_list(node)
    return [(item, line(node, index, line(item))) for index, item in enumerate(items)]


def is_false(node: Any) -> bool:
    """`false`, `${{ false }}`, `0` and friends: a condition that never holds."""
    if node is False:
        return True
    text = as_str(node).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    return text.lower() in ("false", "0", "'false'")


class SourceLines:
    """The lines of the files a parser reads, to place block scalar content."""

    def __init__(self, ctx: RepoContext) -> None:
        self.ctx = ctx
        self._lines: dict[str, list[str]] = {}

    def text_at(self, path: str, number: int) -> str:
        if path not in self._lines:
            self._lines[path] = (self.ctx.text(path) or "").splitlines()
        lines = self._lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def first_content_line(self, path: str, number: int) -> int:
        """Where a scalar's content starts: the next line for `|` / `>` block scalars."""
        return number + 1 if _BLOCK_SCALAR.search(self.text_at(path, number)) else number

    def commands(
        self, node: Any, path: str, at_line: int, workdir: str = "",
        budget: list[int] | None = None,
    ) -> list[Command]:
        """Shell commands of a script value: a string, or a (nested) list of strings.

        `budget` (nodes left to visit) can be shared by the calls made for one job.
        """
        found: list[Command] = []
        self._collect(node, path, at_line, workdir, 0, found, budget or [MAX_ITEMS])
        return found

    def _collect(
        self,
        node: Any,
        path: str,
        at_line: int,
        workdir: str,
        depth: int,
        found: list[Command],
        budget: list[int],
    ) -> None:
        budget[0] -= 1  # nodes visited: aliases may repeat one list many times
        if budget[0] < 0 or depth > MAX_NESTED_LISTS:
            return
        if isinstance(node, list):
            for item, item_line in item_lines(node):
                self._collect(item, path, item_line or at_line, workdir, depth + 1, found, budget)
            return
        text = as_str(node)
        if text:
            start = self.first_content_line(path, at_line) if at_line else 0
            found += [Command(t, path, n, workdir) for t, n in logical_lines(text, start)]


def logical_lines(text: str, first_line: int) -> list[tuple[str, int]]:
    """Shell lines with their line numbers: continuations joined, comments and heredocs dropped."""
    out: list[tuple[str, int]] = []
    buffer: list[str] = []
    start = 0
    heredoc_end: str | None = None
    for offset, raw in enumerate(text.splitlines()):
        stripped = raw.strip()
        if heredoc_end is not None:
            if stripped == heredoc_end:
                heredoc_end = None
            continue
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if not buffer:
            start = first_line + offset if first_line else 0
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        joined = " ".join(buffer)
        out.append((joined, start))
        buffer = []
        if match := _HEREDOC.search(joined):
            heredoc_end = match.group(1)
    if buffer:
        out.append((" ".join(buffer), start))
    return out
