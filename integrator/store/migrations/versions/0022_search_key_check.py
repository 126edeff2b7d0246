"""The search key's check value: ``search_key_check``, one row at most.

BSNs are stored as a keyed hash (``INTEGRATOR_SEARCH_KEY``); an engine or command with another
key took events the right key can never find, or found nothing, and said nothing. The row
holds HMAC-SHA256 under the key of a fixed label (``integrator.store.searchcheck``), written by
the first writer to open the store with a key; every open with a key compares. Not the key, and
no BSN's hash. A store from before this revision has no row: its next writer registers its key.

A table of its own, not an audit entry as the data keys' checks are: one row with a primary key
settles two first writers at once (the second insert does nothing, and compares), needs no
carrying over when retention prunes the audit trail, and leaves audit listings as they were.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "search_key_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("registered_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_key_check")),
        sa.CheckConstraint("id = 1", name=op.f("ck_search_key_check_one_row")),
    )


def downgrade() -> None:
    op.drop_table("search_key_check")
