"""The history store: scans, their sources, evidence and assessments, over time.

SQLite by default (a file in the user's data directory), PostgreSQL by URL. A scan is
written in one transaction, so an interrupted scan leaves nothing half written; the
schema is created and upgraded by Alembic migrations on first use.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_core import to_json

from maturity_probe.assessment import Assessment, SystemMaturity
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence
from maturity_probe.redact import redact

STORE_ENV = "MATURITY_PROBE_STORE"
EVIDENCE_BATCH = 1000
# zlib level of stored assessments: level 1 is several times faster than the default and
# still shrinks the repetitive JSON several fold (a 2,000-system scan's is ~115 MB)
COMPRESSION_LEVEL = 1
PLATFORM_SCOPE = "platform"
SYSTEM_SCOPE = "system:"  # + the system's name
MAX_SCOPE_CHARS = 300  # the levels.scope column
CONNECT_TIMEOUT_SECONDS = 10
_WRITES = "maturity_probe_writes"  # execution option: a transaction that will write
_MIGRATION_LOCK = 0x6D70726F  # "mpro": PostgreSQL advisory lock key for schema upgrades
# URL schemes people write for PostgreSQL, and the driver the `store` extra installs
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_POSTGRES_DRIVER = "postgresql+psycopg://"
_SUPPORTED = ("use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
              "(PostgreSQL needs `pip install 'maturity-probe[store]'`)")


def default_store_url() -> str:
    """MATURITY_PROBE_STORE, else a SQLite file under $XDG_DATA_HOME (~/.local/share)."""
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'maturity-probe' / 'store.db'}"


def driver_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean PostgreSQL through psycopg (the `store` extra)."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _POSTGRES_DRIVER + url.removeprefix(scheme)
    return url


@dataclass(frozen=True)
class SourceRecord:
    """How one source of a stored scan went."""

    name: str
    type: str
    status: str  # ok / partial / failed
    reason: str


@dataclass(frozen=True)
class ScanRecord:
    """One stored scan, without its evidence (read that with `Store.assessment`)."""

    id: str
    group_id: str
    config_key: str
    target: str
    generated_at: datetime  # always timezone-aware (UTC)
    shard_index: int | None
    shard_count: int | None
    levels: dict[str, dict[str, tuple[int, bool]]]  # scope -> model -> (level, at_least)
    sources: list[SourceRecord] = field(default_factory=list)

    @property
    def is_shard(self) -> bool:
        return self.shard_index is not None


class Store:
    """Read and write scans. Open with `Store.open(url)`; use as a context manager."""

    def __init__(self, url: str) -> None:
        try:
            from sqlalchemy import create_engine, event
        except ImportError as exc:
            raise UserError("the store needs `pip install 'maturity-probe[store]'`") from exc
        self.url = driver_url(url)
        self._secrets = _url_secrets(self.url)
        self.display_url = redact(url, self._secrets)
        if self.url.startswith("sqlite:///"):
            folder = Path(self.url.removeprefix("sqlite:///")).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"store {self.display_url}: cannot create {folder}: "
                                f"{exc.strerror}") from exc
        connect_args = ({"connect_timeout": CONNECT_TIMEOUT_SECONDS}
                        if self.url.startswith("postgresql") else {})
        try:
            self.engine = create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        except ModuleNotFoundError as exc:
            raise UserError(f"store {self.display_url}: the Python driver {exc.name!r} is not "
                            f"installed; {_SUPPORTED}") from exc
        except Exception as exc:  # bad URL or unknown dialect: a user error, said in one line
            raise UserError(f"store {self.display_url}: not a usable store URL "
                            f"({self._first_line(exc)}); {_SUPPORTED}") from exc
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                # SQLAlchemy says BEGIN (below): pysqlite's own would leave DDL outside it
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")  # concurrent writers wait, not fail
                cursor.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(connection: Any) -> None:
                # a writer takes the write lock first: two processes creating the schema
                # or saving a scan at once wait for each other instead of failing
                writes = connection.get_execution_options().get(_WRITES, False)
                connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """The store at `url` (default: `default_store_url()`), its schema up to date."""
        store = cls(url or default_store_url())
        try:
            store.migrate()
        except BaseException:
            store.engine.dispose()
            raise
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()

    # -- schema --------------------------------------------------------------------------
    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema to the newest migration, or to `revision` (safe to
        run concurrently)."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        config = Config()
        config.set_main_option("script_location", "maturity_probe.store:migrations")
        try:
            with self._writing() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except SQLAlchemyError as exc:
            raise UserError(f"store {self.display_url}: {self._first_line(exc)}") from exc

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A connection in a write transaction, committed at the end, else rolled back."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITES: True})
            with connection.begin():
                yield connection

    def save(
        self,
        assessment: Assessment,
        *,
        config_key: str,
        group_id: str | None = None,
        shard: tuple[int, int] | None = None,
    ) -> str:
        """Write a whole scan in one transaction and return its id."""
        from sqlalchemy.exc import SQLAlchemyError

        from maturity_probe.store import schema

        scan_id = f"{_utc(assessment.generated_at):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        levels = [
            {"scan_id": scan_id, "scope": scope, "model": model, "level": level, "at_least": at_least}
            for scope, by_model in scope_levels(assessment).items()
            for model, (level, at_least) in by_model.items()
        ]
        try:
            with self._writing() as connection:
                connection.execute(schema.scans.insert().values(
                    id=scan_id,
                    group_id=group_id or scan_id,
                    config_key=config_key,
                    target=assessment.target,
                    shard_index=shard[0] if shard else None,
                    shard_count=shard[1] if shard else None,
                    generated_at=assessment.generated_at,
                    tool_version=assessment.tool.version,
                    schema_version=assessment.schema_version,
                    assessment="",
                    assessment_zlib=compressed_json(assessment),
                ))
                if assessment.sources:
                    connection.execute(schema.sources.insert(), [
                        {"scan_id": scan_id, **s.model_dump(mode="json")}
                        | {"status": s.status.value} for s in assessment.sources
                    ])
                for start in range(0, len(assessment.evidence), EVIDENCE_BATCH):
                    batch = assessment.evidence[start:start + EVIDENCE_BATCH]
                    connection.execute(schema.evidence.insert(), [
                        {**item.model_dump(), "scan_id": scan_id, "strength": item.strength.value}
                        for item in batch
                    ])
                if levels:
                    connection.execute(schema.levels.insert(), levels)
        except SQLAlchemyError as exc:
            raise UserError(f"store {self.display_url}: could not save the scan: "
                            f"{self._first_line(exc)}") from exc
        return scan_id

    # -- reading --------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A read connection; database errors become one-line user errors."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise UserError(f"store {self.display_url}: {self._first_line(exc)}") from exc

    def scans(self, *, config_key: str | None = None, limit: int | None = None,
              group_id: str | None = None, whole: bool = False,
              scan_id: str | None = None) -> list[ScanRecord]:
        """Stored scans, newest first, with their levels and source statuses.

        `whole` leaves out the shards of sharded scans (each saw only part of the platform).
        """
        from sqlalchemy import select

        from maturity_probe.store import schema

        query = select(*(schema.scans.c[name] for name in _SCAN_COLUMNS)).order_by(
            schema.scans.c.generated_at.desc(), schema.scans.c.id.desc())
        if config_key is not None:
            query = query.where(schema.scans.c.config_key == config_key)
        if group_id is not None:
            query = query.where(schema.scans.c.group_id == group_id)
        if whole:
            query = query.where(schema.scans.c.shard_index.is_(None))
        if scan_id is not None:
            query = query.where(schema.scans.c.id == scan_id)
        if limit is not None:
            query = query.limit(limit)
        with self.connection() as connection:
            rows = connection.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            level_rows = connection.execute(
                select(schema.levels).where(schema.levels.c.scan_id.in_(ids))
                .order_by(schema.levels.c.scope, schema.levels.c.model)
            ).mappings().all() if ids else []
            source_rows = connection.execute(
                select(schema.sources.c.scan_id, schema.sources.c.name, schema.sources.c.type,
                       schema.sources.c.status, schema.sources.c.reason)
                .where(schema.sources.c.scan_id.in_(ids)).order_by(schema.sources.c.name)
            ).mappings().all() if ids else []
        levels: dict[str, dict[str, dict[str, tuple[int, bool]]]] = {}
        for row in level_rows:
            levels.setdefault(row["scan_id"], {}).setdefault(row["scope"], {})[row["model"]] = (
                row["level"], bool(row["at_least"]))
        sources: dict[str, list[SourceRecord]] = {}
        for row in source_rows:
            sources.setdefault(row["scan_id"], []).append(
                SourceRecord(row["name"], row["type"], row["status"], row["reason"]))
        return [
            ScanRecord(id=row["id"], group_id=row["group_id"], config_key=row["config_key"],
                       target=row["target"], generated_at=_utc(row["generated_at"]),
                       shard_index=row["shard_index"], shard_count=row["shard_count"],
                       levels=levels.get(row["id"], {}), sources=sources.get(row["id"], []))
            for row in rows
        ]

    def resolve(self, reference: str, *, config_key: str | None = None, whole: bool = True) -> str:
        """A scan id from an id, a unique id prefix, `last` or `last~N` (N scans before last).

        `last` and `last~N` count the scans of `config_key` (all scans when None), and only
        whole ones unless `whole` is False: a shard saw part of the platform, the merged
        scan of its group counts instead. An id or prefix names any scan, shards too.
        """
        if not reference.strip():
            raise UserError("no scan given: name one by its id (or a prefix), last or last~N")
        if reference == "last" or reference.startswith("last~"):
            back_text = "0" if reference == "last" else reference.partition("~")[2]
            if not back_text.isdigit():
                raise UserError(f"scan {reference!r}: expected last or last~N, e.g. last~1")
            back = int(back_text)
            found = self.scans(config_key=config_key, limit=back + 1, whole=whole)
            if len(found) <= back:
                where = f" of {config_key}" if config_key else ""
                stored = f"{len(found)} stored" if found else self._platforms_hint()
                raise UserError(f"no stored scan{where} for {reference!r} ({stored})")
            return found[back].id
        from sqlalchemy import select

        from maturity_probe.store import schema

        with self.connection() as connection:
            ids = connection.execute(
                select(schema.scans.c.id).where(schema.scans.c.id.startswith(reference,
                                                                              autoescape=True))
                .limit(2)
            ).scalars().all()
        if len(ids) != 1:
            raise UserError(f"no stored scan {reference!r}" if not ids else
                            f"scan id {reference!r} is ambiguous (several scans start with it)")
        return str(ids[0])

    def _platforms_hint(self) -> str:
        """Which platforms the store holds scans of, for a message about another one."""
        keys = sorted({r.config_key for r in self.scans(limit=500)})
        if not keys:
            return "the store is empty"
        return "platforms stored: " + ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")

    def record(self, scan_id: str) -> ScanRecord:
        """One stored scan's record (levels, sources) by its exact id."""
        found = self.scans(scan_id=scan_id)
        if not found:
            raise UserError(f"no stored scan {scan_id!r}")
        return found[0]

    def assessment(self, scan_id: str) -> Assessment:
        """The stored Assessment of a scan, exactly as it was rendered then."""
        from sqlalchemy import select

        from maturity_probe.store import schema

        with self.connection() as connection:
            row = connection.execute(
                select(schema.scans.c.assessment, schema.scans.c.assessment_zlib)
                .where(schema.scans.c.id == scan_id)
            ).one_or_none()
        if row is None:
            raise UserError(f"no stored scan {scan_id!r}")
        if row.assessment_zlib is None:  # written before migration 0002
            return Assessment.model_validate_json(row.assessment)
        try:
            document = zlib.decompress(row.assessment_zlib)
        except zlib.error as exc:
            raise UserError(f"store {self.display_url}: the stored assessment of scan "
                            f"{scan_id} is damaged ({exc})") from exc
        return Assessment.model_validate_json(document)

    def latest(self) -> Assessment:
        """The newest whole stored scan's Assessment."""
        found = self.scans(limit=1, whole=True)
        if not found:
            raise UserError("the store is empty: run `maturity-probe scan` first")
        return self.assessment(found[0].id)

    def _first_line(self, exc: Exception) -> str:
        """The first line of a driver's message, without the URL's password."""
        text = str(getattr(exc, "orig", None) or exc).strip()
        return redact(text.splitlines()[0] if text else type(exc).__name__, self._secrets)


_SCAN_COLUMNS = ("id", "group_id", "config_key", "target", "generated_at", "shard_index",
                 "shard_count")


def compressed_json(assessment: Assessment) -> bytearray:
    """The Assessment's JSON (exactly the bytes `model_dump_json` gives), zlib-compressed
    while it is made: the whole document is never in memory (a 2,000-system platform's is
    115 MB, and pydantic would grow a buffer of up to twice that to make it), and the
    compressed bytes are one buffer, not pieces and their join."""
    compressor = zlib.compressobj(COMPRESSION_LEVEL)
    compressed = bytearray()
    for part in json_parts(assessment):
        compressed += compressor.compress(part)
    compressed += compressor.flush()
    return compressed


def json_parts(assessment: Assessment) -> Iterator[bytes]:
    """`model_dump_json` in pieces, made by pydantic's own serializers: the small fields
    each at once, the ML systems and the evidence (nearly all of a platform's JSON) one
    item at a time."""
    system_json = SystemMaturity.__pydantic_serializer__.to_json
    evidence_json = Evidence.__pydantic_serializer__.to_json
    yield b"{"
    separator = b""
    for name in Assessment.model_fields:
        yield separator
        separator = b","
        if name == "systems":
            yield b'"systems":{'
            yield from _joined(to_json(key) + b":" + system_json(system)
                               for key, system in assessment.systems.items())
            yield b"}"
        elif name == "evidence":
            yield b'"evidence":['
            yield from _joined(evidence_json(item) for item in assessment.evidence)
            yield b"]"
        else:  # `{"name":value}`, without its braces
            yield Assessment.__pydantic_serializer__.to_json(assessment, include={name})[1:-1]
    yield b"}"


def _joined(parts: Iterator[bytes]) -> Iterator[bytes]:
    separator = b""
    for part in parts:
        yield separator + part
        separator = b","


def scope_levels(assessment: Assessment) -> dict[str, dict[str, tuple[int, bool]]]:
    """Levels by scope (`platform`, `system:<name>`) and model: history and trends read
    these rows instead of whole assessments."""
    scopes = {PLATFORM_SCOPE: {m.model: (m.level, m.at_least)
                               for m in assessment.maturity.values()}}
    for name, system in assessment.systems.items():
        scopes[system_scope(name)] = {m.model: (m.level, m.at_least)
                                       for m in system.maturity.values()}
    return scopes


def system_scope(name: str) -> str:
    """`system:<name>`; a name too long for the column keeps its start and a hash of it."""
    scope = SYSTEM_SCOPE + name
    if len(scope) <= MAX_SCOPE_CHARS:
        return scope
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{scope[:MAX_SCOPE_CHARS - 13]}~{digest}"


def _url_secrets(url: str) -> list[str]:
    """The password of a store URL, to keep it out of every message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        return []
    return [str(password)] if password else []


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: the store keeps UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
