"""Console searches: a search by BSN kept on the server for a short while, for its pages.

- ``console_searches``: one row per search by BSN a person made in the console (messages,
  events, rejected input): the hash of the random handle its pages' addresses carry (never the
  handle), the person who made it (another person's handle finds nothing), what it searched
  (``kind``), its identifier terms (JSON: ZD number, destination, period…; no patient data)
  and the BSN as its keyed hash only (``bsn_hash``, as events and audit entries keep it),
  when it was made and when it expires (minutes later). Rows are deleted after they expire.

In the store, not in an engine's memory: several engines may serve the console behind a load
balancer, and a page of the search may reach another one than the search did.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_searches",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("bsn_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_searches")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_console_searches_person_id_people"),
        ),
    )
    op.create_index(
        op.f("ix_console_searches_expires_at"), "console_searches", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_searches_expires_at"), table_name="console_searches")
    op.drop_table("console_searches")
