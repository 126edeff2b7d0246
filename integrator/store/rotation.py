"""Moving every sealed column to the current data key: ``integrator keys rotate``.

Each column that may hold patient data, and the people's TOTP secrets, is walked in primary-key
order, ``batch`` values per step, taking only values not yet sealed with the current key (plain
ones included, so rotating also seals a store written before it had a key). Each step opens the
values with whatever key sealed them, seals them with the current key, and writes them back in
ONE transaction, each row only if its value is still the one read (compare-and-set: a value
changed meanwhile, say a held message released, is left to the next run). Stopped halfway, a run
resumes where it was, since what is done no longer matches. Asked to stop (``stop``: the
command's signals), a run ends after the batch under way and audits ``phase: stopped`` with
what it did, so the trail does not end on a ``start`` that never finished.

When nothing is left under another key, the other registered keys are marked retired
(``integrator.store.keycheck``): from then on the store opens without them. Not while a running
engine still seals with another key (``holders``, asked just before retiring, in the retiring
transaction, under the turn engines register by: ``presence_turn``): the check of the engines at
the start of the command does not cover one started during the run, and retiring a key that
still seals new values would make the store refuse those values' key at the next open while
they are there. An engine that registers after the retirement is refused by its registration.

A payload emptied by retention (``pruned_at`` set, the value ``PRUNED_MESSAGE_PAYLOAD`` or
``PRUNED_EVENT_PAYLOAD``) is left as it is, plain: it holds nothing to seal. See
``SealedColumn.pruned``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Table,
    Text,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store import keycheck, searchcheck
from integrator.store.audit_chain import append_audit
from integrator.store.codec import attempt_identity, dump_json
from integrator.store.errors import DataKeyError
from integrator.store.failures import guarded
from integrator.store.old_pages import without_old_pages
from integrator.store.presence import presence_turn
from integrator.store.retention import PRUNED_EVENT_PAYLOAD, PRUNED_MESSAGE_PAYLOAD
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import (
    attempts,
    console_searches,
    events,
    messages,
    people,
    rejected_events,
)


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """A column whose values are sealed, and how a row's identity for sealing is made.

    ``pruned``: the value retention writes in this column when it empties a row (the row's
    ``pruned_at`` set); such a row is not one to seal. Retention writes that one constant
    value, plain, in every store, keyed or not, rather than sealing it:

    - it holds nothing: every reader opens a plain value as itself, so an emptied payload
      reads the same under any key, or none, and a pruned message is told by ``pruned_at``
      alone, never by looking inside its payload;
    - pruning stays one set-based UPDATE (a sealed value is bound to its row's id, so a sealed
      empty payload would be a different value for each row, sealed one by one);
    - a sealed empty value would be one more value under the current key: every later
      rotation would rewrite it, and keep the old key from retirement until it had.

    So rotation, and its dry run, leave exactly that value in a pruned row alone. An emptied
    payload sealed by an older version's rotation is an ordinary sealed value: it is resealed.
    """

    table: Table
    column: str
    binary: bool
    identity: Callable[[Any], str]
    pruned: bytes | str | None = None

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(events, "payload", False, lambda row: str(row.id), PRUNED_EVENT_PAYLOAD),
    SealedColumn(messages, "payload", True, lambda row: str(row.id), PRUNED_MESSAGE_PAYLOAD),
    SealedColumn(messages, "last_error", False, lambda row: str(row.id)),
    SealedColumn(rejected_events, "raw", True, lambda row: str(row.id)),
    SealedColumn(
        attempts, "ack_bytes", True, lambda row: attempt_identity(row.message_id, row.number)
    ),
    SealedColumn(
        attempts, "error", False, lambda row: attempt_identity(row.message_id, row.number)
    ),
    SealedColumn(people, "totp_secret", False, lambda row: str(row.id)),
    SealedColumn(console_searches, "terms", False, lambda row: str(row.id)),
)
"""Every sealed column; ``codec`` seals and opens the same ones with the same identities (and
``people`` the TOTP secrets, ``people.totp_aad``; ``console_searches`` a kept search's terms,
``console_searches.terms_aad``). A column left out here would keep values
under an old key that rotation then retires: they would no longer open."""


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a rotation did (or, dry, would do): values per column, and the keys retired."""

    to_kid: str
    counts: dict[str, int]
    resealed: int = 0
    skipped: int = 0
    retired: tuple[str, ...] = field(default=())
    stopped: bool = False
    """Asked to stop before the end: ``resealed`` is what was sealed until then."""
    kept_for: tuple[Any, ...] = field(default=())
    """What ``holders`` answered just before retiring (the engines that still seal with
    another key): nothing was retired for them."""
    old_pages_left: bool = False
    """A reader kept the SQLite store's checkpoint from finishing (``old_pages``): the values
    as sealed before may stay in its files for a while."""


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer

    @property
    def schema(self) -> str | None: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def _now(self) -> datetime: ...


def _not_current(spec: SealedColumn, sealer: Sealer, kid: str) -> ColumnElement[bool]:
    column = spec.table.c[spec.column]
    if spec.binary:
        prefix: Any = literal(sealer.kid_prefix(kid), LargeBinary())
        size = len(sealer.kid_prefix(kid))
    else:
        prefix = literal(sealer.kid_text_prefix(kid), Text())
        size = len(sealer.kid_text_prefix(kid))
    wanted = and_(column.is_not(None), func.substr(column, 1, size) != prefix)
    if spec.pruned is None:
        return wanted
    emptied = literal(spec.pruned, LargeBinary() if spec.binary else Text())
    return and_(wanted, or_(spec.table.c.pruned_at.is_(None), column != emptied))


class SealingMixin:
    """The store's side of data keys: the check at open, counting and rotating."""

    @guarded("check the data keys")
    async def _check_data_keys(
        self: _StoreParts, *, register: bool, judge_engines: bool = False
    ) -> None:
        await keycheck.check_data_keys(
            self._engine,
            self._sealer,
            self._transaction,
            schema=self.schema,
            register=register,
            now=self._now,
            judge_engines=judge_engines,
        )

    @guarded("check the search key")
    async def _check_search_key(
        self: _StoreParts,
        check: str,
        *,
        register: bool,
        hash_bsn: Callable[[str], str] | None = None,
        weakness: str | None = None,
    ) -> None:
        await searchcheck.check_search_key(
            self._engine,
            check,
            self._transaction,
            register=register,
            now=self._now,
            sealer=self._sealer,
            hash_bsn=hash_bsn,
            weakness=weakness,
        )

    @property
    def data_key_ids(self: _StoreParts) -> tuple[str, ...]:
        """The configured key ids, current first; empty when values are stored plain."""
        return self._sealer.kids

    @guarded("read the data keys")
    async def known_data_keys(self: _StoreParts) -> dict[str, bool]:
        """Every key id this store was written with, oldest first: True while it may still
        seal values, False once retired (``keys rotate`` found nothing left under it)."""
        async with self._engine.connect() as conn:
            known = await keycheck.known_keys(conn)
        return {kid: check is not None for kid, check in known.items()}

    @guarded("count values to seal")
    async def count_to_reseal(self: _StoreParts) -> dict[str, int]:
        """Per sealed column, how many values are not sealed with the current key."""
        return await _count(self, _current(self._sealer))

    @guarded("rotate the data keys")
    async def rotate_data_keys(
        self: _StoreParts,
        *,
        actor: str,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
        planned: Mapping[str, int] | None = None,
        stop: Callable[[], bool] | None = None,
        holders: Callable[[], Awaitable[Sequence[Any]]] | None = None,
    ) -> RotationReport:
        """Seal every value with the current key, ``batch`` per transaction; see the module.

        ``progress`` is told how many values each step handled. ``planned``: the counts of
        ``count_to_reseal`` just taken (for a progress bar's total), so they are not counted
        twice; counting reads every sealed column whole. ``stop``: asked after each batch;
        once True, the run ends there, audits ``phase: stopped`` and says ``stopped``.
        ``holders``: asked just before retiring, what still seals new values with another key
        (the running engines that do, ``integrator.presence.engines_not_sealing_with``); any
        answer keeps every key (``kept_for``). The store does not judge engines itself: which
        rows are of running engines is the presence module's to say.
        """
        kid = _current(self._sealer)
        counts = dict(planned) if planned is not None else await _count(self, kid)
        await _audit(self, actor, {"phase": "start", "to": kid, "counts": counts})
        resealed = skipped = 0
        for spec in SEALED_COLUMNS:
            done, missed, stopped = await _rotate_column(self, spec, kid, batch, progress, stop)
            resealed += done
            skipped += missed
            if stopped:
                details = {
                    "phase": "stopped",
                    "to": kid,
                    "resealed": resealed,
                    "skipped": skipped,
                    "planned": sum(counts.values()),
                }
                await _audit(self, actor, details)
                pages_left = not await without_old_pages(self._engine)
                return RotationReport(
                    kid, counts, resealed, skipped, stopped=True, old_pages_left=pages_left
                )
        left = await _count(self, kid)
        retired: tuple[str, ...] = ()
        kept_for: tuple[Any, ...] = ()
        async with self._transaction() as conn:
            # Engines register under this turn and are refused with a key retired by then
            # (``register_engine``): one that opened the store meanwhile is either asked
            # about below or refused at its registration, after this commit.
            await presence_turn(conn, self.schema)
            if not any(left.values()):
                known = await keycheck.known_keys(conn)
                retired = tuple(
                    sorted(k for k, check in known.items() if check is not None and k != kid)
                )
                if retired and holders is not None:
                    kept_for = tuple(await holders())
                    if kept_for:
                        retired = ()
            rows = [_retire_row(self._now(), k) for k in retired]
            rows.append(
                _audit_row(
                    self._now(),
                    actor,
                    {
                        "phase": "done",
                        "to": kid,
                        "resealed": resealed,
                        "left": left,
                        "retired": list(retired),
                        "kept_for_engines": len(kept_for),
                    },
                )
            )
            await append_audit(conn, rows, schema=self.schema)
        pages_left = not await without_old_pages(self._engine)
        return RotationReport(
            kid,
            counts,
            resealed,
            skipped + sum(left.values()),
            retired,
            kept_for=kept_for,
            old_pages_left=pages_left,
        )


async def _count(store: _StoreParts, kid: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with store._engine.connect() as conn:
        for spec in SEALED_COLUMNS:
            query = (
                select(func.count())
                .select_from(spec.table)
                .where(_not_current(spec, store._sealer, kid))
            )
            counts[spec.name] = int((await conn.execute(query)).scalar_one())
    return counts


def _current(sealer: Sealer) -> str:
    kid = sealer.current_kid
    if kid is None:
        raise DataKeyError(
            f"{keycheck.SETTING} is not set: configure the key to seal with (first entry)"
        )
    return kid


async def _rotate_column(
    store: _StoreParts,
    spec: SealedColumn,
    kid: str,
    batch: int,
    progress: Callable[[int], None] | None,
    stop: Callable[[], bool] | None = None,
) -> tuple[int, int, bool]:
    """Reseal one column; returns (values resealed, values changed meanwhile and left, whether
    ``stop`` ended it after a batch)."""
    table = spec.table
    key = table.c.id
    column = table.c[spec.column]
    identity_columns = (table.c.message_id, table.c.number) if table is attempts else (table.c.id,)
    write = (
        update(table)
        .where(key == bindparam("b_key"), column == bindparam("b_old"))
        .values({spec.column: bindparam("b_new")})
    )
    resealed = skipped = 0
    last: Any = None
    while True:
        query = (
            select(key, *identity_columns, column.label("value"))
            .where(_not_current(spec, store._sealer, kid))
            .order_by(key)
            .limit(batch)
        )
        if last is not None:
            query = query.where(key > last)
        async with store._engine.connect() as conn:
            rows: Sequence[Any] = (await conn.execute(query)).all()
        if not rows:
            return resealed, skipped, False
        last = rows[-1].id
        changes = [_resealed(store._sealer, spec, row) for row in rows]
        async with store._transaction() as conn:
            written = await _write_counted(conn, write, changes)
        resealed += written
        skipped += len(changes) - written
        if progress is not None:
            progress(len(rows))
        if stop is not None and stop():
            return resealed, skipped, True


async def _write_counted(conn: AsyncConnection, write: Any, changes: list[dict[str, Any]]) -> int:
    """How many rows the compare-and-set wrote: one statement for all where the driver can
    count an executemany (SQLite), else one per row (asyncpg reports no total)."""
    if conn.dialect.supports_sane_multi_rowcount:
        return max((await conn.execute(write, changes)).rowcount, 0)
    written = 0
    for change in changes:
        written += max((await conn.execute(write, change)).rowcount, 0)
    return written


def _resealed(sealer: Sealer, spec: SealedColumn, row: Any) -> dict[str, Any]:
    """The row's value opened and sealed with the current key; a value that does not open
    stops the run with an error naming the column and the row (``sealing.place``)."""
    associated = aad(spec.table.name, spec.column, spec.identity(row))
    if spec.binary:
        old: Any = bytes(row.value)
        new: Any = sealer.seal(sealer.open(old, associated), associated)
    else:
        old = row.value
        new = sealer.seal_text(sealer.open_text(old, associated), associated)
    return {"b_key": row.id, "b_old": old, "b_new": new}


def _audit_row(now: datetime, actor: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": now,
        "actor": actor,
        "action": keycheck.ROTATE,
        "target": keycheck.TARGET,
        "reason": None,
        "details": dump_json(details),
    }


def _retire_row(now: datetime, kid: str) -> dict[str, Any]:
    return {
        "at": now,
        "actor": keycheck.SYSTEM_ACTOR,
        "action": keycheck.RETIRE,
        "target": keycheck.TARGET,
        "reason": "no value is sealed with this key any more",
        "details": dump_json({"kid": kid}),
    }


async def _audit(store: _StoreParts, actor: str, details: dict[str, Any]) -> None:
    async with store._transaction() as conn:
        await append_audit(conn, [_audit_row(store._now(), actor, details)], schema=store.schema)
