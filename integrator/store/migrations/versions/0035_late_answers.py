"""Answers that came for a message after its answer, kept with the message.

- ``late_answers``: a row per answer the engine did not take for having come after the answer
  that settled its message (an ``AR`` after the ``AA`` that delivered it): the message, when it
  came, its MSA-1 and how it was met (``skipped`` while the next message waited for its own
  answer, ``dropped`` with the connection at the next send). They were logged and counted
  only, so support looking at a delivered message saw nothing of the hospital's refusal after
  it. The answer's text is not kept.

A new table: no existing row changes, so the upgrade is instant on any store.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "late_answers",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_code", sa.String(8), nullable=False),
        sa.Column("how", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_answers")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_late_answers_message_id_messages")
        ),
        sa.CheckConstraint("how IN ('skipped', 'dropped')", name=op.f("ck_late_answers_how")),
    )
    op.create_index(op.f("ix_late_answers_message_id"), "late_answers", ["message_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_late_answers_message_id"), table_name="late_answers")
    op.drop_table("late_answers")
