"""API tokens record the person who made them: ``api_tokens.maker_person_id``.

A machine's token made in a person's console session may hold a role that reads patient data
(``resend``) only where that person holds it. That was checked when the token was made; from
this revision on it is checked at every use, so a person who loses ``resend`` (a grant taken
away, the account deactivated) no longer reads patient data through a token they made earlier
(docs/access.md, "Who may make one"). A token made on the server's command line is not bound
(its maker can read the database anyway), and a token made by a token is bound along its maker
chain (``maker_token_id``, 0016); both keep a null here.

Existing rows. Until now a token made in a session recorded its maker only as the audit name
``created_by = 'person:<email>'``. Addresses are unique, lower-cased and never reused (an
account is never deleted, and a deactivated address cannot be invited again), so the column is
filled from it exactly: the person whose ``'person:' || email`` is ``created_by``, for tokens
not made by a token. From then on those tokens are bound like new ones: one whose maker no
longer holds ``resend`` where the token holds it keeps its other roles and loses that one at its
next use, which is the rule as it was always documented. A row naming a person that does not
exist (only a hand-edited store has one) cannot be bound to anybody; it is treated as a maker
who holds nothing: its ``resend`` grants are switched off (``grants.active``), its other roles
stay. No patient data, no secret.

SQLite adds the column with its reference in one plain ``ALTER TABLE`` (as 0016 does: the table
cannot be rebuilt while ``grants`` refers to it); PostgreSQL adds the column, then its key.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_api_tokens_maker_person_id_people"
INDEX = "ix_api_tokens_maker_person_id"
PATIENT_DATA_ROLES = ("resend",)
"""The roles that read patient data at this revision (the matrix may grow; this may not)."""

_people = sa.table("people", sa.column("id", sa.String), sa.column("email", sa.String))
_tokens = sa.table(
    "api_tokens",
    sa.column("id", sa.String),
    sa.column("created_by", sa.String),
    sa.column("maker_token_id", sa.String),
    sa.column("maker_person_id", sa.String),
)
_grants = sa.table(
    "grants",
    sa.column("token_id", sa.String),
    sa.column("role", sa.String),
    sa.column("active", sa.Boolean),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE api_tokens ADD COLUMN maker_person_id VARCHAR(36) "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES people (id)"
        )
    else:
        op.add_column("api_tokens", sa.Column("maker_person_id", sa.String(36), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "api_tokens", "people", ["maker_person_id"], ["id"])
    op.create_index(INDEX, "api_tokens", ["maker_person_id"], unique=False)

    made_in_session = sa.and_(
        _tokens.c.maker_token_id.is_(None), _tokens.c.created_by.like("person:%")
    )
    maker = (
        sa.select(_people.c.id)
        .where(sa.literal("person:", sa.String) + _people.c.email == _tokens.c.created_by)
        .scalar_subquery()
    )
    op.execute(sa.update(_tokens).where(made_in_session).values(maker_person_id=maker))
    unbound = sa.select(_tokens.c.id).where(made_in_session, _tokens.c.maker_person_id.is_(None))
    op.execute(
        sa.update(_grants)
        .where(_grants.c.token_id.in_(unbound), _grants.c.role.in_(PATIENT_DATA_ROLES))
        .values(active=False)
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="api_tokens")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE api_tokens DROP COLUMN maker_person_id")
    else:
        op.drop_constraint(FOREIGN_KEY, "api_tokens", type_="foreignkey")
        op.drop_column("api_tokens", "maker_person_id")
