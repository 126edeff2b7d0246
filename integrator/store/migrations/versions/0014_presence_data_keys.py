"""Engine presence: the data keys a running engine can open values with.

- ``engine_presence.data_keys``: the ids of the data keys the engine was started with
  (``INTEGRATOR_DATA_KEYS``), comma-separated, the sealing key first; empty when it has none;
  null for an engine from before this revision (unknown). Key ids only, never a key.
  ``integrator keys rotate`` reads it: sealing the store with a key a running engine lacks
  would leave that engine unable to read what it must send.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.add_column(sa.Column("data_keys", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.drop_column("data_keys")
