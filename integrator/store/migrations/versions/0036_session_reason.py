"""Why a console session looks at patient data: ``sessions.reason``.

The audit trail records who, when, from where, what and why for every view of patient data
and every export (docs/product.md §8). The API's callers give the why with each request, the
CLI's with each command; a person in the console states it once for their session, and may
change or clear it any time. It is kept with the session, so that each request of that
session states it again (``integrator.stated_reason``), whichever engine behind the console's
address answers it.

Null: none stated, as for every session opened before this revision. Not indexed: a session
is only ever read by its id. A plain nullable ``ADD COLUMN`` on both backends (batch mode on
SQLite, as 0029).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("reason")
