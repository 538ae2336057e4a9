"""Initial store: scans, sources, evidence, levels.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("config_key", sa.String(512), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("shard_index", sa.Integer),
        sa.Column("shard_count", sa.Integer),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("assessment", sa.Text, nullable=False),
    )
    op.create_index("ix_scans_group_id", "scans", ["group_id"])
    op.create_index("ix_scans_config_key", "scans", ["config_key"])
    op.create_index("ix_scans_generated_at", "scans", ["generated_at"])
    op.create_table(
        "sources",
        sa.Column("scan_id", sa.String(64), sa.ForeignKey("scans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("unavailable_signals", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("scan_id", sa.String(64), sa.ForeignKey("scans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("signal", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("locator", sa.Text, nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("line", sa.Integer),
        sa.Column("strength", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
    )
    op.create_index("ix_evidence_signal", "evidence", ["scan_id", "signal"])
    op.create_table(
        "levels",
        sa.Column("scan_id", sa.String(64), sa.ForeignKey("scans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("at_least", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for table in ("levels", "evidence", "sources", "scans"):
        op.drop_table(table)
