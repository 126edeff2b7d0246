"""The dead messages indexed alone, with what the open dead letter count reads of each.

``open_dead_letter_counts`` (the dashboard and its figures every 5 s, the destinations page and
``GET /api/v1/destinations``, the dead letters page) counts, per destination, the dead messages
no later member of their family settled. It found them on ``(status, seq)`` and read each one's
row for its destination, family root and id: on PostgreSQL, for 30,000 dead letters among a
million messages, 22,000 table pages in 120-380 ms, since the dead are spread over the whole
history. A partial index over the dead messages alone, holding those columns, answers it by an
index-only scan (about 35 ms there, bench/results/at-scale.md). It costs an entry per dead
message; ``status`` and the other columns are indexed already, so no update that was HOT on
PostgreSQL stops being one.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_dead"
DEAD = sa.text("status = 'dead'")


def upgrade() -> None:
    op.create_index(
        INDEX,
        "messages",
        ["status", "destination_id", "seq", "id", "family_root"],
        sqlite_where=DEAD,
        postgresql_where=DEAD,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
