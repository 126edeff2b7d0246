"""At open: is the configured search key the one this store's BSN hashes were made with?

BSNs are stored as a keyed hash (``integrator.store.keyed``). An engine started with another
``INTEGRATOR_SEARCH_KEY`` took events whose BSN the right key can never find, and a command
with another key found nothing by BSN (``0 shown``, exit 0): support would tell a GP "the
referral never arrived". So the store keeps a check value of its key (table
``search_key_check``, one row): HMAC-SHA256 under the key of a fixed label
(``search_key_check``). It reveals nothing of the key a BSN hash does not already (both are
HMACs of a known text under it), and it is no BSN's hash. At open, when a key is configured:

- the store has the row: the configured key's check must equal it, else ``SearchKeyMismatch``
  (exit 2, naming ``INTEGRATOR_SEARCH_KEY``, never the key or the check), before anything is
  written;
- the store has none (a new store, or one from before revision 0022): a writer
  (``Store.open``) registers its key's check; a reader (``Store.open_existing``) leaves that to
  the next writer. Two first writers at once: the row's primary key lets one insert, the other's
  insert does nothing and it compares with the row, in the same transaction.
- before that, a store from before 0022 may hold BSN hashes already, made with a key nothing
  recorded: the first engine after the upgrade registered whatever key it was given (a typo, a
  SQLite key file that did not come along and was made anew), and from then on the right key
  was refused as the wrong one. So the configured key is first tried on the newest event that
  has a BSN hash and still its payload (``made_with``): its BSN, hashed with the key, must give
  the stored hash, else ``SearchKeyMismatch`` (``UNRECORDED_MISMATCH``), for readers too. With
  every such payload pruned there is nothing to try it on, and the key is taken as given.
- a key anyone could guess (``Settings.search_key_weakness``: the example's placeholder) is not
  registered for a store that holds no BSN hash yet (``WeakSearchKey``): its hashes could be
  turned back into BSNs by trying every BSN. A store that holds hashes made with such a key
  keeps it (only it finds them); its engine warns at start.

Without a key (a SQLite store whose key file is not made yet, opened by a reader) nothing is
checked: such a command cannot hash a BSN anyway (``Settings.bsn_hash`` says so).

The data keys keep their checks in the audit log (``keycheck``); the search key has a table of
its own (see the revision's docstring). There is no documented way to change the search key:
changing it makes older events unfindable by BSN (docs/support.md); the row would then have to
be replaced with the new key's check along with re-hashing every ``bsn_hash``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.logging import get_logger
from integrator.store.beside import stores_beside
from integrator.store.codec import load_json
from integrator.store.errors import SealedValueError, SearchKeyMismatch, WeakSearchKey
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import events
from integrator.store.tables import search_key_check as table

log = get_logger("integrator.store.searchcheck")

SETTING = "INTEGRATOR_SEARCH_KEY"
LABEL = b"integrator search key check"
_ROW = 1

MISMATCH = (
    f"{SETTING}: the search key is not the one this store's BSN hashes were made with (its "
    "key check does not match): with it a search by BSN finds nothing, and events taken in "
    f"could never be found by BSN with the right key. Set {SETTING} to the key the engines of "
    "this store use (a SQLite store without the setting: its key file <database>.search-key, "
    "kept with the database); nothing was written"
)


UNRECORDED_MISMATCH = (
    f"{SETTING}: the search key is not the one this store's BSN hashes were made with (the "
    "store is from before it kept a check of its key, and its newest event's BSN, hashed with "
    "this key, does not give the hash stored with it): with it a search by BSN finds nothing. "
    f"Set {SETTING} to the key the engines of this store used before the upgrade (a SQLite "
    "store without the setting: its key file <database>.search-key, kept with the database); "
    "nothing was written"
)


def mismatch_of_file(path: Path) -> str:
    """``MISMATCH`` for a key read from the store's key file (no ``INTEGRATOR_SEARCH_KEY``):
    the file is what is wrong, and blaming an unset setting sent people after the wrong
    thing."""
    return (
        f"the search key in {path} is not the one this store's BSN hashes were made with (its "
        "key check does not match): with it a search by BSN finds nothing, and events taken in "
        "could never be found by BSN with the right key. Put the store's own key file there "
        "(the FILE.search-key beside the backup's FILE that was made with this store), or set "
        f"{SETTING} to the key the engines of this store use; nothing was written"
    )


def search_key_check(key: str) -> str:
    """The check value of ``key``: HMAC-SHA256 under the key (encoded as ``Settings.bsn_hash``
    does) of a fixed label, 64 hex digits."""
    return hmac.new(key.encode("utf-8"), LABEL, hashlib.sha256).hexdigest()


def registered_in_sqlite(database: Path) -> bool:
    """Whether the SQLite store in the file ``database`` has its search key's check
    registered: its BSN hashes were made with a key, and only that key finds them.

    Read with ``sqlite3`` alone, read-only, before the store is opened (opening migrates, and a
    writer's open registers a check): what decides whether a missing key file may be made anew
    (``integrator.searchkey``) or a backup made without it (``integrator.lifecycle.backup``).
    False when there is no such file, or no table (a store from before revision 0022), or no
    row; an unreadable file is left to the open to explain.
    """
    return _has_row(database, "SELECT 1 FROM search_key_check WHERE id = ?", (_ROW,))


def holds_bsn_hashes_in_sqlite(database: Path) -> bool:
    """Whether the SQLite store in the file ``database`` holds an event's BSN hash, read as
    ``registered_in_sqlite`` reads: a store from before revision 0022 has hashes but no
    check, and a key file made anew for it would never find them."""
    return _has_row(database, "SELECT 1 FROM events WHERE bsn_hash IS NOT NULL LIMIT 1")


def _has_row(database: Path, query: str, parameters: tuple[object, ...] = ()) -> bool:
    """Whether ``query`` finds a row in the SQLite file ``database``, opened read-only with
    ``sqlite3`` alone; False when there is no such file or table (an unreadable file is left
    to the store's open to explain)."""
    if not database.is_file():
        return False
    try:
        uri = f"{database.absolute().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute(query, parameters).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def weak_key_said(weakness: str) -> str:
    """The refusal of a key anyone could guess for a new store (``WeakSearchKey``)."""
    return (
        f"{SETTING}: {weakness}: whoever knows the search key can turn the store's BSN hashes "
        "back into BSNs by trying every BSN, so a new store takes a random one (openssl rand "
        "-hex 32), the same for every engine and command; nothing was written"
    )


RECORDED_ON_NEW = "new store: its BSN search key is recorded"
RECORDED_ON_OLDER = "the store's BSN search key is recorded (it held events, none recorded it)"


async def _holds_bsn_hashes(conn: AsyncConnection) -> bool:
    found = await conn.execute(select(events.c.id).where(events.c.bsn_hash.is_not(None)).limit(1))
    return found.first() is not None


async def made_with(
    conn: AsyncConnection, sealer: Sealer, hash_bsn: Callable[[str], str]
) -> bool | None:
    """Whether the store's BSN hashes were made with the key ``hash_bsn`` hashes with, tried on
    the newest event that has a hash and still its payload; None when none can tell (no such
    event, or its BSN cannot be read)."""
    row = (
        await conn.execute(
            select(events.c.id, events.c.payload, events.c.bsn_hash)
            .where(events.c.bsn_hash.is_not(None), events.c.pruned_at.is_(None))
            .order_by(events.c.received_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    try:
        payload = load_json(sealer.open_text(row.payload, aad("events", "payload", row.id)))
    except (SealedValueError, ValueError):
        return None
    patient = payload.get("patient") if isinstance(payload, dict) else None
    bsn = patient.get("bsn") if isinstance(patient, dict) else None
    if not isinstance(bsn, str) or not bsn:
        return None
    return hmac.compare_digest(hash_bsn(bsn), str(row.bsn_hash))


async def _stored(conn: AsyncConnection) -> str | None:
    return (
        await conn.execute(select(table.c.check_value).where(table.c.id == _ROW))
    ).scalar_one_or_none()


def _compare(stored: str, check: str) -> None:
    if not hmac.compare_digest(stored, check):
        raise SearchKeyMismatch(MISMATCH)


async def check_search_key(
    engine: AsyncEngine,
    check: str,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
    *,
    register: bool,
    now: Callable[[], datetime],
    sealer: Sealer | None = None,
    hash_bsn: Callable[[str], str] | None = None,
    weakness: str | None = None,
) -> None:
    """Raise ``SearchKeyMismatch`` unless ``check`` is the store's; see the module.
    ``hash_bsn``: the configured key's BSN hash, to try it on a store without a check
    (``made_with``, which opens an event's payload with ``sealer``); None: not tried.
    ``weakness``: why the key could be guessed, if it could (``WeakSearchKey``)."""
    async with engine.connect() as conn:
        stored = await _stored(conn)
        if (
            stored is None
            and hash_bsn is not None
            and sealer is not None
            and await made_with(conn, sealer, hash_bsn) is False
        ):
            raise SearchKeyMismatch(UNRECORDED_MISMATCH)
    if stored is not None:
        _compare(stored, check)
        return
    if not register:
        return
    if weakness is not None:
        async with engine.connect() as conn:
            if not await _holds_bsn_hashes(conn):
                raise WeakSearchKey(weak_key_said(weakness))
    async with transaction() as conn:
        # First statement writes (SQLite's write lock); a concurrent first writer's row wins.
        insert: Insert = (
            postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
        ).on_conflict_do_nothing(index_elements=[table.c.id])
        added = await conn.execute(insert.values(id=_ROW, check_value=check, registered_at=now()))
        if not added.rowcount:
            stored = await _stored(conn)
            assert stored is not None
            _compare(stored, check)
            return
    # The first line of a first ``run``: said as what it means to whoever runs the store. A
    # store that holds events already was made by a version that recorded no key (an upgrade):
    # "new store" told its operator something untrue at the worst moment to be told it.
    async with engine.connect() as conn:
        holds_events = (await conn.execute(select(events.c.id).limit(1))).first() is not None
    sqlite_file = engine.url.database if engine.dialect.name == "sqlite" else None
    log.info(
        RECORDED_ON_OLDER if holds_events else RECORDED_ON_NEW,
        meaning="every engine and command on this store must use this same key "
        + (
            "(INTEGRATOR_SEARCH_KEY, or the store's .search-key file); back it up with the store"
            if sqlite_file
            else "(INTEGRATOR_SEARCH_KEY); keep it where the store's backups can find it"
        ),
    )
    if sqlite_file and not holds_events:
        await asyncio.to_thread(_warn_if_beside_another, Path(sqlite_file))


def _warn_if_beside_another(database: Path) -> None:
    """A new store beside another one: a mistyped ``INTEGRATOR_DATABASE_URL``, most likely
    (``integrator.store.beside``). Not for a store in memory, which lies beside nothing."""
    if not database.is_file():
        return
    others = stores_beside(database.resolve())
    if others:
        log.warning(
            "new store made beside another store: if this engine is to run on that one, "
            "INTEGRATOR_DATABASE_URL names the wrong file (stop it; the new store holds only "
            "what came in since it was made)",
            store=str(database),
            beside=[str(other) for other in others],
        )
