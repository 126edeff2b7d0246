"""Engine presence: each running engine says so in the store, with where its HTTP API is.

- ``engine_presence``: one row per running engine process: its id, host name, pid, the HTTP
  address it was configured to serve (``host:port``; null when it runs with ``--no-http``),
  when it started, and a heartbeat it refreshes while it runs. A clean stop deletes the row;
  a crashed engine leaves one whose heartbeat goes stale. Commands that would otherwise write
  into the store behind a running engine's back read it (``integrator.presence``). No patient
  data.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "engine_presence",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("http_address", sa.String(300), nullable=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("heartbeat_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_presence")),
    )


def downgrade() -> None:
    op.drop_table("engine_presence")
