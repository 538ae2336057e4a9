"""Two `scan` processes writing to one fresh store at once both succeed (the schema
migration races too), and a secret never reaches a stored row.

The platform has a repository and a Prometheus source whose bearer token comes from an
environment variable. The Prometheus API here is a small local server that echoes the
token back in its error message, as careless servers do; the scan must store the
source as failed with the token redacted, and no row of any table may hold the token.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pg_server import postgres, store_url  # noqa: F401  (fixtures)
from sqlalchemy import MetaData, create_engine, select
from store_support import churn_platform, cli_process, run_cli

from maturity_probe.store import driver_url
from support import serving

CANARY = "mp-canary-7f3c9e1d5b"
TOKEN_ENV = "MP_STORE_CANARY_TOKEN"
SCANS = 2
OPENERS = 4
# imports first, says so, then opens the store when told to (a line on stdin): all at once
OPEN_STORE = """import sys
import sqlalchemy, alembic.command, maturity_probe.store
print("ready", flush=True)
sys.stdin.readline()
maturity_probe.store.Store.open(sys.argv[1]).engine.dispose()
"""


class EchoingPrometheus(BaseHTTPRequestHandler):
    """Refuses every request, quoting the Authorization header it was sent."""

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self._refuse()

    def _refuse(self) -> None:
        body = json.dumps({"status": "error", "errorType": "bad_data",
                           "error": f"token not accepted: {self.headers.get('Authorization')}"})
        data = body.encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def echoing_prometheus() -> Iterator[str]:
    with serving(EchoingPrometheus) as url:
        yield url


def readable(value: object) -> object:
    """A stored value as a person would read it: compressed assessments decompressed."""
    return zlib.decompress(value).decode() if isinstance(value, bytes) else value


def every_stored_value(url: str) -> list[str]:
    """Every row of every table of the store, as text (compressed columns decompressed)."""
    engine = create_engine(driver_url(url))
    try:
        tables = MetaData()
        tables.reflect(engine)
        assert {"scans", "sources", "evidence", "levels", "alembic_version"} <= set(tables.tables)
        with engine.connect() as connection:
            return [str(tuple(readable(value) for value in row)) for table in tables.sorted_tables
                    for row in connection.execute(select(table))]
    finally:
        engine.dispose()


def test_concurrent_scans_into_one_fresh_store_keep_secrets_out(
        tmp_path: Path, store_url: str, echoing_prometheus: str) -> None:  # noqa: F811
    prometheus = (f"  - type: prometheus\n    name: prom\n    url: {echoing_prometheus}\n"
                  f"    token_env: {TOKEN_ENV}\n    max_retries: 0\n")
    config = churn_platform(tmp_path, name="canary-platform", extra_sources=prometheus)
    env = {TOKEN_ENV: CANARY, "MATURITY_PROBE_NOW": "2026-01-12T03:00:00+00:00"}
    scans = [cli_process("scan", "--config", str(config), "--store", store_url, "--format", "json",
                         env=env) for _ in range(SCANS)]
    outputs = [process.communicate(timeout=180) for process in scans]
    for process, (stdout, stderr) in zip(scans, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert CANARY not in stdout and CANARY not in stderr
        assert json.loads(stdout)["maturity"]["microsoft"]["level"] == 3

    listed = run_cli("history", "--store", store_url, "--format", "json")
    assert listed.code == 0, listed.stderr
    stored = json.loads(listed.stdout)["scans"]
    assert len(stored) == SCANS and len({s["id"] for s in stored}) == SCANS
    for scan in stored:
        prom = next(s for s in scan["sources"] if s["name"] == "prom")
        assert prom["status"] == "failed"
        assert prom["reason"].endswith("token not accepted: Bearer ***"), prom["reason"]

    values = every_stored_value(store_url)
    assert any("token not accepted" in value for value in values)  # the reason was stored...
    assert not [value for value in values if CANARY in value]  # ...without the token


def test_processes_creating_one_fresh_store_at_once_all_succeed(store_url: str) -> None:  # noqa: F811
    """The schema is created once: SQLite takes the write lock first, PostgreSQL an advisory lock."""
    openers = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, store_url], text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(OPENERS)]
    for opener in openers:
        assert opener.stdout is not None and opener.stdout.readline() == "ready\n"
    for opener in openers:
        assert opener.stdin is not None
        opener.stdin.write("go\n")
        opener.stdin.flush()
    for opener in openers:
        _, stderr = opener.communicate(timeout=120)
        assert opener.returncode == 0, stderr
    values = every_stored_value(store_url)
    assert values == ["('0002',)"]  # the one row of alembic_version, no scan
