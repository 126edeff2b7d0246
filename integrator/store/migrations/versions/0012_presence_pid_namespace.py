"""Engine presence: the pid namespace an engine's pid belongs to.

- ``engine_presence.pid_namespace``: the engine's pid namespace as Linux names it
  (``pid:[4026531836]``), null where there is none to read. A command that finds a fresh row of
  its own host whose pid no process has takes it for a crashed engine and removes it; that
  conclusion only holds when the command sees the same pids as the engine did. A container
  sharing the host's name (host networking) has pids of its own, so a live engine's pid could
  look gone from outside it. No patient data.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.add_column(sa.Column("pid_namespace", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.drop_column("pid_namespace")
