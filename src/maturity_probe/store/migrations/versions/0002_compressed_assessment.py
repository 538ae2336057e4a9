"""Assessments stored zlib-compressed: a 2,000-system scan's JSON is ~115 MB, ~7x less compressed.

Scans written before keep their JSON text in `assessment` and read as before; new scans
leave it empty and fill `assessment_zlib`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scans", sa.Column("assessment_zlib", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("assessment_zlib")
