"""Translate database exceptions into the store's own, without their text.

Driver errors are unsafe to show: SQLAlchemy quotes SQL parameters and PostgreSQL adds details
such as "Failing row contains (…)" — message content and patient data. So the store raises a fresh
exception that names the operation, the error class, SQLSTATE and constraint only, and raises it
*outside* the ``except`` block so the original is neither chained nor kept as ``__context__``
(where traceback logging would print it anyway).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from integrator.store.errors import Conflict, StoreError, StoreUnavailable

# SQLSTATE classes and codes that mean "try again later".
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40")  # connection, resources, shutdown, tx
_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL")
P = ParamSpec("P")
R = TypeVar("R")

_SQLITE_NAMED_COLUMNS = re.compile(r"^(UNIQUE|PRIMARY KEY) constraint failed: ([\w., ]+)$")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What can safely be said about a database error."""

    kind: str  # "unique", "foreign_key", "transient" or "other"
    code: str | None  # SQLSTATE or SQLite error name
    constraint: str | None  # constraint name (PostgreSQL) or "table.column" (SQLite)
    error_class: str

    def describe(self) -> str:
        parts = [self.error_class]
        if self.code:
            parts.append(self.code)
        if self.constraint:
            parts.append(f"constraint {self.constraint}")
        return ", ".join(parts)


def diagnose(error: BaseException) -> Diagnosis:
    """Classify a SQLAlchemy or driver error from its codes, never from message text with values."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    driver = getattr(orig, "driver_exception", None) or orig
    sqlstate: str | None = getattr(orig, "sqlstate", None) or getattr(driver, "sqlstate", None)
    sqlite_name: str | None = getattr(orig, "sqlite_errorname", None)
    error_class = type(driver).__name__
    if sqlstate is not None:
        constraint = getattr(driver, "constraint_name", None)
        if sqlstate == "23505":
            return Diagnosis("unique", sqlstate, constraint, error_class)
        if sqlstate == "23503":
            return Diagnosis("foreign_key", sqlstate, constraint, error_class)
        if sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
            return Diagnosis("transient", sqlstate, constraint, error_class)
        return Diagnosis("other", sqlstate, constraint, error_class)
    if sqlite_name is not None:
        if sqlite_name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
            # SQLite's text here holds table and column names only, never values.
            match = _SQLITE_NAMED_COLUMNS.match(str(orig))
            return Diagnosis("unique", sqlite_name, match.group(2) if match else None, error_class)
        if sqlite_name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return Diagnosis("foreign_key", sqlite_name, None, error_class)
        if sqlite_name.startswith(_SQLITE_TRANSIENT):
            return Diagnosis("transient", sqlite_name, None, error_class)
        return Diagnosis("other", sqlite_name, None, error_class)
    transient = isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | OSError)
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        transient = True
    return Diagnosis("transient" if transient else "other", None, None, error_class)


def translate(operation: str, error: BaseException) -> StoreError:
    """The store exception for ``error``, with a message safe for logs."""
    diagnosis = diagnose(error)
    text = f"{operation} failed ({diagnosis.describe()})"
    if diagnosis.kind == "unique":
        return Conflict(
            f"{operation}: a unique value is already taken ({diagnosis.describe()})",
            constraint=diagnosis.constraint,
        )
    if diagnosis.kind == "transient":
        return StoreUnavailable(text)
    return StoreError(text)


def guarded(
    operation: str, *, on_foreign_key: Callable[[], StoreError] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Decorate a store method so database failures leave it as safe store errors.

    A decorator rather than a context manager on purpose: an exception raised from a context
    manager's exit gets the original error as ``__context__``; raised here, after the ``except``
    block has ended, it has none. ``on_foreign_key`` gives a foreign-key violation the caller's
    meaning (e.g. "no such message").
    """

    def decorate(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(method)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            failure: StoreError
            try:
                return await method(*args, **kwargs)
            except (sa_exc.SQLAlchemyError, OSError) as error:
                if on_foreign_key is not None and diagnose(error).kind == "foreign_key":
                    failure = on_foreign_key()
                else:
                    failure = translate(operation, error)
            raise failure

        return run

    return decorate
