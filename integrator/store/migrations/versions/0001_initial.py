"""The initial schema: events, rejected events, messages, attempts and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SOURCES = "source IN ('http', 'cli', 'amqp', 'demo')"
STATUSES = "status IN ('queued', 'sending', 'delivered', 'retrying', 'held', 'dead', 'cancelled')"
OUTCOMES = "outcome IN ('delivered', 'retry', 'deadletter', 'failed')"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("zd_number", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.CheckConstraint(SOURCES, name=op.f("ck_events_source")),
    )
    op.create_index(op.f("ix_events_zd_number"), "events", ["zd_number"])

    op.create_table(
        "rejected_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_events")),
        sa.CheckConstraint(SOURCES, name=op.f("ck_rejected_events_source")),
    )
    op.create_index(op.f("ix_rejected_events_received_at"), "rejected_events", ["received_at"])

    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("destination_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("message_type", sa.String(32), nullable=False),
        sa.Column("control_id", sa.String(20), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("warnings", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("is_test", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_messages_event_id_events")
        ),
        sa.CheckConstraint(STATUSES, name=op.f("ck_messages_status")),
    )
    op.create_index(op.f("uq_messages_seq"), "messages", ["seq"], unique=True)
    op.create_index(op.f("uq_messages_control_id"), "messages", ["control_id"], unique=True)
    op.create_index(op.f("ix_messages_event_id"), "messages", ["event_id"])
    op.create_index(
        op.f("ix_messages_destination_id_status_seq"),
        "messages",
        ["destination_id", "status", "seq"],
    )
    op.create_index(op.f("ix_messages_status_seq"), "messages", ["status", "seq"])
    op.create_index(op.f("ix_messages_created_at"), "messages", ["created_at"])

    op.create_table(
        "attempts",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ack_code", sa.String(8), nullable=True),
        sa.Column("ack_bytes", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attempts_message_id_messages")
        ),
        sa.CheckConstraint(OUTCOMES, name=op.f("ck_attempts_outcome")),
    )
    op.create_index(op.f("ix_attempts_message_id_number"), "attempts", ["message_id", "number"])

    op.create_table(
        "audit_log",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("attempts")
    op.drop_table("messages")
    op.drop_table("rejected_events")
    op.drop_table("events")
