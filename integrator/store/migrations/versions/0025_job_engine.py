"""Jobs: the engine running each one.

- ``jobs.engine_id``: the presence id (``engine_presence.id``) of the engine that runs the job;
  null for a job started before this revision. A job does not outlive its engine: one whose
  engine died (killed, the machine lost) stays ``running`` in the store until an engine marks
  it ``interrupted``. Without knowing whose it was, a starting engine on a shared PostgreSQL
  store could only wait for the job's heartbeat to be five minutes old, so a job killed with
  its engine read ``running`` for that long after the restart. With it, a starting engine
  marks at once the jobs of an engine that is gone (no fresh presence row, or one of a process
  that no longer exists on this machine) and leaves those of the engines that run
  (``integrator.jobs.JobRegistry.recover``).

A plain nullable ``ADD COLUMN`` on both backends (batch mode on SQLite, as 0021). No patient
data: ids only.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("engine_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("engine_id")
