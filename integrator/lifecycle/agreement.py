"""A prune prunes only what every running engine would: no shorter periods than theirs.

The retention periods are read from each process's own environment. ``integrator prune`` run
from a shell that had not loaded the engine's settings file took the defaults (payloads 90
days) and emptied what an engine set to keep a year still kept, for support to resend: lost in
silence, since the command only said what it pruned by its own periods. Engines sharing a
store with different periods did the same to each other through the daily prune, whichever won
the day's turn. So each engine records its periods beside its heartbeat
(``engine_presence.retention``), and a prune refuses before it changes anything while a
running engine keeps any kind longer than it would (``0``, for ever, is the longest). Keeping
longer is always allowed: it prunes less. An engine that did not record its periods (a version
from before) is not judged.

With no engine running, the periods of the last engine that started on the store stand in
for theirs (``engine_retention``, kept after it stops): maintenance is done with the engines
stopped, and a prune then took the defaults unchallenged.

The dry run is not refused: it deletes nothing, and an operator runs it exactly to see what a
shorter period would remove. It counts by its own periods and carries the same findings as a
warning (``dry_run_warning``, and ``KeptLonger.to_json`` for ``--json``) saying that the real
prune would be refused, so its counts are never read as what the real prune will do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from integrator.counting import counted
from integrator.errors import IntegratorError
from integrator.lifecycle.retention import Retention
from integrator.presence import describe_engine, running_engines
from integrator.presenters import iso_time
from integrator.settings import SETTINGS
from integrator.store import EnginePresence, Store


@dataclass(frozen=True, slots=True)
class LongerPeriod:
    """One kind a running engine keeps longer: its variable, the engine's days and this
    prune's (``0``: for ever)."""

    variable: str
    engine_days: int
    prune_days: int

    def text(self) -> str:
        return f"{self.variable} is {_days(self.engine_days)} there, {_days(self.prune_days)} here"

    def to_json(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "engine_days": self.engine_days,
            "prune_days": self.prune_days,
        }


@dataclass(frozen=True, slots=True)
class KeptLonger:
    """A running engine (or, ``running`` False, the last one that started on the store, now
    stopped) and each kind it keeps longer than this prune would."""

    engine: EnginePresence
    periods: tuple[LongerPeriod, ...]
    running: bool = True
    zone: tzinfo | None = None
    """The zone its start is said in: the settings' (``INTEGRATOR_TIMEZONE``), as every time the
    command line prints; said in UTC, it read as hours off beside the other times."""

    def text(self) -> str:
        said = ", ".join(p.text() for p in self.periods)
        if not self.running and self.engine.host == UNRECORDED_HOST:
            return f"a version from before engines recorded their periods: {said}"
        if not self.running:
            engine, started = self.engine, iso_time(self.engine.started_at, self.zone)
            return f"pid {engine.pid} on host {engine.host}, started {started}: {said}"
        return f"{describe_engine(self.engine)}: {said}"

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """Identifiers of the engine only (host, pid, address, heartbeat): no patient data."""
        engine = self.engine
        return {
            "engine": {
                "id": engine.id,
                "host": engine.host,
                "pid": engine.pid,
                "http_address": engine.http_address,
                "last_seen": iso_time(engine.heartbeat_at, zone),
            },
            "running": self.running,
            "periods": [p.to_json() for p in self.periods],
        }


class RetentionDisagrees(IntegratorError):
    """A running engine keeps some kind of data longer than this prune would (exit 2)."""

    exit_code = 2

    def __init__(self, found: Sequence[KeptLonger]) -> None:
        kept = "it keeps" if len(found) == 1 else "they keep"
        super().__init__(
            f"{_engines_keep(found)}, so it would prune what {kept} ({_said(found)}). "
            "Run it with the engine's settings (load its settings file: docs/deploy.md), or "
            "change the engine's and restart it first (an engine records its periods as it "
            "starts); nothing was pruned"
        )
        self.engines = tuple(kept.engine for kept in found)


def dry_run_warning(found: Sequence[KeptLonger]) -> str | None:
    """What a dry run says beside its counts when the real prune would be refused; None when
    it would not be. The counts include what those engines keep: the warning says so."""
    if not found:
        return None
    kept = "that engine keeps" if len(found) == 1 else "those engines keep"
    return (
        f"{_engines_keep(found)} ({_said(found)}): the real prune would be refused (exit 2, "
        "nothing pruned). These counts are by this command's periods, so they include what "
        f"{kept}; run it with the engine's settings (load its settings file: "
        "docs/deploy.md) to see what the real prune would remove"
    )


def _engines_keep(found: Sequence[KeptLonger]) -> str:
    if all(kept.running for kept in found):
        keep = "keeps" if len(found) == 1 else "keep"
        return f"{counted(len(found), 'running engine')} {keep} data longer than this prune would"
    return (
        "no engine runs, but the last one that started on this store keeps data longer than "
        "this prune would, and prunes by its own periods when it starts again"
    )


def _said(found: Sequence[KeptLonger]) -> str:
    return "; ".join(kept.text() for kept in found)


UNRECORDED_HOST = ""
"""The host of the last engine that started on a store, as store revision 0038 records it for
a store that held data before engines recorded their periods: that engine is unknown, and what
it kept of each kind is ``KEPT_BEFORE_RECORDED``."""

KEPT_BEFORE_RECORDED = {"unrouted_days": 0}
"""What an engine that recorded its periods without this kind kept of it: a version from
before the kind had a period kept it for ever (events no destination served were never
pruned), so a prune beside such an engine, or after it was the last to start, leaves them."""


def presence_text(retention: Retention) -> str:
    """The periods as an engine's presence row records them."""
    return json.dumps(retention.to_json(), sort_keys=True)


def _days(days: int) -> str:
    """A period as the warning says it: ``0 (for ever)``, ``1 day``, ``90 days``."""
    if days == 0:
        return "0 (for ever)"
    return f"{days} day{'' if days == 1 else 's'}"


def kept_longer(engine: EnginePresence, retention: Retention) -> list[str]:
    """What ``engine`` keeps longer than ``retention``, each as '<VARIABLE> is … there, …
    here'; empty when nothing, or when it did not record its periods (or they do not read)."""
    return [period.text() for period in longer_periods(engine, retention)]


def longer_periods(engine: EnginePresence, retention: Retention) -> list[LongerPeriod]:
    """``kept_longer`` as data: each kind ``engine`` keeps longer, with both periods."""
    if engine.retention is None:
        return []
    try:
        theirs = json.loads(engine.retention)
    except ValueError:
        return []
    if not isinstance(theirs, dict):
        return []
    found = []
    for name, own in retention.to_json().items():
        other = theirs.get(name, KEPT_BEFORE_RECORDED.get(name))
        if not isinstance(other, int) or own == 0 or other == own:
            continue
        if other == 0 or other > own:
            found.append(LongerPeriod(SETTINGS[name], other, own))
    return found


async def engines_keeping_longer(
    store: Store, retention: Retention, *, zone: tzinfo | None = None
) -> list[KeptLonger]:
    """The running engines that keep any kind longer than ``retention``, newest first; with
    none running, the last one that started on the store if it does (its periods are kept
    after it stops: a prune on an upgrade day, every engine stopped, took the defaults)."""
    found = []
    running = await running_engines(store)
    for engine in running:
        periods = longer_periods(engine, retention)
        if periods:
            found.append(KeptLonger(engine, tuple(periods)))
    if not running and (last := await store.last_engine_retention()) is not None:
        periods = longer_periods(last, retention)
        if periods:
            found.append(KeptLonger(last, tuple(periods), running=False, zone=zone))
    return found


async def refuse_if_engines_keep_longer(
    store: Store, retention: Retention, *, zone: tzinfo | None = None
) -> None:
    """Raise ``RetentionDisagrees`` when a running engine keeps any kind longer."""
    found = await engines_keeping_longer(store, retention, zone=zone)
    if found:
        raise RetentionDisagrees(found)
