"""The history store: scans, their sources, evidence and assessments, over time.

SQLite by default (a file in the user's data directory), PostgreSQL by URL. A scan is
written in one transaction, so an interrupted scan leaves nothing half written; the
schema is created and upgraded by Alembic migrations on first use.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from maturity_probe.assessment import Assessment
from maturity_probe.errors import UserError
from maturity_probe.redact import redact

STORE_ENV = "MATURITY_PROBE_STORE"
EVIDENCE_BATCH = 1000
_MIGRATION_LOCK = 0x6D70726F  # "mpro": PostgreSQL advisory lock key for schema upgrades


def default_store_url() -> str:
    """MATURITY_PROBE_STORE, else a SQLite file under $XDG_DATA_HOME (~/.local/share)."""
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'maturity-probe' / 'store.db'}"


@dataclass(frozen=True)
class ScanRecord:
    """One stored scan, without its evidence (read that with `Store.assessment`)."""

    id: str
    group_id: str
    config_key: str
    target: str
    generated_at: datetime
    shard_index: int | None
    shard_count: int | None
    levels: dict[str, dict[str, tuple[int, bool]]]  # scope -> model -> (level, at_least)


class Store:
    """Read and write scans. Open with `Store.open(url)`; use as a context manager."""

    def __init__(self, url: str) -> None:
        try:
            from sqlalchemy import create_engine, event
        except ImportError as exc:
            raise UserError("the store needs `pip install 'maturity-probe[store]'`") from exc
        self.url = url
        self.display_url = redact(url)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url, future=True, pool_pre_ping=True)
        except Exception as exc:  # bad URL or missing driver: a user error, said in one line
            raise UserError(f"store {self.display_url}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")  # concurrent writers wait, not fail
                cursor.close()

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        store = cls(url or default_store_url())
        store.migrate()
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()

    # -- schema --------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration (safe to run concurrently)."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        config = Config()
        config.set_main_option("script_location", "maturity_probe.store:migrations")
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise UserError(f"store {self.display_url}: {_first_line(exc)}") from exc

    # -- writing --------------------------------------------------------------------------
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

        scan_id = f"{assessment.generated_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        levels = [
            {"scan_id": scan_id, "scope": scope, "model": model, "level": level, "at_least": at_least}
            for scope, by_model in scope_levels(assessment).items()
            for model, (level, at_least) in by_model.items()
        ]
        try:
            with self.engine.begin() as connection:
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
                    assessment=assessment.model_dump_json(),
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
                            f"{_first_line(exc)}") from exc
        return scan_id

    # -- reading --------------------------------------------------------------------------
    def scans(self, *, config_key: str | None = None, limit: int | None = None,
              group_id: str | None = None) -> list[ScanRecord]:
        """Stored scans, newest first."""
        from sqlalchemy import select

        from maturity_probe.store import schema

        query = select(schema.scans).order_by(schema.scans.c.generated_at.desc(),
                                              schema.scans.c.id.desc())
        if config_key is not None:
            query = query.where(schema.scans.c.config_key == config_key)
        if group_id is not None:
            query = query.where(schema.scans.c.group_id == group_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            level_rows = connection.execute(
                select(schema.levels).where(schema.levels.c.scan_id.in_(ids))
            ).mappings().all() if ids else []
        by_scan: dict[str, dict[str, dict[str, tuple[int, bool]]]] = {}
        for row in level_rows:
            by_scan.setdefault(row["scan_id"], {}).setdefault(row["scope"], {})[row["model"]] = (
                row["level"], row["at_least"])
        return [
            ScanRecord(id=row["id"], group_id=row["group_id"], config_key=row["config_key"],
                       target=row["target"], generated_at=row["generated_at"],
                       shard_index=row["shard_index"], shard_count=row["shard_count"],
                       levels=by_scan.get(row["id"], {}))
            for row in rows
        ]

    def resolve(self, reference: str, *, config_key: str | None = None) -> str:
        """A scan id from an id, a unique id prefix, `last` or `last~N`."""
        if reference == "last" or reference.startswith("last~"):
            back = int(reference.partition("~")[2] or 0)
            found = self.scans(config_key=config_key, limit=back + 1)
            if len(found) <= back:
                where = f" of {config_key}" if config_key else ""
                raise UserError(f"no stored scan{where} for {reference!r} "
                                f"(the store has {len(found)})")
            return found[back].id
        from sqlalchemy import select

        from maturity_probe.store import schema

        with self.engine.connect() as connection:
            ids = connection.execute(
                select(schema.scans.c.id).where(schema.scans.c.id.startswith(reference))
            ).scalars().all()
        if len(ids) != 1:
            raise UserError(f"no stored scan {reference!r}" if not ids else
                            f"scan id {reference!r} is ambiguous ({len(ids)} scans)")
        return str(ids[0])

    def assessment(self, scan_id: str) -> Assessment:
        from sqlalchemy import select

        from maturity_probe.store import schema

        with self.engine.connect() as connection:
            text = connection.execute(
                select(schema.scans.c.assessment).where(schema.scans.c.id == scan_id)
            ).scalar_one_or_none()
        if text is None:
            raise UserError(f"no stored scan {scan_id!r}")
        return Assessment.model_validate_json(text)

    def latest(self) -> Assessment:
        found = self.scans(limit=1)
        if not found:
            raise UserError("the store is empty: run `maturity-probe scan` first")
        return self.assessment(found[0].id)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        with self.engine.connect() as connection:
            yield connection


def scope_levels(assessment: Assessment) -> dict[str, dict[str, tuple[int, bool]]]:
    """Levels by scope ("platform", later "system:<name>") and model, for fast history."""
    return {"platform": {m.model: (m.level, m.at_least) for m in assessment.maturity.values()}}


def _first_line(exc: Exception) -> str:
    return redact(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
