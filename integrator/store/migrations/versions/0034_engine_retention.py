"""The retention periods of the last engine that started on the store, kept after it stops.

- ``engine_retention``: one row, the periods (``INTEGRATOR_RETAIN_*_DAYS`` as JSON, as
  ``engine_presence.retention`` holds them), the host and pid of the engine that recorded them
  and when. ``integrator prune`` compared its periods only with the running engines': run while
  they were stopped (an upgrade day, a restore), from a shell without their settings, it took
  the defaults and emptied what they keep longer. Now it compares with this row too when no
  engine runs (``integrator.lifecycle.agreement``).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "engine_retention",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("retention", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_retention")),
        sa.CheckConstraint("id = 1", name=op.f("ck_engine_retention_one_row")),
    )


def downgrade() -> None:
    op.drop_table("engine_retention")
