"""Where a message's ``max_age`` counts from: its release from held, its destination's resume.

Time during which a message could not be tried does not count toward ``max_age``
(``destinations.retry.age_start``): it counts from the latest of the message's creation, its
release from held and its destination's last resume. Two moments are kept for that:

- ``messages.released_at``: when the message was last released from held (written by the same
  update that queues it). Null for every message from before this revision: those released
  earlier count from their creation, as they did.
- ``destination_pauses``: per destination, ``paused_at`` while it is paused (when an engine first
  saw it so) and ``resumed_at``, when it was last seen going from paused to enabled. Empty at
  first: a destination paused now is recorded when an engine next applies its definitions (at
  its start), and gets its resume when it is enabled again.

No patient data. Plain ``ADD COLUMN`` and ``CREATE TABLE`` on both backends.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("messages", sa.Column("released_at", TIME, nullable=True))
    op.create_table(
        "destination_pauses",
        sa.Column("destination_id", sa.String(64), nullable=False),
        sa.Column("paused_at", TIME, nullable=True),
        sa.Column("resumed_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("destination_id", name=op.f("pk_destination_pauses")),
    )


def downgrade() -> None:
    op.drop_table("destination_pauses")
    _drop_column("messages", "released_at")


def _drop_column(table: str, column: str) -> None:
    """SQLite's own ``DROP COLUMN`` (3.35 or newer, as 0008 needs): batch mode's copy of the
    table drops the old one, which fails once rows of other tables refer to it (foreign keys
    are on), so this downgrade failed on every store with messages in it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
