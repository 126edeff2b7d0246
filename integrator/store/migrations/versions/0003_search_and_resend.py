"""Search and resend: the BSN hash on events, resends as linked message rows.

- ``events.bsn_hash``: HMAC-SHA256 of the patient's BSN, indexed, so a BSN search is an index
  lookup and never a scan of payloads. Events stored before this revision have none.
- ``messages.resend_of``: a resend is a new message row pointing at the one it resends.
- ``uq_messages_control_id`` becomes partial (rows that are not resends): an original-mode
  resend repeats its original's MSH-10 on purpose. A plain index serves control-id searches.
- Indexes for the support searches: destination and version, each with ``seq`` for the
  newest-first order.
- ``resends``: who resent what, when, why, and how (mode).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_A_RESEND = sa.text("resend_of IS NULL")


def upgrade() -> None:
    op.add_column("events", sa.Column("bsn_hash", sa.String(64), nullable=True))
    op.create_index(op.f("ix_events_bsn_hash"), "events", ["bsn_hash"])
    op.add_column("messages", sa.Column("resend_of", sa.String(36), nullable=True))
    op.drop_index(op.f("uq_messages_control_id"), table_name="messages")
    op.create_index(
        op.f("uq_messages_control_id"),
        "messages",
        ["control_id"],
        unique=True,
        sqlite_where=NOT_A_RESEND,
        postgresql_where=NOT_A_RESEND,
    )
    op.create_index(op.f("ix_messages_control_id"), "messages", ["control_id"])
    op.create_index(op.f("ix_messages_resend_of"), "messages", ["resend_of"])
    op.create_index(op.f("ix_messages_destination_id_seq"), "messages", ["destination_id", "seq"])
    op.create_index(op.f("ix_messages_version_seq"), "messages", ["version", "seq"])
    op.create_table(
        "resends",
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("original_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_resends")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_resends_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["messages.id"], name=op.f("fk_resends_original_id_messages")
        ),
        sa.CheckConstraint("mode IN ('original', 'remap')", name=op.f("ck_resends_mode")),
    )
    op.create_index(op.f("ix_resends_original_id"), "resends", ["original_id"])


def downgrade() -> None:
    _refuse_resends()
    op.drop_index(op.f("ix_resends_original_id"), table_name="resends")
    op.drop_table("resends")
    op.drop_index(op.f("ix_messages_version_seq"), table_name="messages")
    op.drop_index(op.f("ix_messages_destination_id_seq"), table_name="messages")
    op.drop_index(op.f("ix_messages_resend_of"), table_name="messages")
    op.drop_index(op.f("ix_messages_control_id"), table_name="messages")
    op.drop_index(op.f("uq_messages_control_id"), table_name="messages")
    op.create_index(op.f("uq_messages_control_id"), "messages", ["control_id"], unique=True)
    _drop_column("messages", "resend_of")
    op.drop_index(op.f("ix_events_bsn_hash"), table_name="events")
    _drop_column("events", "bsn_hash")


def _drop_column(table: str, column: str) -> None:
    """SQLite's own ``DROP COLUMN`` (3.35 or newer, as 0008 needs): batch mode's copy of the
    table drops the old one, which fails once rows of other tables refer to it (foreign keys
    are on), so this downgrade failed on every store with messages in it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def _refuse_resends() -> None:
    """Refuse to go below 0003 while the store holds resends: 0002 has no place for them, and
    a resend in original mode repeats its original's control id (MSH-10), which 0002 holds
    unique. Deleting them would lose messages and their delivery history, so the operator
    decides (docs/operators.md, "Migrations going down"), not this step."""
    resends = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM resends")).scalar_one()
    if resends:
        raise RuntimeError(
            f"migration 0003 cannot be undone: the store holds {resends} resend(s), which the "
            "schema before it has no place for (and a resend in original mode repeats its "
            "original's control id, which that schema holds unique); nothing was changed by "
            "this step. To go back to a release before 0003, restore the backup made before "
            "the upgrade (docs/deploy.md, Going back)"
        )
