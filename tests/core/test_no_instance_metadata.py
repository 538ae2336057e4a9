"""The test process never reaches the EC2 instance metadata service: without AWS credentials
botocore would ask 169.254.169.254 last (tests/conftest.py turns that off for tests only)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest

METADATA_HOST = "169.254.169.254"
_connections: list[Any] = []
_recording: list[bool] = []


def _record_connections(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _recording:
        _connections.append(args[1])


sys.addaudithook(_record_connections)  # audit hooks stay for the process: it records only on demand


def test_credential_lookup_without_credentials_never_asks_the_metadata_service(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                     "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    _connections.clear()
    _recording.append(True)
    try:
        credentials = botocore.session.Session().get_credentials()
    finally:
        _recording.clear()
    assert credentials is None
    assert not [address for address in _connections
                if isinstance(address, tuple) and address[0] == METADATA_HOST]
