"""The figures of the console's dashboard, one tile per destination, from the service layer.

What ``integrator destinations list`` and ``GET /api/v1/destinations`` show (state, counts by
status, open dead letters, from ``DestinationAdmin.summaries``) plus what an operator watching
the engine asks next: how long the oldest waiting message has waited, what the receiver last
answered, how the last hour went, and whether a message version it uses is near its sunset.
Every figure is read from the store through its existing methods; nothing here is specific to
a web page, so a CLI or API view of the same tiles would call this too. They are asked at every
refresh of every open dashboard: the oldest waiting message is ``Store.oldest_waiting_at``, one
index look-up per waiting status, as the first of ``pending_messages`` walked the destination's
whole history to find it.

"The last hour" counts the messages *made* in the last hour by where they are now: delivered,
or dead (given up). Such counts stop at ``HOUR_CAP`` (shown as "1000+"): a dashboard needs to
tell a normal hour from a bad one, not an exact figure that costs a scan of a busy table.

"Last attempt" (``integrator.last_attempt``): when delivery last tried, what came of it and
why it failed. It is the last of the attempts "last ACK" reads already, so it costs the
refresh no read of its own.

"Dead letters" are the open ones (``deadletter.count_open_dead_letters``, counted once for all
tiles): those the dead letters page lists, not every message whose status is ``dead``. A dead
letter resent and delivered, or discarded, needs nobody any more; a tile that still counted it
would have support resend it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from integrator.engine import Engine
from integrator.last_attempt import LastAttempt, answered_attempts, last_of
from mappings.registry import REGISTRY

HOUR_CAP: Final = 1000
_PENDING: Final = ("queued", "sending", "retrying")


@dataclass(frozen=True, slots=True)
class VersionNotice:
    """A message version of the destination that is deprecated (with days left) or retired."""

    event_type: str
    version: str
    status: str  # "deprecated" or "retired"
    days_left: int | None
    successor: str | None


@dataclass(frozen=True, slots=True)
class DestinationTile:
    id: str
    name: str | None
    cluster: str | None
    state: str  # "active", "paused" or "broken"
    waiting: int
    oldest_waiting_at: datetime | None
    last_ack_code: str | None
    last_ack_at: datetime | None
    last_attempt: LastAttempt | None
    delivered_last_hour: int
    failed_last_hour: int
    dead: int  # open dead letters: what the dead letters page lists for it
    held: int
    notices: tuple[VersionNotice, ...]

    def waited(self, now: datetime) -> timedelta | None:
        """How long the oldest waiting message has waited at ``now``."""
        return now - self.oldest_waiting_at if self.oldest_waiting_at is not None else None


async def destination_tiles(
    engine: Engine, visible: Callable[[str | None], bool]
) -> list[DestinationTile]:
    """A tile for each destination whose cluster ``visible`` accepts (``Scope.allows``)."""
    now = engine.clock.now()
    today = engine.today()
    # One count of the last hour for every tile: per tile and status, each count walked the
    # destination's whole history of that status (``Store.count_made_since``).
    hour = await engine.store.count_made_since(now - timedelta(hours=1))
    tiles = []
    for row in await engine.admin.summaries():
        if not visible(row["cluster"]):
            continue
        tiles.append(await _tile(engine, row, hour.get(str(row["id"]), {}), today))
    return tiles


async def unrouted_events(engine: Engine) -> int:
    """Events that no destination served when they arrived (``integrator events route``)."""
    return sum((await engine.store.count_unrouted_events()).values())


async def _tile(
    engine: Engine, row: dict[str, object], hour: dict[str, int], today: date
) -> DestinationTile:
    """``hour``: the destination's messages made in the last hour, by status."""
    store = engine.store
    dest_id = str(row["id"])
    counts = row["counts"]
    assert isinstance(counts, dict)
    oldest_at = await store.oldest_waiting_at(dest_id)
    attempts = await answered_attempts(store, dest_id)
    acked = [a for a in attempts if a.ack_code]
    last_ack = acked[-1] if acked else None
    # Counted, not listed: listing read up to HOUR_CAP whole messages (payloads unsealed) twice
    # per destination at every poll of every open dashboard, to take their number.
    delivered = hour.get("delivered", 0)
    # Died in the hour, resolved since or not: a discarded dead letter is ``cancelled``.
    failed = hour.get("dead", 0) + hour.get("cancelled", 0)
    messages = row["messages"]
    assert isinstance(messages, dict)
    dead_letters = row["dead_letters"]
    assert isinstance(dead_letters, int)
    return DestinationTile(
        id=dest_id,
        name=str(row["name"]) if row["name"] is not None else None,
        cluster=str(row["cluster"]) if row["cluster"] is not None else None,
        state=str(row["state"]),
        waiting=sum(int(counts.get(s, 0)) for s in _PENDING),
        oldest_waiting_at=oldest_at,
        last_ack_code=last_ack.ack_code if last_ack else None,
        last_ack_at=last_ack.started_at if last_ack else None,
        last_attempt=last_of(attempts),
        delivered_last_hour=min(delivered, HOUR_CAP),
        failed_last_hour=min(failed, HOUR_CAP),
        dead=dead_letters,
        held=int(counts.get("held", 0)),
        notices=tuple(_notices(messages, today)),
    )


def _notices(messages: dict[str, str], today: date) -> list[VersionNotice]:
    notices = []
    for event_type, name in sorted(messages.items()):
        version = REGISTRY.get(name)
        if version is None or version.sunset is None:
            continue
        status = version.status_on(today)
        if status not in ("deprecated", "retired"):
            continue
        days = (version.sunset - today).days if status == "deprecated" else None
        notices.append(VersionNotice(event_type, name, status, days, version.successor))
    return notices
