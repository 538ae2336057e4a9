"""Errors a user can fix: reported as one line, exit code 2, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a path, an option, a file); the message is one line."""


def first_line(text: object, limit: int = 240) -> str:
    """The first line of a message (a library's may run over many), at most `limit` long:
    what a one-line reason quotes of it."""
    stripped = str(text).strip()
    line = stripped.splitlines()[0].strip() if stripped else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
