"""Console confirmations: one-time tokens of the console's confirm forms, and what they did.

- ``console_confirmations``: one row per confirm form the console showed (a resend's
  confirmation, a dead-letter discard's): the hash of the token the form carries (never the
  token), the person it was shown to, what it confirms (``action``), when it was made and when
  it expires; once posted, when, by whom (``actor``) and, when done, the result (JSON: per
  message its outcome, the new message's id and a note; identifiers, no patient data). The
  row is claimed with one conditional UPDATE, so the same form posted twice (a reload, Back
  and submit, two tabs, a double click), on any engine behind a load balancer, acts once.
  Rows are deleted after they expire.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_confirmations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("finished_at", TIME, nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_confirmations")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_console_confirmations_person_id_people"),
        ),
    )
    op.create_index(
        op.f("ix_console_confirmations_token_hash"),
        "console_confirmations",
        ["token_hash"],
        unique=True,
    )
    op.create_index(
        op.f("ix_console_confirmations_expires_at"),
        "console_confirmations",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_confirmations_expires_at"), table_name="console_confirmations")
    op.drop_index(op.f("ix_console_confirmations_token_hash"), table_name="console_confirmations")
    op.drop_table("console_confirmations")
