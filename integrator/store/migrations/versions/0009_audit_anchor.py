"""Audit retention: ``audit_anchor``, where the hash chain starts after pruning.

The audit trail gets a retention period (``INTEGRATOR_RETAIN_AUDIT_DAYS``). Pruning deletes the
oldest entries; the first entry kept still carries the hash of the last one deleted as its
``prev_hash``. This table keeps that entry's id (``seq``) and hash, and when it was pruned, so
``verify`` starts the chain there instead of at the genesis hash. One row at most (``id = 1``),
written in the same transaction as each batch of deletions. A store without the row has never
been pruned: its chain starts at the genesis hash, as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("pruned_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_anchor_one_row")),
    )


def downgrade() -> None:
    # A pruned chain no longer verifies from the genesis hash once the anchor is gone.
    op.drop_table("audit_anchor")
