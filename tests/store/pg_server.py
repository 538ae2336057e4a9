"""A throwaway PostgreSQL cluster on 127.0.0.1 for the store tests.

`initdb` and `pg_ctl` come from the Debian package `postgresql` (scripts/setup.sh --test
installs it). initdb refuses to run as root, so as root the cluster belongs to the
`postgres` user and lives in a /tmp folder it owns (pytest's own temp folders are 0700
root). Each test gets a fresh, empty database of the one cluster per test session.

Import the fixtures into a test module: `from pg_server import postgres, postgres_url, store_url`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICE_USER = "postgres"
START_TIMEOUT_SECONDS = 60
_databases = itertools.count()


@dataclass(frozen=True)
class RunningPostgres:
    """A started cluster: where it listens and how to reach it."""

    bin_dir: Path
    data_dir: Path
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg driver) of one database of the cluster."""
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://{self.user}{secret}@127.0.0.1:{self.port}/{database}"


def postgres_bin_dir() -> Path | None:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_owner(command: list[str]) -> list[str]:
    """Run as the postgres user when we are root (initdb refuses root)."""
    return ["runuser", "-u", SERVICE_USER, "--", *command] if os.geteuid() == 0 else command


def start_postgres() -> RunningPostgres:
    """initdb (trust auth, no fsync) and start a cluster on a free port of 127.0.0.1."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL is not installed (run scripts/setup.sh --test: Debian package postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="maturity-probe-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVICE_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data_dir = root / "data"
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust",
                              "--no-sync", "-U", "postgres", "-E", "UTF8"]),
                   check=True, capture_output=True, timeout=START_TIMEOUT_SECONDS)
    port = free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c full_page_writes=off -c max_connections=50")
    subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l",
                              str(root / "server.log"), "-w", "-t", str(START_TIMEOUT_SECONDS),
                              "start", "-o", options]),
                   check=True, capture_output=True, timeout=START_TIMEOUT_SECONDS + 10)
    return RunningPostgres(bin_dir=bin_dir, data_dir=data_dir, port=port)


def stop_postgres(server: RunningPostgres) -> None:
    subprocess.run(_as_owner([str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                              "-m", "immediate", "stop"]),
                   capture_output=True, timeout=60)
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


def create_database(server: RunningPostgres) -> str:
    """A new empty database; returns its URL."""
    import psycopg

    name = f"store_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(host="127.0.0.1", port=server.port, user=server.user,
                         dbname="postgres", autocommit=True) as connection:
        # FILE_COPY: a template copy in ~0.1 s instead of ~0.5 s of WAL logging
        strategy = " STRATEGY FILE_COPY" if connection.info.server_version >= 150000 else ""
        connection.execute(f'CREATE DATABASE "{name}"{strategy}')
    return server.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[RunningPostgres]:
    """One cluster per test session (per xdist worker), stopped at the end."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture
def postgres_url(postgres: RunningPostgres) -> str:
    """The URL of a fresh, empty database."""
    return create_database(postgres)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return create_database(request.getfixturevalue("postgres"))
