"""The console's answers to form posts, kept for the page a redirect leads to: ``console_answers``.

A console form that is refused (or answers with a page of its own: a resend's preview, a
token shown once) used to answer at the POST's address, so a reload posted the form again and
Back landed on the browser's *Confirm Form Resubmission*. Now the answer is kept here and the
browser redirected to a GET that shows it (``integrator.console.answers``). A row holds the
hash of the handle in that address (never the handle), the page sealed with a key made from
the browser's session (or pre-session) secret, which the store does not hold, whether the
first look takes it (``once``), and when it expires (minutes). Expired rows go whenever the
next answer is kept and with the daily prune. The downgrade drops them: each lasts minutes,
and an address of one that is gone shows the page the form was on.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_answers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("once", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_answers")),
    )
    op.create_index(
        op.f("ix_console_answers_expires_at"), "console_answers", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_answers_expires_at"), table_name="console_answers")
    op.drop_table("console_answers")
