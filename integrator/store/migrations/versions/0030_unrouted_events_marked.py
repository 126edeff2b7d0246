"""Unrouted events are marked: ``events.unrouted``, with a partial index on the marked ones.

An unrouted event is one with no message at all: no destination served its provider when it
arrived (``integrator events route`` routes it once one does). Finding them meant a
``NOT EXISTS`` on the messages of every event ever kept, one index look-up per event: on a
million events, seconds of a full scan for the unrouted-events gauge (every 30 s on every
engine), each dashboard load and each page of the unrouted events, twice a page (its rows and
its count). Now the few marked events are read through an index that holds nothing else.

- ``unrouted``: true on an event stored without a message, set in the same insert; cleared in
  the transaction that adds its first messages (``events route``). Messages are never deleted,
  so it never needs to be set again.
- a partial index on ``received_at`` where ``unrouted`` is true: the listing's order; a routed
  event, nearly every row, adds nothing to it.
- the backfill marks the events that have no message today: one scan, once.

No patient data: a flag.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As each dialect writes the query's term (``events.c.unrouted``), which SQLite must find
# word for word in a query to use the index.
SQLITE_UNROUTED = sa.text("unrouted = 1")
POSTGRESQL_UNROUTED = sa.text("unrouted")


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("unrouted", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.execute(
        "UPDATE events SET unrouted = true WHERE NOT EXISTS "
        "(SELECT 1 FROM messages WHERE messages.event_id = events.id)"
    )
    op.create_index(
        op.f("ix_events_received_at_unrouted"),
        "events",
        ["received_at"],
        sqlite_where=SQLITE_UNROUTED,
        postgresql_where=POSTGRESQL_UNROUTED,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_events_received_at_unrouted"), table_name="events")
    if op.get_bind().dialect.name == "sqlite":  # as 0024's downgrade: batch mode would fail
        op.execute("ALTER TABLE events DROP COLUMN unrouted")
    else:
        op.drop_column("events", "unrouted")
