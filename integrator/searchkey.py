"""The BSN search key, resolved once at start for the engine and for every command.

The key of the keyed BSN hash (``integrator.store.keyed``) is never a public one:

- ``INTEGRATOR_SEARCH_KEY`` set: that key (at least 16 characters), for any store.
- A SQLite store without the setting: the key lives in a file beside the database,
  ``<database>.search-key`` (``var/integrator.db.search-key``), mode 0600. The first command that
  writes a new store (``run``, ``submit``) creates it with a random 256-bit key, atomically:
  two processes starting together end up with the same key. Every later command reads it, so a
  BSN search from the CLI hashes with the key the engine stored with. Commands that only read
  never create it; without the file a BSN search says so instead of finding nothing. A store
  that already has its key's check registered (``integrator.store.searchcheck``) lost its file:
  a new random key would never be its key, so none is made and the start is refused
  (``lost_key_file``), naming the file and where to restore it from.
- A PostgreSQL store without the setting: refused at start (exit 2). There is no place beside
  the database for a file, and a key kept in the store would sit next to the hashes it protects,
  so whoever can read the table could also reverse it.

``resolve_search_key`` returns a copy of ``Settings`` with the key filled in; the engine, intake,
search and the audit of patient-data views all hash with that one copy's ``bsn_hash``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.errors import ConfigurationError
from integrator.settings import MIN_SEARCH_KEY, Settings
from integrator.store import beside
from integrator.store.searchcheck import holds_bsn_hashes_in_sqlite, registered_in_sqlite

#: The setting that places a SQLite store, and the key file beside it.
SETTING = "INTEGRATOR_DATABASE_URL"

KEY_SUFFIX = beside.KEY_SUFFIX  # the file beside the database, named in the store's package


class SearchKeyError(ConfigurationError):
    """No usable search key: the message names the setting or the file (never the key)."""


def key_file_for(database_url: str) -> Path | None:
    """The key file beside a SQLite store; ``None`` for PostgreSQL (and unparseable URLs)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if not url.drivername.startswith("sqlite"):
        return None
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    path = Path(database).expanduser()
    return path.with_name(path.name + KEY_SUFFIX)


def resolve_search_key(settings: Settings, *, create: bool) -> Settings:
    """``settings`` with the search key to hash with; see the module's docstring.

    ``create``: for commands that write the store; a missing key file is made. Without it a
    missing file leaves the key unset, and ``Settings.bsn_hash`` raises ``SearchKeyError``.
    """
    if settings.search_key is not None:
        return settings
    path = key_file_for(settings.database_url)
    if path is None:
        if settings.database_url.startswith(("postgres", "postgresql")):
            raise SearchKeyError(
                "INTEGRATOR_SEARCH_KEY must be set for a PostgreSQL store: a secret of at least "
                f"{MIN_SEARCH_KEY} characters (e.g. openssl rand -hex 32), the same for the "
                "engine and every command"
            )
        return settings  # the store's own checks refuse this URL with a clear message
    if path.exists():
        key: str | None = _read(path)
    elif create:
        if _started(path):
            raise SearchKeyError(lost_key_file(path))
        key = _create(path)
    else:
        key = None
    if key is None:
        return settings
    return settings.with_key_file(key, path)


def no_search_key(database_url: str) -> str:
    """Why a command that only reads has no key to hash a BSN with (``Settings.bsn_hash``).

    A store that was started before (its check is registered, or an event has a hash) lost its
    key file: the command says so and where to restore it from, as the engine's start does.
    It used to say the file did "not exist yet" and that the engine would make it, sending
    people to start an engine that then refused, for the lost file."""
    from integrator.store.url import not_a_directory

    where = key_file_for(database_url)
    if where is None:
        return "no BSN search key: set INTEGRATOR_SEARCH_KEY to the engine's key"
    blocker = not_a_directory(where)
    if blocker is not None:
        why = f"{where} cannot be there: {blocker} is not a directory ({SETTING})"
    elif _started(where):
        return f"no BSN search key: {_lost(where)}"
    else:
        why = f"{where} does not exist yet (the engine creates it at its first start)"
    return f"no BSN search key: {why}; or set INTEGRATOR_SEARCH_KEY to the engine's key"


def _started(path: Path) -> bool:
    """Whether the store beside the key file ``path`` holds BSN hashes made with a key: its
    check is registered, or (a store from before revision 0022) an event has a hash."""
    database = path.with_name(path.name.removesuffix(KEY_SUFFIX))
    return registered_in_sqlite(database) or holds_bsn_hashes_in_sqlite(database)


def _lost(path: Path) -> str:
    return (
        f"the search key file {path} is missing, and this store's BSN hashes were made with the "
        f"key it held. Copy the {KEY_SUFFIX} file from the store's backup (the "
        f"FILE{KEY_SUFFIX} beside the backup's FILE), or from where it was moved, to {path} "
        "(mode 0600), or set INTEGRATOR_SEARCH_KEY to that key"
    )


def lost_key_file(path: Path) -> str:
    """The refusal of a writer's start on a store whose key file is gone: the store's BSN
    hashes were made with the key it held (the check is registered, or, in a store from before
    revision 0022, an event has a hash). A new random file was made here before, and the start
    then refused as a mismatch blaming a setting that was not set, saying nothing was written
    while the new file stayed behind; in a store from before 0022, the new key was registered
    as the store's, and the old hashes were never found again."""
    return (
        f"the search key file {path} is missing, and this store's BSN hashes were made with the "
        "key it held: a new key would never find them, so "
        f"none was made. Copy the {KEY_SUFFIX} file from the store's backup (the "
        f"FILE{KEY_SUFFIX} beside the backup's FILE), or from where it was moved, to {path} "
        "(mode 0600), or set INTEGRATOR_SEARCH_KEY to that key; nothing was written"
    )


def _read(path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SearchKeyError(f"the search key file {path} cannot be read: {exc}") from None
    if len(key) < MIN_SEARCH_KEY:
        raise SearchKeyError(
            f"the search key file {path} holds no key of at least {MIN_SEARCH_KEY} characters"
        )
    return key


def _create(path: Path) -> str:
    """A new random key in ``path`` (0600), or the key another process put there first."""
    key = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=path.name, suffix=".new", dir=path.parent)
    except OSError as exc:
        from integrator.store.url import not_a_directory

        blocker = not_a_directory(path)
        why = f"{blocker} is not a directory ({SETTING})" if blocker is not None else str(exc)
        raise SearchKeyError(f"the search key file {path} cannot be created: {why}") from None
    try:
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)  # fails if it exists: whoever links first wins
        except FileExistsError:
            return _read(path)
        except OSError as exc:
            raise SearchKeyError(f"the search key file {path} cannot be created: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return key
