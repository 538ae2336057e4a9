"""Errors a user can fix: reported as one line, exit code 2, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a path, an option, a file); the message is one line."""
