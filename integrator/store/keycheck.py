"""At open: do the configured data keys fit this store? A wrong or missing key stops the start.

Without this check a wrong key would surface deep inside a request, as a message that does not
open, long after the engine said it was ready. So every store keeps, in its audit log, one
entry per data key it was ever written with (action ``datakey.register``, target ``datakeys``):
the key id and a short known text sealed with that key. At open:

- every configured key whose id the store knows must open that entry's text, else the key under
  that id is the wrong one (``DataKeyError`` naming the id);
- every key id the store knows and that still seals values must be configured, else values
  could not be read (``DataKeyError`` naming the ids). ``integrator keys rotate`` marks a key
  retired (``datakey.retire``) once no value is sealed with it any more; then it may leave the
  setting, but not the secret store: a backup made before that still holds values under it,
  knows it as in use, and is refused here without it (the refusal says where to look);
- the newest message must open, which also covers a store whose entries were lost;
- a writer whose current key is new to the store registers it, before writing anything with it;
- a current (first) key the store knows as retired is refused, by writers and readers alike: it
  was taken for "a new data key" and registered again, silently making a key the operator had
  been told may be removed seal new values once more (a setting with its entries in the wrong
  order, or an old one put back). A retired key is told from one never seen by ``known_keys``
  keeping it, with ``None`` for its check; a key once retired is never a current key again
  (a new one is generated instead), and may only stand after the current key, for a restored
  backup that needs it.

The audit log is the place because it exists in every store, is append-only and hash-chained,
and the history of keys is something to audit anyway. The entry holds no key: the sealed text
only tells whether a key is the right one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.counting import counted
from integrator.store.audit_chain import append_audit
from integrator.store.codec import dump_json, load_json
from integrator.store.errors import DataKeyError, SealedValueError
from integrator.store.sealing import Sealer, aad, sealed_kid
from integrator.store.tables import audit_log, messages

TARGET = "datakeys"
REGISTER = "datakey.register"
RETIRE = "datakey.retire"
ROTATE = "datakey.rotate"
SYSTEM_ACTOR = "system"
CHECK_TEXT = "integrator data key check"
SETTING = "INTEGRATOR_DATA_KEYS"
RETIRED_KEYS_DOCS = "docs/operators.md#retired-keys-and-older-backups"
RETIRED_KEY_HINT = (
    "A store restored from a backup made before a rotation needs the keys it was sealed "
    "with, retired since: take them from where the retired keys are kept with the backups "
    f"({RETIRED_KEYS_DOCS})"
)
"""Said with every refusal of a missing key: the likeliest cause after a restore is a key that
was rightly taken out of the setting when it was retired, and is still needed by older backups.
Key ids only, never a key."""


def check_aad(kid: str) -> bytes:
    return aad("audit_log", "datakey", kid)


async def known_keys(conn: AsyncConnection) -> dict[str, str | None]:
    """Every key id the store was written with: its sealed check text, or ``None`` if retired.
    A key id that is not there was never seen: ``check_data_keys`` tells the two apart."""
    result = await conn.execute(
        select(audit_log.c.action, audit_log.c.details)
        .where(audit_log.c.target == TARGET, audit_log.c.action.in_([REGISTER, RETIRE]))
        .order_by(audit_log.c.id)
    )
    return _replay((action, details_text) for action, details_text in result)


def refuse_retired(known: dict[str, str | None], current: str | None) -> None:
    """Raise ``DataKeyError`` when ``current``, the key that seals new values, is retired in
    ``known`` (``known_keys``); asked at open, and again when an engine registers its presence
    (``PresenceMixin.register_engine``), since a rotation may retire the key in between."""
    if current is None or current not in known or known[current] is not None:
        return
    in_use = [kid for kid, check in known.items() if check is not None]
    named = ", ".join(repr(kid) for kid in in_use) or "none"
    raise DataKeyError(
        f"{SETTING}: data key {current!r}, its first entry (the key that seals new values), "
        f"was retired by integrator keys rotate and may not seal again: put the current "
        f"key first (the store's keys in use: {named}), keeping {current!r} after it only "
        "for a restored backup that needs it; to move to another key, generate a new one "
        "(integrator keys generate). Nothing was written"
    )


def keys_in_use_in_sqlite(db: sqlite3.Connection) -> list[str]:
    """The key ids a SQLite store needs to open (registered, not retired), oldest first, read
    through a plain ``sqlite3`` connection: for a backup's copy, which no engine opens. A
    database without an audit log (none of ours) needs none."""
    try:
        rows = db.execute(
            "SELECT action, details FROM audit_log WHERE target = ? AND action IN (?, ?) "
            "ORDER BY id",
            (TARGET, REGISTER, RETIRE),
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    known = _replay((str(action), str(details)) for action, details in rows)
    return [kid for kid, check in known.items() if check is not None]


def _replay(entries: Iterable[tuple[str, str]]) -> dict[str, str | None]:
    """The keys that register and retire entries (action, details), oldest first, leave."""
    known: dict[str, str | None] = {}
    for action, details_text in entries:
        details = load_json(details_text)
        kid = str(details.get("kid", ""))
        known[kid] = str(details.get("check", "")) if action == REGISTER else None
    return known


async def register_again(
    conn: AsyncConnection,
    pruned: Sequence[tuple[str, str, str]],
    *,
    now: datetime,
    schema: str | None,
) -> int:
    """Keep the registry of keys whole when retention prunes audit entries: register again, in
    this transaction, every key whose registration is among the ``pruned`` entries (action,
    target, details; oldest first; already deleted) and that is not retired, and retire again
    every retired one the entries kept no longer name. Without this a
    key sealing values for longer than the audit trail's period would drop out of the store's
    knowledge, and neither a missing nor a wrong key for it would be refused at open any more.
    The sealed check text is carried over as it was. Returns how many entries were written."""
    ours = [(action, details) for action, target, details in pruned if target == TARGET]
    ours = [(action, details) for action, details in ours if action in (REGISTER, RETIRE)]
    if not ours:
        return 0
    kept = await known_keys(conn)
    before = {**_replay(ours), **kept}
    lost = sorted(kid for kid in before if kid not in kept)
    rows = [
        {
            "at": now,
            "actor": SYSTEM_ACTOR,
            "action": REGISTER,
            "target": TARGET,
            "reason": "registered again: its earlier registration reached the audit trail's "
            "retention period",
            "details": dump_json({"kid": kid, "check": before[kid], "again": True}),
        }
        if before[kid] is not None
        # A retired key is retired for the store's life: forgotten with its entries, it would
        # be taken for a new key if a setting put it first again, and seal again.
        else {
            "at": now,
            "actor": SYSTEM_ACTOR,
            "action": RETIRE,
            "target": TARGET,
            "reason": "retired again: its earlier retirement reached the audit trail's "
            "retention period",
            "details": dump_json({"kid": kid, "again": True}),
        }
        for kid in lost
    ]
    await append_audit(conn, rows, schema=schema)
    return len(rows)


async def check_data_keys(
    engine: AsyncEngine,
    sealer: Sealer,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
    *,
    schema: str | None,
    register: bool,
    now: Callable[[], datetime],
    judge_engines: bool = False,
) -> None:
    """Raise ``DataKeyError`` unless the keys fit; see the module's docstring.
    ``judge_engines``: also when a running engine lacks the sealing key (a writer command)."""
    async with engine.connect() as conn:
        known = await known_keys(conn)
        newest = (
            await conn.execute(
                select(messages.c.id, messages.c.payload).order_by(messages.c.seq.desc()).limit(1)
            )
        ).first()
    for kid in sealer.kids:
        check = known.get(kid)
        if check is None:
            continue
        try:
            right = sealer.open_text(check, check_aad(kid)) == CHECK_TEXT
        except SealedValueError:
            right = False
        if not right:
            raise DataKeyError(
                f"{SETTING}: the key under id {kid!r} is not the key this store was sealed "
                f"with (its key check does not open): configure the right key for {kid!r}"
            )
    current = sealer.current_kid
    refuse_retired(known, current)
    if register and judge_engines and current is not None:
        await _refuse_unreadable_by_engines(engine, current, now())
    missing = sorted(
        kid for kid, check in known.items() if check is not None and kid not in sealer.kids
    )
    if missing:
        named = ", ".join(repr(kid) for kid in missing)
        one = len(missing) == 1
        them = "it" if one else "them"
        where = f"{SETTING} is not set" if not sealer.kids else f"{SETTING} lacks {them}"
        raise DataKeyError(
            f"the store holds values sealed with data {'key' if one else 'keys'} {named} and "
            f"{where}: configure {them} (a key may be dropped only after integrator keys "
            f"rotate has moved every value off it). {RETIRED_KEY_HINT}"
        )
    if newest is not None:
        _check_newest(sealer, newest.id, bytes(newest.payload))
    if register and current is not None and known.get(current) is None:
        entry = {
            "at": now(),  # the clock is read only when there is something to write
            "actor": SYSTEM_ACTOR,
            "action": REGISTER,
            "target": TARGET,
            "reason": "a new data key seals new values from now on",
            "details": dump_json(
                {"kid": current, "check": sealer.seal_text(CHECK_TEXT, check_aad(current))}
            ),
        }
        async with transaction() as conn:
            await append_audit(conn, [entry], schema=schema)


async def _refuse_unreadable_by_engines(engine: AsyncEngine, current: str, at: datetime) -> None:
    """Refuse a writer whose sealing key a running engine was not started with.

    A command run with another key order (``k2,k1`` beside engines started with ``k1``) sealed
    what it wrote with ``k2``: the engines' reads of it failed (a whole listing of a
    destination answered 503 for one value). ``keys rotate`` checked this; every other writer
    now does too. Engines that did not record their keys (a version from before) and one that
    crashed on this machine are not judged. An engine starting is not refused: restarted one
    by one to a new key, the first would be (docs/operators.md, Rotating a key)."""
    from integrator.store.presence import running_at

    async with engine.connect() as conn:
        running = await running_at(conn, at)
    lacking = [
        f"{e.host} pid {e.pid}"
        for e in running
        if e.key_ids is not None and current not in e.key_ids
    ]
    if lacking:
        one = len(lacking) == 1
        they, them = ("it", "it") if one else ("they", "them")
        raise DataKeyError(
            f"{SETTING}: this process would seal what it writes with data key {current!r}, "
            f"which {counted(len(lacking), 'running engine')} on this store "
            f"{'was' if one else 'were'} not started with ({'; '.join(lacking)}): {they} could "
            f"not read it. Put first the key {they} {'seals' if one else 'seal'} with, or "
            f"restart {them} with {current!r} among {'its' if one else 'their'} keys first; "
            "nothing was written"
        )


def _check_newest(sealer: Sealer, message_id: str, payload: bytes) -> None:
    try:
        sealer.open(payload, aad("messages", "payload", message_id))
    except SealedValueError:
        kid = sealed_kid(payload)
        raise DataKeyError(
            f"{SETTING}: the newest message ({message_id}) is sealed with data key {kid!r}, "
            + (
                "which is not configured"
                if kid not in sealer.kids
                else "and the key configured under that id does not open it (a wrong key, or "
                "the stored value was changed)"
            )
        ) from None
