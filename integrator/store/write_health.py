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
from integrator.store.failures import cause, diagnose, room_again

log = get_logger("integrator.store")


FULL_HELD_S: Final = 60.0
"""How long after the last write a full disk refused readiness waits for the heartbeat to
write before it lets the next event try (``WriteHealth.on_trial``)."""


class WriteHealth:
    """The store's writes: failing since a failure (its code) until one succeeds."""

    def __init__(self, url: URL, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._monotonic = monotonic
        self._failed_at = 0.0  # when the last write failed (``monotonic``)
        self.failing: str | None = None
        """The SQLSTATE or SQLite code of the last write's failure; None while writes work.
        What ``integrator_store_up`` says, and its alert."""
        self.on_trial = False
        """A full disk's failure that readiness no longer reports (``for_readiness``)."""

    @property
    def for_readiness(self) -> str | None:
        """``failing`` as readiness reports it: None while a full disk is on trial.

        A full disk takes a write that changes a row in place (the engine's heartbeat) in the
        pages the store has, while every write that adds rows fails, so the heartbeat's success
        says nothing of it. But an engine out of a load balancer's rotation while not ready is
        sent no event, so after the disk was freed no write that adds rows came to end the
        failure, and it stayed not ready until something wrote through another door. So once
        ``FULL_HELD_S`` passed after the last refused write and the heartbeat still writes,
        readiness says ready and lets the next event tell: refused, the engine is not ready
        again for as long; taken, the failure ends. ``failing`` (the metric, the alert) ends
        only then, or when a SQLite store's disk has room again (``failures.room_again``: an
        idle engine gets no event to tell it): a disk still full keeps the alert firing, not
        once a minute anew.
        """
        return None if self.on_trial else self.failing

    @asynccontextmanager
    async def watch(self, *, grows: bool = True) -> AsyncIterator[None]:
        """Around one write, its commit included: note whether it worked. ``grows=False``: a
        write that changes a row in place (the engine's heartbeat): its success does not end a
        full disk's failure (readiness and ``integrator_store_up`` said "ready" every ten
        seconds between refused events, and the alert's ``for`` began again); it puts it on
        trial (``for_readiness``) once ``FULL_HELD_S`` passed since the last refused write."""
        try:
            yield
        except (sa_exc.SQLAlchemyError, OSError) as error:
            self.failed(error)
            raise
        if grows or not _full(self.failing):
            self.succeeded()
        elif self._monotonic() - self._failed_at >= FULL_HELD_S:
            if room_again(self._url):
                # A SQLite store's disk with room again: it was freed. An idle engine gets no
                # write that adds rows to say so, and its store-down alert fired on for ever.
                self.succeeded()
            else:
                self.on_trial = True

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
        self.on_trial = False

    def succeeded(self) -> None:
        if self.failing is not None:
            log.warning("store writes work again", after=self.failing)
            self.failing = None
        self.on_trial = False


def _full(code: str | None) -> bool:
    """A failure of a store without room to grow: SQLite's full disk, PostgreSQL's (53100)."""
    return code is not None and (code.startswith("SQLITE_FULL") or code == "53100")
