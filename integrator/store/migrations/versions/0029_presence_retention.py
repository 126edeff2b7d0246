"""Engine presence: the retention periods a running engine prunes with.

- ``engine_presence.retention``: the engine's ``INTEGRATOR_RETAIN_*_DAYS`` as JSON
  (``{"payload_days": 90, …}``, ``0`` for ever); null for an engine from before this revision
  (unknown). ``integrator prune`` reads it and refuses to prune what a running engine keeps
  longer (``integrator.lifecycle.agreement``): run from a shell without the engine's settings,
  it took the defaults and emptied payloads the engine was set to keep.

A plain nullable ``ADD COLUMN`` on both backends (batch mode on SQLite, as 0021).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.add_column(sa.Column("retention", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.drop_column("retention")
