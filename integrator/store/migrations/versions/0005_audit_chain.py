"""Audit chain: every audit entry carries ``prev_hash`` and ``hash`` (hex SHA-256).

Existing entries are chained here, in id order, so a store from before verifies. The hash
function is frozen below (a copy of ``integrator.store.audit_chain.entry_hash`` as of this
revision): a migration must not change meaning when the code around it does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BATCH = 1000

# The table as this revision knows it.
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("target", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("details", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _entry_hash(prev_hash: str, row: Any) -> str:
    at: datetime = row.at
    # SQLite keeps naive UTC; PostgreSQL returns an aware time.
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    content = json.dumps(
        {
            "seq": row.id,
            "at": at.isoformat(timespec="microseconds"),
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "reason": row.reason,
            "details": row.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))

    conn = op.get_bind()
    prev = GENESIS
    last_id = None
    while True:
        query = (
            sa.select(
                audit_log.c.id,
                audit_log.c.at,
                audit_log.c.actor,
                audit_log.c.action,
                audit_log.c.target,
                audit_log.c.reason,
                audit_log.c.details,
            )
            .order_by(audit_log.c.id)
            .limit(BATCH)
        )
        if last_id is not None:
            query = query.where(audit_log.c.id > last_id)
        rows = conn.execute(query).all()
        if not rows:
            break
        updates = []
        for row in rows:
            digest = _entry_hash(prev, row)
            updates.append({"b_id": row.id, "b_prev": prev, "b_hash": digest})
            prev = digest
        conn.execute(
            sa.update(audit_log)
            .where(audit_log.c.id == sa.bindparam("b_id"))
            .values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")),
            updates,
        )
        last_id = rows[-1].id

    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
