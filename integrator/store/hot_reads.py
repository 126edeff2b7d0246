"""A SQLAlchemy select compiled once and run on the hot paths' own driver connection.

Every request to the API reads its bearer token (``Store.get_token`` by its hash) and the
token's grants. Through SQLAlchemy on SQLite that was a pooled connection checked out and given
back (a rollback) and two statements, each several hand-overs to aiosqlite's thread and back:
about 1.5 ms of CPU a request, three times what accepting the event it carried cost
(bench/results/perf.md, twelfth session). Compiled once here and run on a reading thread with a
connection of its own (SQLite, a ``SqliteWriter`` that only reads, beside the writer) or on
one of the connections kept for reading (PostgreSQL, ``pg_hot_writes.READERS``), both
statements take one hand-over or two round trips, and the rows come back through the very
result processors SQLAlchemy applies (``UTCDateTime``: aware UTC; ``Boolean``), so they are the
same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

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


TOKEN_BY_HASH: Final = select(api_tokens).where(api_tokens.c.token_hash == bindparam("token_hash"))
"""A token by the hash of its secret (unique): what every API request is authenticated by."""
GRANTS_OF_TOKEN: Final = (
    select(grants.c.token_id, grants.c.role, grants.c.cluster, grants.c.active)
    .where(grants.c.token_id == bindparam("token_id"))
    .order_by(grants.c.id)
)
"""Its grants, in the order ``PeopleMixin`` lists them."""

TokenRows = tuple[list[dict[str, Any]], list[dict[str, Any]]]
"""The token's row (none or one) and its grants' rows."""


@dataclass(frozen=True, slots=True)
class TokenReads:
    """``TOKEN_BY_HASH`` and ``GRANTS_OF_TOKEN`` compiled for one dialect."""

    token: CompiledRead
    grants: CompiledRead

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> TokenReads:
        return cls(compile_read(TOKEN_BY_HASH, dialect), compile_read(GRANTS_OF_TOKEN, dialect))
