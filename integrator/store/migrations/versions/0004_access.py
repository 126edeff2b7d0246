"""Access control: people, grants, API tokens, invitations, recovery codes, console sessions.

- ``people``: one row per person, e-mail lower-cased and unique; Argon2id password hash; the
  TOTP secret and the last TOTP step used (so a code is never accepted twice); failed logins
  and the lock they lead to.
- ``grants``: a role for one cluster (or all, ``cluster`` NULL), held by a person or a token.
- ``api_tokens``, ``invitations``, ``sessions``, ``recovery_codes``: secrets stored only as
  SHA-256 hashes, each with its own life (expiry, use, revocation).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("deactivated_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.CheckConstraint(
            "status IN ('invited', 'active', 'deactivated')", name=op.f("ck_people_status")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_people_email_lower")),
    )
    op.create_index(op.f("ix_people_email"), "people", ["email"], unique=True)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("last_used_at", TIME, nullable=True),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_api_tokens_owner_id_people")
        ),
    )
    op.create_index(op.f("ix_api_tokens_token_hash"), "api_tokens", ["token_hash"], unique=True)
    op.create_index(op.f("ix_api_tokens_name"), "api_tokens", ["name"], unique=True)
    op.create_index(op.f("ix_api_tokens_owner_id"), "api_tokens", ["owner_id"])

    op.create_table(
        "grants",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("token_id", sa.String(36), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_grants_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_grants_token_id_api_tokens")
        ),
        sa.CheckConstraint(
            "(person_id IS NULL) <> (token_id IS NULL)", name=op.f("ck_grants_one_holder")
        ),
    )
    op.create_index(op.f("ix_grants_person_id"), "grants", ["person_id"])
    op.create_index(op.f("ix_grants_token_id"), "grants", ["token_id"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_invitations_person_id_people")
        ),
    )
    op.create_index(op.f("ix_invitations_token_hash"), "invitations", ["token_hash"], unique=True)
    op.create_index(op.f("ix_invitations_person_id"), "invitations", ["person_id"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_recovery_codes_person_id_people")
        ),
    )
    op.create_index(
        op.f("ix_recovery_codes_person_id_code_hash"), "recovery_codes", ["person_id", "code_hash"]
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("two_factor", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_sessions_person_id_people")
        ),
    )
    op.create_index(op.f("ix_sessions_person_id"), "sessions", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_person_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_recovery_codes_person_id_code_hash"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_invitations_person_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_token_hash"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_grants_token_id"), table_name="grants")
    op.drop_index(op.f("ix_grants_person_id"), table_name="grants")
    op.drop_table("grants")
    op.drop_index(op.f("ix_api_tokens_owner_id"), table_name="api_tokens")
    op.drop_index(op.f("ix_api_tokens_name"), table_name="api_tokens")
    op.drop_index(op.f("ix_api_tokens_token_hash"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_people_email"), table_name="people")
    op.drop_table("people")
