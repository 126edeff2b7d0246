"""Whose session kept a console answer: ``console_answers.owner``, so signing out drops them.

A kept answer (``integrator.console.answers``) is sealed with a key made from the browser's
session secret, so once the session ends nobody can open it; but the row stayed until it
expired, minutes later, and some hold patient data (a resend's preview) or a secret shown once.
``owner`` is a keyed hash of the session secret (an HMAC with a purpose of its own: not the
session's hash the ``sessions`` table keys on, so the two tables cannot be joined), null for an
answer kept before sign-in. Signing out, and signing in again over a session, delete the
session's answers at once. No patient data: a hash.

The downgrade drops the column; rows kept meanwhile last their minutes as before.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("console_answers", sa.Column("owner", sa.String(64), nullable=True))
    op.create_index(op.f("ix_console_answers_owner"), "console_answers", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_console_answers_owner"), table_name="console_answers")
    if op.get_bind().dialect.name == "sqlite":  # as 0024's downgrade: batch mode would fail
        op.execute("ALTER TABLE console_answers DROP COLUMN owner")
    else:
        op.drop_column("console_answers", "owner")
