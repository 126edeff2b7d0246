"""Destination revisions: every change to a destination definition.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "destination_revisions",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("destination_id", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("config", sa.Text(), nullable=True),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destination_revisions")),
    )
    op.create_index(
        op.f("ix_destination_revisions_destination_id_revision"),
        "destination_revisions",
        ["destination_id", "revision"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_destination_revisions_destination_id_revision"),
        table_name="destination_revisions",
    )
    op.drop_table("destination_revisions")
