"""Open the store the settings point at, with their data keys and their search key's check.

The one way to open a store from ``Settings``: a caller that passed ``sealer`` but forgot
``search_check`` would silently skip the search key check (``integrator.store.searchcheck``).
It lives outside ``integrator.store``, which does not import the settings.
"""

from __future__ import annotations

from typing import Any

from integrator.settings import Settings
from integrator.store import Store
from integrator.store.errors import SearchKeyMismatch
from integrator.store.records import utc_now
from integrator.store.sealing import Sealer
from integrator.store.searchcheck import mismatch_of_file
from integrator.store.store import Clock


async def open_store(
    settings: Settings,
    *,
    existing: bool = False,
    clock: Clock | None = None,
    sealer: Sealer | None = None,
    judge_engines_keys: bool = True,
) -> Store:
    """``Store.open`` (``Store.open_existing`` with ``existing``, for commands that only read)
    on ``settings.database_url``, with ``settings.sealer()`` (or the ``sealer`` given, for a
    caller that keeps using it) and ``settings.search_check()``. ``clock``: the store's clock,
    the wall clock when None. A search key refused by the store (``SearchKeyMismatch``) that
    was read from the store's key file is said to be that file's. ``judge_engines_keys``: a
    writer is refused while a running engine lacks its sealing key (False: the engine's own
    open)."""
    common: dict[str, Any] = {
        "clock": utc_now if clock is None else clock,
        "sealer": settings.sealer() if sealer is None else sealer,
        "search_check": settings.search_check(),
        "hash_bsn": settings.bsn_hash if settings.search_key is not None else None,
    }
    try:
        if existing:  # a reader registers no key: a guessable one is the next writer's to refuse
            return await Store.open_existing(settings.database_url, **common)
        weakness = settings.search_key_weakness()
        return await Store.open(
            settings.database_url,
            **common,
            search_key_weakness=weakness,
            judge_engines_keys=judge_engines_keys,
        )
    except SearchKeyMismatch:
        if settings.search_key_file is None:
            raise  # the setting's key: the message names the setting
        raise SearchKeyMismatch(mismatch_of_file(settings.search_key_file)) from None


async def require_store(settings: Settings) -> None:
    """``NoStore`` (naming it) unless a store is where ``settings`` point; makes nothing.

    For a command that writes, asked before it opens the store as a writer (which registers
    the configured data keys, and would make a store that is not there)."""
    await (await open_store(settings, existing=True)).close()


async def open_store_there(settings: Settings, *, clock: Clock | None = None) -> Store:
    """``open_store`` as a writer, for a command that writes only into a store that is there:
    ``NoStore`` when none is, before anything is made. Run elsewhere than the engine's
    directory (the default store is a relative path), a new, empty store would take a
    referral or a resend no engine reads."""
    await require_store(settings)
    return await open_store(settings, clock=clock)
