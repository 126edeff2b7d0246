"""A SQLAlchemy select compiled once and run on the hot paths' own driver connection.

Every request to the API reads its bearer token (``Store.get_token`` by its hash) and the
token's grants. Through SQLAlchemy on SQLite that was a pooled connection checked out and given
back (a rollback) and two statements, each several hand-overs to aiosqlite's thread and back:
about 1.5 ms of CPU a request, three times what accepting the event it carried cost
(bench/results/perf.md, twelfth session). Compiled once here and run on a reading thread with a
connection of its own (SQLite, a ``SqliteWriter`` that only reads, beside the writer) or on
one of the connections kept for reading (PostgreSQL, ``pg_hot_writes.READERS``), the token
and its grants are one statement (an outer join), one hand-over or one round trip, and the rows
come back through the very result processors SQLAlchemy applies (``UTCDateTime``: aware UTC;
``Boolean``), so they are the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from integrator.store.compiled_cache import made_once
from integrator.store.tables import api_tokens, grants

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """SQL text in the driver's positional paramstyle, the names of its parameters in order, and
    the columns it returns with the processor each value goes through."""

    sql: str
    parameters: tuple[str, ...]
    columns: tuple[str, ...]
    processors: tuple[tuple[int, Processor], ...]

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.parameters)

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The driver's rows as dicts of the columns' values, as SQLAlchemy would give them."""
        made = []
        for row in fetched:
            values = list(row)
            for index, processor in self.processors:
                values[index] = processor(values[index])
            made.append(dict(zip(self.columns, values, strict=True)))
        return made


def compile_read(statement: Select[Any], dialect: Dialect) -> CompiledRead:
    """``statement`` for ``dialect``; its parameters are ``bindparam``s given by name at each
    run (their values pass no bind processor: strings and ids only)."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"{dialect.name}: a positional paramstyle is needed")
    columns = tuple(str(column.key) for column in statement.selected_columns)
    processors = []
    for index, column in enumerate(statement.selected_columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            processors.append((index, processor))
    return CompiledRead(compiled.string, tuple(names), columns, tuple(processors))


TOKEN_AND_GRANTS: Final = (
    select(
        api_tokens,
        grants.c.role.label("grant_role"),
        grants.c.cluster.label("grant_cluster"),
        grants.c.active.label("grant_active"),
    )
    .select_from(api_tokens.outerjoin(grants, grants.c.token_id == api_tokens.c.id))
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
    .order_by(grants.c.id)
)
"""A token by the hash of its secret (unique), what every API request is authenticated by, with
its grants in the order ``PeopleMixin`` lists them: a row per grant, or one row with no grant.
One statement: on PostgreSQL one round trip where a token and then its grants took two."""

TokenRows = tuple[list[dict[str, Any]], list[dict[str, Any]]]
"""The token's row (none or one) and its grants' rows (``role``, ``cluster``, ``active``)."""

GRANT_KEYS: Final = ("role", "cluster", "active")
"""The keys of a grant's row, in the order ``TOKEN_AND_GRANTS`` selects them, last."""


@dataclass(frozen=True, slots=True)
class TokenReads:
    """``TOKEN_AND_GRANTS`` compiled for one dialect. The token's columns go through their
    result processors once, from the first row, a grant's on every row: the join repeats the
    token on each, and its four times on every row made a token of eight grants dearer to read
    on SQLite than the two statements had been."""

    token: CompiledRead

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> TokenReads:
        """Compiled once per process for dialects alike (``compiled_cache.made_once``)."""
        return made_once(
            dialect, TOKEN_AND_GRANTS, lambda: cls(compile_read(TOKEN_AND_GRANTS, dialect))
        )

    def args(self, token_hash: str) -> tuple[Any, ...]:
        return self.token.args({"token_hash": token_hash})

    def split(self, fetched: Sequence[Sequence[Any]]) -> TokenRows:
        """The joined rows as the token's row and its grants' rows."""
        if not fetched:
            return [], []
        first = len(self.token.columns) - len(GRANT_KEYS)  # where the grant's columns begin
        values = list(fetched[0][:first])
        grant_processors = []
        for index, processor in self.token.processors:
            if index < first:
                values[index] = processor(values[index])
            else:
                grant_processors.append((index - first, processor))
        token = dict(zip(self.token.columns[:first], values, strict=True))
        held = []
        for row in fetched:
            grant = list(row[first:])
            if grant[0] is None:  # the outer join's one row of a token without grants
                continue
            for index, processor in grant_processors:
                grant[index] = processor(grant[index])
            held.append(dict(zip(GRANT_KEYS, grant, strict=True)))
        return [token], held
