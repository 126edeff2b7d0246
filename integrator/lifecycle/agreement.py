"""A prune prunes only what every running engine would: no shorter periods than theirs.

The retention periods are read from each process's own environment. ``integrator prune`` run
from a shell that had not loaded the engine's settings file took the defaults (payloads 90
days) and emptied what an engine set to keep a year still kept, for support to resend: lost in
silence, since the command only said what it pruned by its own periods. Engines sharing a
store with different periods did the same to each other through the daily prune, whichever won
the day's turn. So each engine records its periods beside its heartbeat
(``engine_presence.retention``), and a prune, the dry run too, refuses before it changes
anything while a running engine keeps any kind longer than it would (``0``, for ever, is the
longest). Keeping longer is always allowed: it prunes less. An engine that did not record its
periods (a version from before) is not judged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from integrator.errors import IntegratorError
from integrator.lifecycle.retention import Retention
from integrator.presence import describe_engine, running_engines
from integrator.settings import SETTINGS
from integrator.store import EnginePresence, Store


class RetentionDisagrees(IntegratorError):
    """A running engine keeps some kind of data longer than this prune would (exit 2)."""

    exit_code = 2

    def __init__(self, found: Sequence[tuple[EnginePresence, list[str]]]) -> None:
        said = "; ".join(f"{describe_engine(engine)}: {', '.join(why)}" for engine, why in found)
        super().__init__(
            f"{len(found)} running engine(s) keep data longer than this prune would, so it "
            f"would prune what they keep ({said}). Run it with the engine's settings (load its "
            "settings file: docs/deploy.md), or change the engine's and restart it first; "
            "nothing was pruned"
        )
        self.engines = tuple(engine for engine, _ in found)


def presence_text(retention: Retention) -> str:
    """The periods as an engine's presence row records them."""
    return json.dumps(retention.to_json(), sort_keys=True)


def _days(days: int) -> str:
    return "0 (for ever)" if days == 0 else f"{days} days"


def kept_longer(engine: EnginePresence, retention: Retention) -> list[str]:
    """What ``engine`` keeps longer than ``retention``, each as '<VARIABLE> is … there, …
    here'; empty when nothing, or when it did not record its periods (or they do not read)."""
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
        other = theirs.get(name)
        if not isinstance(other, int) or own == 0 or other == own:
            continue
        if other == 0 or other > own:
            found.append(f"{SETTINGS[name]} is {_days(other)} there, {_days(own)} here")
    return found


async def refuse_if_engines_keep_longer(store: Store, retention: Retention) -> None:
    """Raise ``RetentionDisagrees`` when a running engine keeps any kind longer."""
    found = []
    for engine in await running_engines(store):
        why = kept_longer(engine, retention)
        if why:
            found.append((engine, why))
    if found:
        raise RetentionDisagrees(found)
