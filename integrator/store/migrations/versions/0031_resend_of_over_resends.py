"""``messages.resend_of`` indexed over resends only: a partial index where it is set.

The index held an entry for every message, nearly all of them ``NULL`` (an original), while
every read of it asks for values (``resend_of = x``, ``resend_of IN (…)``: a resend family's
links, retention's "no resend in delivery", the prune), which a partial index ``WHERE
resend_of IS NOT NULL`` serves (both planners see that those terms imply it).

Why it matters beyond the entries saved on every accepted message: with statistics
(``ANALYZE``, which the engine never runs but SQLite's own advice, ``PRAGMA optimize``, and an
administrator might), SQLite read the old index as one value for nearly every row and planned a
family's ``id IN (…) OR resend_of IN (…)`` as a scan of every message: seconds for every
message listing, the message page and the dead letters on a million messages
(bench/results/at-scale.md). The partial index's statistics describe resends alone.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_resend_of"
A_RESEND = sa.text("resend_of IS NOT NULL")


def upgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
    op.create_index(
        INDEX, "messages", ["resend_of"], sqlite_where=A_RESEND, postgresql_where=A_RESEND
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
    op.create_index(INDEX, "messages", ["resend_of"])
