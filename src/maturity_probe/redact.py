"""Keep secrets out of every message, log line, report and stored row."""

from __future__ import annotations

import base64
import binascii
import re

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@", re.I)
_TOKEN_PARAMS = re.compile(
    r"(?P<key>(?:access_?token|private_token|token|api_?key|password|secret)=)[^&\s]+", re.I
)
_AUTH_HEADER = re.compile(r"(?P<key>(?:authorization|x-api-key|private-token)\s*[:=]\s*)\S+(?:\s+\S+)?", re.I)
# `Bearer <token>` / `Basic <base64>` wherever they stand (a server may echo the header back
# in an error body); a token ends before a trailing dot, like the end of a sentence.
_SCHEME_CREDENTIAL = re.compile(
    r"\b(?P<scheme>bearer|basic)(?P<gap>\s+)(?P<credential>[\w~+/-]+(?:\.[\w~+/-]+)*=*)", re.I)
# A word after "Bearer" shorter than this, letters only, is prose ("a Bearer token"), not a token.
_PROSE_WORD = 20

REDACTED = "***"


def basic_credentials(user: str, password: str) -> str:
    """The base64 form of a basic-auth pair, as it travels in an `Authorization: Basic` header."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _is_credential(scheme: str, credential: str) -> bool:
    if scheme.lower() == "bearer":
        return not (credential.isalpha() and len(credential) < _PROSE_WORD)
    try:  # "Basic" is followed by base64 of `user:password`; "Basic auth" is prose
        return b":" in base64.b64decode(credential, validate=True)
    except (binascii.Error, ValueError):
        return False


def _redact_scheme_credential(match: re.Match[str]) -> str:
    if not _is_credential(match.group("scheme"), match.group("credential")):
        return match.group(0)
    return match.group("scheme") + match.group("gap") + REDACTED


def mentions_credentials(text: str) -> bool:
    """Whether `text` may hold a credential that `redact` hides without knowing it: URL
    credentials, token parameters, auth headers, `Bearer`/`Basic` credentials.

    This runs on every evidence item of a scan: each pattern is searched only when the
    words it needs are in the text (a case-insensitive regex search costs ~100 µs per KB).
    """
    lower = text.lower()
    return bool(
        ("@" in text and "://" in text and _URL_CREDENTIALS.search(text))
        or ("=" in text and any(w in lower for w in _TOKEN_WORDS) and _TOKEN_PARAMS.search(text))
        or (any(w in lower for w in _HEADER_WORDS) and _AUTH_HEADER.search(text))
        or (("bearer" in lower or "basic" in lower) and _SCHEME_CREDENTIAL.search(text))
    )


# the words without which _TOKEN_PARAMS and _AUTH_HEADER cannot match
_TOKEN_WORDS = ("token", "api_key", "apikey", "password", "secret")
_HEADER_WORDS = ("authorization", "x-api-key", "private-token")


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Replace known secret values, URL credentials, token parameters, auth headers and
    `Bearer`/`Basic` credentials."""
    for secret in sorted(secrets or [], key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
    text = _TOKEN_PARAMS.sub(lambda m: m.group("key") + REDACTED, text)
    text = _SCHEME_CREDENTIAL.sub(_redact_scheme_credential, text)
    return _AUTH_HEADER.sub(lambda m: m.group("key") + REDACTED, text)
