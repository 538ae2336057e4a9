"""Small wording helpers for the human sentences detectors, collectors, inference and
outputs write, so the same thing reads the same everywhere ("1 commit", "3 commits")."""

from __future__ import annotations

from collections.abc import Iterable, Sized


def plural(count: int | Sized, singular: str, plural_form: str | None = None) -> str:
    """`3 commits`, `1 commit`, `0 tests`; `count` may be a collection (its length).
    Give `plural_form` when adding an "s" is wrong (`plural(n, "entry", "entries")`)."""
    number = count if isinstance(count, int) else len(count)
    word = singular if number == 1 else (plural_form or singular + "s")
    return f"{number} {word}"


def either(items: Iterable[str]) -> str:
    """`a`, `a or b`, `a, b, or c`: alternatives in a sentence (the serial comma keeps
    items that contain "or" themselves apart)."""
    words = list(items)
    if len(words) <= 2:
        return " or ".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]
