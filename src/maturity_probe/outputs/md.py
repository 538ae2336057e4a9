"""Markdown escaping: every text that did not come from this module's callers' own string
literals goes through `text` or `code` before it is put into Markdown.

Markdown outputs (the report, the gate's verdict, the scan diff, SARIF help) go into job
summaries, pull/merge-request comments and code-scanning alerts, on repositories whose
content a pull request controls: a job name, a file path or an exemption reason must never
become HTML, a link, an image, emphasis, a heading, a list or a broken table row there.

- `text(s)`: prose. Characters that Markdown (CommonMark + GitHub/GitLab extensions) gives a
  meaning inline are backslash-escaped, `&` included (no entity is decoded), so `<`, `[`,
  `!`, `*`, `_`, `~`, `|`, `$`, `@` show as themselves; `://` and `www.` lose their colon and
  dot to a backslash escape so no autolink is made; a first character that would start a
  block (`#`, `>`, `-`, `+`, `=`, `1.`) is escaped. Line breaks become spaces. Spans between
  backticks become code spans (detectors write "job `train` in ci.yml"): whatever the split,
  each piece is escaped or safely fenced.
- `code(s)`: a code span fenced with more backticks than any run inside, so nothing inside
  is interpreted (paths, locators, ids).

Both take `table=True` inside a table cell, where a `|` must be `\\|` even in a code span
(GFM removes that backslash before reading the cell).
"""

from __future__ import annotations

import re

_ESCAPED = frozenset("\\`*_[]<>&|~!$@")
_BLOCK_START = frozenset("#>+-=")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
_WHITESPACE = re.compile(r"\s+")
_LIST_NUMBER = re.compile(r"(\d+)([.)])")
_BACKTICKS = re.compile(r"`+")


def text(value: str, *, table: bool = False) -> str:
    """Prose shown as itself; `...` spans as code spans (see the module docstring)."""
    pieces = value.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick is a literal one
        pieces[-2:] = [pieces[-2] + "`" + pieces[-1]]
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(code(piece, table=table) if piece.strip() else "\\`" + _plain(piece) + "\\`")
        else:
            out.append(_plain(piece))
    return "".join(out)


def code(value: str, *, table: bool = False) -> str:
    """A code span showing `value` verbatim (line breaks as spaces)."""
    value = _LINE_BREAKS.sub(" ", value)
    if table:
        value = value.replace("|", "\\|")
    if not value:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(value)), default=0) + 1)
    # CommonMark strips one space from each end when both are there: pad to keep the value,
    # and to keep a backtick at an end from joining the fence.
    if value.startswith(("`", " ")) or value.endswith(("`", " ")):
        value = f" {value} "
    return f"{fence}{value}{fence}"


def _plain(value: str) -> str:
    value = _WHITESPACE.sub(" ", value)
    out = []
    for index, char in enumerate(value):
        if char in _ESCAPED:
            out.append("\\" + char)
        elif char == ":" and value.startswith("//", index + 1):
            out.append("\\:")  # http://, ftp://...: no autolink
        elif char == "." and value[max(index - 3, 0):index].lower() == "www":
            out.append("\\.")  # www.example.com: no autolink
        else:
            out.append(char)
    escaped = "".join(out)
    number = _LIST_NUMBER.match(escaped)
    if number:  # "1. " or "2) " would start an ordered list
        return f"{number[1]}\\{number[2]}{escaped[number.end():]}"
    if escaped[:1] in _BLOCK_START:
        return "\\" + escaped
    return escaped
