"""Tables of the history store. Changing them needs a new Alembic migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

scans = Table(
    "scans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("group_id", String(64), nullable=False, index=True),
    Column("config_key", String(512), nullable=False, index=True),
    Column("target", Text, nullable=False),
    Column("shard_index", Integer),
    Column("shard_count", Integer),
    Column("generated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("tool_version", String(64), nullable=False),
    Column("schema_version", String(16), nullable=False),
    # The Assessment JSON, byte for byte: zlib-compressed in `assessment_zlib` since
    # migration 0002 (`assessment` is then empty); as text in `assessment` before it.
    Column("assessment", Text, nullable=False),
    Column("assessment_zlib", LargeBinary),
)

sources = Table(
    "sources",
    metadata,
    Column("scan_id", String(64), ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("duration_seconds", Float, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("unavailable_signals", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("scan_id", String(64), ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("signal", String(128), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("source", String(256), nullable=False),
    Column("locator", Text, nullable=False),
    Column("path", Text),
    Column("line", Integer),
    Column("strength", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True)),
    Column("attributes", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Index("ix_evidence_signal", "scan_id", "signal"),
)

levels = Table(
    "levels",
    metadata,
    Column("scan_id", String(64), ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("scope", String(300), primary_key=True),  # "platform" or "system:<name>"
    Column("model", String(64), primary_key=True),
    Column("level", Integer, nullable=False),
    Column("at_least", Boolean, nullable=False),
)
