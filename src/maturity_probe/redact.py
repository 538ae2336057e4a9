"""Keep secrets out of every message, log line, report and stored row."""

from __future__ import annotations

import re

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@", re.I)
_TOKEN_PARAMS = re.compile(
    r"(?P<key>(?:access_?token|private_token|token|api_?key|password|secret)=)[^&\s]+", re.I
)
_AUTH_HEADER = re.compile(r"(?P<key>(?:authorization|x-api-key|private-token)\s*[:=]\s*)\S+(?:\s+\S+)?", re.I)

REDACTED = "***"


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Replace known secret values, URL credentials, token parameters and auth headers."""
    for secret in sorted(secrets or [], key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
    text = _TOKEN_PARAMS.sub(lambda m: m.group("key") + REDACTED, text)
    return _AUTH_HEADER.sub(lambda m: m.group("key") + REDACTED, text)
