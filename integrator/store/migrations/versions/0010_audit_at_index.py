"""An index on ``audit_log.at``, the time each entry was written.

The daily prune counts the entries past retention (``count_old_audit``: ``WHERE at < cutoff``)
and the audit listings filter by period (``--since``/``--until``); without an index each of
those reads the whole audit trail, which only grows between prunes. Creating it on an existing
store reads the table once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
