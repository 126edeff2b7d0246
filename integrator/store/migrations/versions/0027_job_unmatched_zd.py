"""Jobs: the ZD number a resend job selected nothing by.

- ``jobs.unmatched_zd``: set only on a resend job whose selection was made by a ZD number and
  found no message, null otherwise (and for every job from before this revision). ``integrator
  resend --zd`` and ``messages list --zd`` that find nothing say where that referral went
  instead (refused by intake, or arrived while no destination served its provider:
  ``message_reads.zd_elsewhere``); ``POST /api/v1/resend`` could not, since its answer is the
  job as it starts, kept for an ``Idempotency-Key``'s repeats. With the number kept on the job,
  ``GET /api/v1/jobs/{id}`` says it, worked out for whoever reads the job.

A plain nullable ``ADD COLUMN`` on both backends (batch mode on SQLite, as 0025). A ZD number
is the platform's number of a referral, an identifier as logs carry it, not patient data.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("unmatched_zd", sa.String(11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("unmatched_zd")
