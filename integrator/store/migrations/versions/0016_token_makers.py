"""API tokens record the token that made them: ``api_tokens.maker_token_id``.

A token with ``tokens.manage`` can make tokens through the HTTP API. Such a token depends on
its maker: it works only while the maker does (not revoked, not expired, transitively), and it
expires no later than the maker. So a leaked token cannot mint successors that outlive its
revocation (docs/access.md, "Not with a token"). Null for every token made by a person or on
the server's command line, and for every token from before this revision (none of those was
tied to a maker, so none is stopped by this migration). No patient data, no secret.

PostgreSQL adds the column and its foreign key as two statements. SQLite cannot add a
constraint to a table, and rebuilding ``api_tokens`` (Alembic's batch mode) is refused while
``grants`` holds rows that refer to it (the store runs with foreign keys on, see 0008); but
``ALTER TABLE … ADD COLUMN … REFERENCES`` with a null default is allowed, so the column is
added with its reference in one plain statement.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_api_tokens_maker_token_id_api_tokens"
INDEX = "ix_api_tokens_maker_token_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE api_tokens ADD COLUMN maker_token_id VARCHAR(36) "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES api_tokens (id)"
        )
    else:
        op.add_column("api_tokens", sa.Column("maker_token_id", sa.String(36), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "api_tokens", "api_tokens", ["maker_token_id"], ["id"])
    op.create_index(INDEX, "api_tokens", ["maker_token_id"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="api_tokens")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE api_tokens DROP COLUMN maker_token_id")
    else:
        op.drop_constraint(FOREIGN_KEY, "api_tokens", type_="foreignkey")
        op.drop_column("api_tokens", "maker_token_id")
