"""Console searches without a BSN: ``console_searches.bsn_hash`` may be null.

Every search a console form posts is now kept under a handle, not only one by BSN: a search
without one redirected to its listing with its terms in the address, and free-text terms (the
audit trail's action and target, a provider) put whatever was typed there (a name, a birth
date) into the browser's history and proxy logs. Such a search is kept as a search by BSN is,
its ``bsn_hash`` null: it searched no patient, and its pages record no view.

The downgrade deletes the kept searches without a BSN before the column is made ``NOT NULL``
again: each lasts minutes and holds nothing else; a page of one that is gone says to search
again.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite alters no column in place. Nothing refers to this table, so its copy
    # is safe with foreign keys on.
    with op.batch_alter_table("console_searches") as batch:
        batch.alter_column("bsn_hash", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM console_searches WHERE bsn_hash IS NULL")
    with op.batch_alter_table("console_searches") as batch:
        batch.alter_column("bsn_hash", existing_type=sa.String(64), nullable=False)
