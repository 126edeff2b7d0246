"""Whether the store's writes work now: what ``/readyz`` reads, and the two log lines of an outage.

A store can answer ``SELECT 1`` while every write fails (a full disk, a read-only SQLite
directory, a PostgreSQL database made again without the store's tables, or made read-only: a
demoted primary after a failover, a managed database read-only as its disk fills). The
readiness probe must not write to find that out (a write per probe, on a store in trouble), so
the store keeps what its own writes found: the failure of the last one, until one succeeds
again. Only failures of the store itself count (``StoreUnavailable``'s kind,
``failures.diagnose``: a read-only transaction and a missing privilege among them); a write
refused for its content (a taken id) says nothing about the store.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from integrator.logging import get_logger
from integrator.store.failures import cause, diagnose

log = get_logger("integrator.store")


FULL_HELD_S: Final = 60.0
"""How long a full disk's failure outlives the last write it refused while only writes that
change rows in place work (``WriteHealth.watch``)."""


class WriteHealth:
    """The store's writes: failing since a failure (its code) until one succeeds."""

    def __init__(self, url: URL, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._monotonic = monotonic
        self._failed_at = 0.0  # when the last write failed (``monotonic``)
        self.failing: str | None = None
        """The SQLSTATE or SQLite code of the last write's failure; None while writes work."""

    @asynccontextmanager
    async def watch(self, *, grows: bool = True) -> AsyncIterator[None]:
        """Around one write, its commit included: note whether it worked.

        ``grows=False``: a write that changes a row in place (the engine's heartbeat), which a
        full disk still takes in the pages the store has, while every write that adds rows
        fails: its success does not end a full disk's failure at once (readiness and
        ``integrator_store_up`` said "ready" every ten seconds between refused events, and the
        alert's ``for`` began again). Only ``FULL_HELD_S`` after the last refused write: an
        engine out of a load balancer's rotation, not ready, is sent no event, so after the
        disk was freed no write that adds rows came to end it, and it stayed not ready for as
        long as nobody wrote through another door. Ready again, the next event tells: if the
        disk is still full, it is refused and the engine is not ready for as long again.
        """
        try:
            yield
        except (sa_exc.SQLAlchemyError, OSError) as error:
            self.failed(error)
            raise
        if grows or not _full(self.failing) or self._monotonic() - self._failed_at >= FULL_HELD_S:
            self.succeeded()

    def failed(self, error: BaseException) -> None:
        diagnosis = diagnose(error)
        if diagnosis.kind != "transient":
            return
        code = diagnosis.code or diagnosis.error_class
        if self.failing is None:
            # Once per outage: the cause in words, and the code only (never the driver's text).
            log.warning("store writes fail", code=code, cause=cause(diagnosis.code, self._url))
        self.failing = code
        self._failed_at = self._monotonic()

    def succeeded(self) -> None:
        if self.failing is not None:
            log.warning("store writes work again", after=self.failing)
            self.failing = None


def _full(code: str | None) -> bool:
    """A failure of a store without room to grow: SQLite's full disk, PostgreSQL's (53100)."""
    return code is not None and (code.startswith("SQLITE_FULL") or code == "53100")
