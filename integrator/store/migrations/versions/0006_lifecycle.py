"""Data lifecycle: pruned payloads, durable resend jobs, and the daily-task lease.

- ``messages.pruned_at``, ``events.pruned_at``: when retention emptied the payload. The row
  stays (listings, attempts, resend links and the audit trail still point at it); only the
  HL7 text, the ACK bytes or the event JSON are gone.
- ``jobs``: batch jobs (``POST /api/v1/resend``) and their progress, so a job can still be read
  after a restart.
- ``leases``: one row per engine-wide task that must run on one engine only (the daily prune);
  an engine takes its turn with a compare-and-set on ``last_run_at`` (the first turn
  inserts the row).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("pruned_at", TIME, nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("pruned_at", TIME, nullable=True))
    op.create_index(op.f("ix_messages_updated_at"), "messages", ["updated_at"])
    op.create_index(op.f("ix_events_received_at"), "events", ["received_at"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("clusters", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("heartbeat_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.CheckConstraint(
            "state IN ('running', 'done', 'failed', 'interrupted')", name=op.f("ck_jobs_state")
        ),
    )
    op.create_index(op.f("ix_jobs_state"), "jobs", ["state"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("last_run_at", TIME, nullable=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index(op.f("ix_jobs_state"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_events_received_at"), table_name="events")
    op.drop_index(op.f("ix_messages_updated_at"), table_name="messages")
    _drop_column("events", "pruned_at")
    _drop_column("messages", "pruned_at")


def _drop_column(table: str, column: str) -> None:
    """SQLite's own ``DROP COLUMN`` (3.35 or newer, as 0008 needs): batch mode's copy of the
    table drops the old one, which fails once rows of other tables refer to it (foreign keys
    are on), so this downgrade failed on every store with messages in it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
