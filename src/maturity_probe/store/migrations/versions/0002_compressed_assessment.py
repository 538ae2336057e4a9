"""Assessments stored zlib-compressed: a 2,000-system scan's JSON is ~115 MB, ~5x less compressed.

Scans written before keep their JSON text in `assessment` and read as before; new scans
leave it empty and fill `assessment_zlib`. A downgrade puts their JSON back as text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scans", sa.Column("assessment_zlib", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    scans = sa.table("scans", sa.column("id", sa.String), sa.column("assessment", sa.Text),
                     sa.column("assessment_zlib", sa.LargeBinary))
    connection = op.get_bind()
    compressed = connection.execute(sa.select(scans.c.id).where(scans.c.assessment_zlib.is_not(None)))
    for scan_id in compressed.scalars().all():  # one at a time: each can be ~100 MB as text
        data = connection.execute(sa.select(scans.c.assessment_zlib).where(scans.c.id == scan_id))
        document = zlib.decompress(data.scalar_one()).decode()
        connection.execute(scans.update().where(scans.c.id == scan_id).values(assessment=document))
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("assessment_zlib")
