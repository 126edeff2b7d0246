"""Engine presence: the transport a running engine delivers through.

- ``engine_presence.transport``: ``embedded`` (in-memory queues inside that one engine), or
  the broker and prefix of a RabbitMQ engine as ``rabbitmq HOST:PORT vhost=VHOST
  prefix=PREFIX`` (no user, no password); null for an engine from before this revision
  (unknown). A starting engine reads it and refuses to run beside an engine it would deliver
  the same waiting messages with twice (``integrator.presence.refuse_disagreeing``): an
  embedded engine beside any other, a RabbitMQ engine beside an embedded one or one on
  another broker or prefix.

A plain nullable ``ADD COLUMN`` on both backends (batch mode on SQLite, as 0014).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.add_column(sa.Column("transport", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engine_presence") as batch:
        batch.drop_column("transport")
