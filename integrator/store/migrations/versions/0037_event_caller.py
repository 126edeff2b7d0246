"""Who sent an accepted event: ``events.caller``.

Rejected input has said who sent it since 0020; an accepted event did not. When an intake
token leaks, or an upstream system sends what it should not, the administrator must find
every event that token brought in, and support must know which system to call about a
referral that did arrive. The caller is what intake knew for certain, as for rejected input:
the authenticated token as the audit log names it (``token:<name>``: a name is never given
twice, a revoked token keeps it), the server's CLI's operating-system user
(``local:<user>``), ``amqp`` for RabbitMQ (the broker gives no sender the engine can trust),
``demo`` for the demo. Never a name the event gave for itself.

Events accepted before this revision have none (NULL, shown as ``-``). Not indexed: the search
by caller is an incident's, bounded by a period (``received_at`` is indexed), and an index
would cost every accepted event a write for it. No patient data. A plain nullable
``ADD COLUMN`` on both backends.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("caller", sa.String(128), nullable=True))


def downgrade() -> None:
    # As 0030's: batch mode would copy ``events`` and drop it under the messages' foreign key.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE events DROP COLUMN caller")
    else:
        op.drop_column("events", "caller")
