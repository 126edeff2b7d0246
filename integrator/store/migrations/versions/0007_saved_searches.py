"""Saved searches: a person's named message searches, kept on the server.

- ``saved_searches``: one row per saved search, with its owner (``person_id``), the name they
  gave it (unique per person) and its terms as a JSON object. Only identifier terms are ever
  stored (ZD number, destination, status, version, event type, period): never a BSN, which the
  service refuses before a row is written (``integrator.saved_searches``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_saved_searches_person_id_people"),
        ),
    )
    op.create_index(
        op.f("ix_saved_searches_person_id_name"),
        "saved_searches",
        ["person_id", "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saved_searches_person_id_name"), table_name="saved_searches")
    op.drop_table("saved_searches")
