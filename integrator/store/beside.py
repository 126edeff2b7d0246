"""A new SQLite store made beside another store: most likely a mistyped path.

``INTEGRATOR_DATABASE_URL=sqlite:////srv/integrator/var/integrater.db`` for ``integrator.db``
makes a new, empty store and an engine that runs on it: it takes the destination files in as
its own, takes new events in and delivers them, while the real store's history, dead letters
and people lie beside it unseen, and only an info line said "new store". Nothing can tell a
typo from a second store on purpose for certain, so the engine warns, naming both files, at the
moment it makes the new one: a store is known beside it by its search key file
(``<database>.search-key``, which every SQLite store the engine ran on has).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

KEY_SUFFIX: Final = ".search-key"
"""The search key file's ending, beside its database: ``integrator.searchkey`` makes and reads
it by this name (the store imports nothing above it, so the name lives here)."""


def stores_beside(database: Path) -> list[Path]:
    """The other SQLite stores in ``database``'s directory (each with its search key file),
    by name; none where the directory cannot be read."""
    try:
        keys = sorted(database.parent.glob(f"*{KEY_SUFFIX}"))
    except OSError:
        return []
    found = [key.with_name(key.name.removesuffix(KEY_SUFFIX)) for key in keys]
    return [other for other in found if other != database and other.is_file()]
