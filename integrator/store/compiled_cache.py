"""One cache of compiled statements for every store a process opens.

SQLAlchemy keeps the SQL it compiles in a cache of each engine's own, keyed by the dialect
object itself, so each new engine compiles every statement again (0.7 ms each on average; a
store's opening and an engine's first requests take some forty). A server opens one store and
does not notice; a process that opens many does: the test suite opens thousands of stores per
process, and recompiling was a sixth of its test processes' CPU
(bench/results/perf.md, "Thirty-sixth session").

This cache stands in for the key's dialect object with what its compiling depends on: its class
and its settings, every attribute holding a plain value (the server's version, the paramstyle,
the default schema, the label length, ...). Two dialects alike in all of them write every
statement alike, so a statement is compiled once per process for each kind of store, and a
server of another version, or a store in another schema, gets its own entries.

The settings are read at a dialect's first statement through this cache, which comes after
SQLAlchemy has read the server's (the engine's first connection runs ``initialize`` with the
engine's own cache and makes the other connections wait for it).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.util import LRUCache

CAPACITY = 1_000
"""Statements kept (SQLAlchemy's own per-engine cache keeps 500): the store has a few hundred,
for SQLite and PostgreSQL apart; a statement that falls out is compiled again when next used."""

_PLAIN = (bool, int, float, str, bytes, tuple, frozenset, type(None), types.FunctionType)
"""Values that are settings; objects (the identifier preparer, the driver's adapter, the type
memo) are the dialect's own instances, made from those settings, and differ between any two."""


def dialect_settings(dialect: Dialect) -> tuple[Any, ...]:
    """What compiling a statement for ``dialect`` depends on, comparable between dialects."""
    plain = tuple(
        sorted((name, value) for name, value in vars(dialect).items() if _is_plain(value))
    )
    return (type(dialect), plain)


def _is_plain(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_is_plain(item) for item in value)
    return isinstance(value, _PLAIN)


class ProcessCompiledCache:
    """SQLAlchemy's ``compiled_cache`` execution option, shared by the process's engines.

    SQLAlchemy's key is ``(dialect, statement key, column keys, ...)``, and it only ever
    calls ``get`` and sets an item; here the key's first item becomes :func:`dialect_settings`
    of that dialect, read once per dialect."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._compiled: LRUCache[tuple[Any, ...], Compiled] = LRUCache(capacity)
        self._settings: WeakKeyDictionary[Dialect, tuple[Any, ...]] = WeakKeyDictionary()

    def _key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        dialect = key[0]
        settings = self._settings.get(dialect)
        if settings is None:
            settings = self._settings[dialect] = dialect_settings(dialect)
        return (settings, *key[1:])

    def get(self, key: tuple[Any, ...], default: Compiled | None = None) -> Compiled | None:
        return self._compiled.get(self._key(key), default)

    def __setitem__(self, key: tuple[Any, ...], value: Compiled) -> None:
        self._compiled[self._key(key)] = value

    def __len__(self) -> int:
        return len(self._compiled)


COMPILED = ProcessCompiledCache()
"""The process's one cache, given to every engine ``integrator.store.engine`` creates."""


T = TypeVar("T")

_MADE: LRUCache[tuple[Any, ...], tuple[object, Any]] = LRUCache(256)
"""What ``made_once`` made, by (dialect settings, statement id, key)."""


def made_once(dialect: Dialect, statement: object, make: Callable[[], T], *key: Hashable) -> T:
    """``make()``, what a hot path compiles of ``statement`` for ``dialect`` outside
    SQLAlchemy's cache (``hot_reads``, ``prepared``), once per process for dialects alike and
    the same ``key`` (an INSERT's row keys, say): each store compiled its own again when it
    opened, about 2 ms for the token read and 2.4 ms for the SQLite hot writes' four.

    ``statement`` is matched by identity and held beside what was made of it, so its ``id``
    names no other object while the entry stands; the hot paths' statements are module
    constants, a handful of entries per kind of store, and the bound keeps statements made
    elsewhere from piling up.
    """
    shared = (dialect_settings(dialect), id(statement), *key)
    kept = _MADE.get(shared)
    if kept is None or kept[0] is not statement:
        kept = _MADE[shared] = (statement, make())
    return cast(T, kept[1])
