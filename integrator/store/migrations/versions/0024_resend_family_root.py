"""Each resend names the first message of its family: ``messages.family_root``.

A dead letter is resolved when a later member of its resend family was delivered
(``deadletter.family``). Finding the family meant walking ``resend_of`` a generation at a time
in Python, for every dead message ever kept: the dead letters page, the dashboard's poll and
the metric scrape read every resolved one again, so their cost grew with the history (16,000
resolved dead letters: two to three seconds a page, over a second a poll). With the root on
each resend, "no later member delivered" is one indexed ``NOT EXISTS`` in SQL, and only the
open ones are read.

- ``family_root``: the id of the message the family grows from, on a resend (its original's
  ``family_root``, or the original's id when the original is not a resend itself). Null on a
  message that is not a resend: it is its family's root. Written once, with the resend.
- a partial index on ``(family_root, status, seq)`` where it is set: originals, nearly every
  row, add nothing to it.
- the backfill walks the resends one generation per ``UPDATE`` until none is left: families are
  a few generations deep.

No patient data: message ids only.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IS_SET = sa.text("family_root IS NOT NULL")

# One generation: the resends whose original is a root or already has its root.
_NEXT_GENERATION = sa.text(
    "UPDATE messages SET family_root = ("
    " SELECT COALESCE(parent.family_root, parent.id) FROM messages AS parent"
    " WHERE parent.id = messages.resend_of) "
    "WHERE resend_of IS NOT NULL AND family_root IS NULL AND EXISTS ("
    " SELECT 1 FROM messages AS parent WHERE parent.id = messages.resend_of"
    " AND (parent.resend_of IS NULL OR parent.family_root IS NOT NULL))"
)


def upgrade() -> None:
    op.add_column("messages", sa.Column("family_root", sa.String(36), nullable=True))
    connection = op.get_bind()
    while connection.execute(_NEXT_GENERATION).rowcount:
        pass
    op.create_index(
        op.f("ix_messages_family_root_status_seq"),
        "messages",
        ["family_root", "status", "seq"],
        sqlite_where=IS_SET,
        postgresql_where=IS_SET,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_family_root_status_seq"), table_name="messages")
    _drop_column("messages", "family_root")


def _drop_column(table: str, column: str) -> None:
    """SQLite's own ``DROP COLUMN`` (3.35 or newer, as 0008 needs): batch mode's copy of the
    table drops the old one, which fails once rows of other tables refer to it (foreign keys
    are on), so this downgrade failed on every store with messages in it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
