"""Who sent a piece of rejected input: ``rejected_events.caller``.

Support reading a refused referral must know which upstream system to call. The caller is
what intake knew for certain when it kept the input: for the HTTP API the authenticated
token's identity as the audit log names it (``token:<name>``), for the server's CLI its
operating-system user (``local:<user>``), for RabbitMQ the channel (``amqp``: the broker gives
no sender the engine can trust). Never a name the input gave for itself.

Rows kept before this revision have none (NULL, listed as ``-``): the log line that named the
caller is not the store's to read back. Not indexed: rejected input is rare and kept 30 days
by default, and no listing filters on it. No patient data. A plain ``ADD COLUMN`` on both
backends.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rejected_events", sa.Column("caller", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rejected_events") as batch:
        batch.drop_column("caller")
