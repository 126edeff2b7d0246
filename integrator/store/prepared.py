"""A SQLAlchemy statement compiled once, then fed to the driver directly.

The hot write paths run the same few statements thousands of times a second. Through
``Connection.execute`` every call pays SQLAlchemy's cache-key lookup, parameter construction and
result set-up, per statement and (for executemany) per row. Here the statement is compiled once
for the store's dialect; each row then only becomes the driver's positional tuple, through the
very bind processors SQLAlchemy would apply (``UTCDateTime``, ``Boolean``, ``LargeBinary``), so
the stored values are the same as before; ``UTCDateTime`` on SQLite through one function of its
own that gives the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from integrator.store.coltypes import UTCDateTime

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """SQL text in the driver's paramstyle and how to turn a row into its arguments."""

    sql: str
    keys: tuple[str, ...]
    """The row keys, in placeholder order (bound literals left out)."""
    processors: tuple[tuple[int, Processor], ...]
    """(index into ``keys``, bind processor) for the keys whose type converts values."""
    constants: tuple[tuple[int, Any], ...]
    """(placeholder index, value): literals the statement binds itself, such as the 0 and 1 of
    ``coalesce(max(seq), 0) + 1``, in ascending order."""

    def args(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = [row[key] for key in self.keys]
        for index, processor in self.processors:
            value = values[index]
            if value is not None:  # every processor here maps None to None
                values[index] = processor(value)
        for position, constant in self.constants:
            values.insert(position, constant)
        return tuple(values)

    def all_args(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """``args`` of every row, for executemany."""
        args = self.args
        return [args(row) for row in rows]


def prepare(statement: ClauseElement, dialect: Dialect, keys: Sequence[str] = ()) -> Prepared:
    """Compile ``statement`` for ``dialect``; ``keys``: the columns an INSERT's rows carry.

    Only positional paramstyles (SQLite's ``?``, asyncpg's ``$n``) are supported.
    """
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"{dialect.name}: a positional paramstyle is needed")
    row_keys: list[str] = []
    processors: list[tuple[int, Processor]] = []
    constants: list[tuple[int, Any]] = []
    for position, name in enumerate(names):
        bind = compiled.binds[name]
        processor = _bind_processor(bind.type, dialect)
        if bind.required or name in keys:
            if processor is not None:
                processors.append((len(row_keys), _last_one_kept(processor)))
            row_keys.append(name)
        else:
            value = bind.value
            constants.append((position, value if processor is None else processor(value)))
    return Prepared(compiled.string, tuple(row_keys), tuple(processors), tuple(constants))


def _bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    if isinstance(type_, UTCDateTime):
        direct = type_.direct_bind_processor(dialect)
        if direct is not None:
            return direct
    processor: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _last_one_kept(processor: Processor) -> Processor:
    """``processor`` remembering its last input and output: the rows of a batch share their
    timestamps (one ``now`` per transaction), and formatting a datetime is the dearest step.
    Keyed by identity, so only the very same (immutable) object is answered from memory."""
    # One tuple, replaced whole: its input is held, so its id cannot be reused meanwhile.
    last: tuple[Any, Any] = (object(), None)

    def process(value: Any) -> Any:
        nonlocal last
        seen, out = last
        if value is seen:
            return out
        out = processor(value)
        last = (value, out)
        return out

    return process
