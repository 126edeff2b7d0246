"""The API's idempotency keys: ``idempotency_keys``, one row per caller and key.

A client that repeats a resend or a routing after a timeout sends the same ``Idempotency-Key``
header; the row, keyed by who asked and that key, holds a hash of the first request (route and
body) and, once it is done, its answer (status and JSON body), so the repeat gets that answer
and nothing is done twice. The primary key settles two requests with one key at once: the
second insert finds the first's row. Rows expire (``expires_at``, a day after the request) and
go with the daily prune, as the console's confirmations do. No patient data: the body's hash
only, and the answer of a resend or routing (ids, counts, statuses).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("caller", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
