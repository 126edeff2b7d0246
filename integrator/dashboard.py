"""The figures of the console's dashboard, one tile per destination, from the service layer.

What ``integrator destinations list`` and ``GET /api/v1/destinations`` show (state, counts by
status, open dead letters, from ``DestinationAdmin.summaries``) plus what an operator watching
the engine asks next: how long the oldest waiting message has waited, what the receiver last
answered, how the last hour went, and whether a message version it uses is near its sunset.
Every figure is read from the store through its existing methods; nothing here is specific to a
web page, so a CLI or API view of the same tiles would call this too. They are asked at every
refresh of every open dashboard: the oldest waiting message is ``Store.oldest_waiting``, one
index look-up per waiting status, as the first of ``pending_messages`` walked the destination's
whole history to find it; each such read is one statement for all the tiles, not one a tile
(200 destinations were 600 statements a refresh); the counts by status are those of the waiting
and held messages only (``DestinationAdmin.summaries``' ``counted``), and only of the
destinations the person may see.

"The last hour" counts the messages *made* in the last hour by where they are now: delivered,
or dead (given up). Such counts stop at ``HOUR_CAP`` (shown as "1000+"): a dashboard needs to
tell a normal hour from a bad one, not an exact figure that costs a scan of a busy table.

"Last attempt" (``integrator.last_attempt``): when delivery last tried, what came of it and
why it failed: the last attempt of the newest message the receiver was asked for
(``Store.last_attempts``, as the destinations listing reads it). "Last ACK" is that attempt's,
or, when it got none, the last ACK among that message's earlier attempts.

"Dead letters" are the open ones (``deadletter.count_open_dead_letters``, counted once for all
tiles): those the dead letters page lists, not every message whose status is ``dead``. A dead
letter resent and delivered, or discarded, needs nobody any more; a tile that still counted it
would have support resend it again.

A destination removed (or its file deleted by hand) has no tile, but the dead letters its
removal made still need support, who may resend them to another destination or discard them:
the dashboard names those of the reader's clusters beside the tiles (``removed_dead_letters``),
each linked to its dead letters, from the same count as the tiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from deadletter.letters import count_open_dead_letters
from integrator.clusters import cluster_of
from integrator.engine import Engine
from integrator.last_attempt import LastAttempt, said
from integrator.store import PENDING_STATUSES, MessageStatus
from integrator.store.last_attempts import DestinationAttempts
from mappings.registry import REGISTRY

HOUR_CAP: Final = 1000
_COUNTED: Final = (*PENDING_STATUSES, MessageStatus.HELD)


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


@dataclass(frozen=True, slots=True)
class Tiles:
    """The dashboard's figures: a tile per destination, and the open dead letters of the
    destinations no tile shows (removed, or their file deleted), by id."""

    tiles: list[DestinationTile]
    removed_dead_letters: dict[str, int]


async def destination_tiles(
    engine: Engine, visible: Callable[[str | None], bool]
) -> list[DestinationTile]:
    """A tile for each destination whose cluster ``visible`` accepts (``Scope.allows``)."""
    return (await dashboard_figures(engine, visible)).tiles


async def dashboard_figures(engine: Engine, visible: Callable[[str | None], bool]) -> Tiles:
    """``destination_tiles``, and the open dead letters of the removed destinations whose
    cluster ``visible`` accepts (a removed destination lies in the cluster it was last in:
    ``integrator.clusters``), from one count of the open dead letters."""
    now = engine.clock.now()
    today = engine.today()
    # One count of the last hour for every tile: per tile and status, each count walked the
    # destination's whole history of that status (``Store.count_made_since``).
    hour = await engine.store.count_made_since(now - timedelta(hours=1))
    catalog = await engine.admin.catalog()
    dead_letters = await count_open_dead_letters(engine.store)
    rows = await engine.admin.summaries(
        catalog,
        # Another cluster's destinations are not counted at all, and of the rest only what a
        # tile shows: what waits and what is held, not the delivered history.
        shown=lambda destination_id: visible(cluster_of(catalog, destination_id)),
        counted=_COUNTED,
        dead_letters=dead_letters,
    )
    ids = [str(row["id"]) for row in rows]
    oldest = await engine.store.oldest_waiting(ids)
    lasts = await engine.store.last_attempts(ids)
    tiles = [
        await _tile(
            engine, row, hour.get(dest_id, {}), oldest.get(dest_id), lasts.get(dest_id), today
        )
        for dest_id, row in zip(ids, rows, strict=True)
    ]
    removed = {
        dest_id: count
        for dest_id, count in sorted(dead_letters.items())
        if count and dest_id not in catalog.sources and visible(cluster_of(catalog, dest_id))
    }
    return Tiles(tiles, removed)


async def unrouted_events(engine: Engine) -> int:
    """Events that no destination served when they arrived (``integrator events route``)."""
    return sum((await engine.store.count_unrouted_events()).values())


async def _tile(
    engine: Engine,
    row: dict[str, object],
    hour: dict[str, int],
    oldest_at: datetime | None,
    read: DestinationAttempts | None,
    today: date,
) -> DestinationTile:
    """``hour``: the destination's messages made in the last hour, by status. ``read``: its
    last attempt, as ``Store.last_attempts`` read it for every tile."""
    dest_id = str(row["id"])
    counts = row["counts"]
    assert isinstance(counts, dict)
    last = read.last if read is not None else None
    last_ack = last
    if last is not None and not last.ack_code:
        # No ACK the last time (a timeout, a refused connection): the last ACK is an earlier
        # attempt's of the same message, if any. Read for such a tile alone, by the message
        # the batched read already found.
        acked = [a for a in await engine.store.list_attempts(last.message_id) if a.ack_code]
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
        waiting=sum(int(counts[s]) for s in PENDING_STATUSES),
        oldest_waiting_at=oldest_at,
        last_ack_code=last_ack.ack_code if last_ack else None,
        last_ack_at=last_ack.started_at if last_ack else None,
        last_attempt=said(last) if last is not None else None,
        delivered_last_hour=min(delivered, HOUR_CAP),
        failed_last_hour=min(failed, HOUR_CAP),
        dead=dead_letters,
        held=int(counts[MessageStatus.HELD]),
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
