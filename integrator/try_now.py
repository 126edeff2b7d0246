"""Try now: the next attempt of a message waiting out its retry backoff, made at once.

The receiver was down and is back (the hospital says so on the phone), a referral waits nine
minutes for its next try, and it cannot be resent: a message still in delivery is never resent,
as it would arrive twice. So support makes the waiting retry due now: one message, or every
waiting retry of a destination. It is the same message with the same MSH-10; only its next
attempt comes earlier, made by whichever runner holds it (``integrator.retry_waits``), in this
engine at once and in another within a few seconds. Its attempt count and ``max_attempts`` and
``max_age`` are untouched: nothing is tried more often than the destination allows, only sooner.

The one rule behind the API, the command line and the console, on a store and the destinations
in service (``Where``): the API and the console work in the running engine, whose runner is told
at once; the command line works on the store, and the engines see it at their next look. Who
may: ``messages.resend``
in the destination's cluster (support staff, as for a resend); a message or destination outside
the caller's clusters is answered as an unknown one. Each request is audited under the caller's
identity (``message.try_now``, or ``destination.try_now`` for a destination's), with the ids it
made due, in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from integrator.catalog import Catalog
from integrator.clusters import ClusterScope, OutOfSight
from integrator.engine import Engine
from integrator.errors import PermanentError
from integrator.message_service import MessageNotFound, visible_in_store
from integrator.reasons import bounded
from integrator.refusal import Coded
from integrator.store import Store

NO_DESTINATION: Final = "no destination with that id"


class UnknownDestination(LookupError):
    """No destination with that id, or one outside the caller's clusters: the same answer."""

    def __init__(self) -> None:
        super().__init__(NO_DESTINATION)


class ReasonRefused(PermanentError):
    """The reason is longer than a reason may be (``reason: at most 1000 characters``)."""

    exit_code = 2

    def __init__(self, rule: str) -> None:
        super().__init__(f"reason: {rule}")


class NotWaiting(Coded, ValueError):
    """The named message is not waiting for a retry: there is nothing to bring forward.

    Its text names the status and the rule; the console words it by its code."""

    def __init__(self, status: str) -> None:
        super().__init__(
            f"status: the message is {status}; only a message waiting for its next attempt "
            "(retrying) can be tried now"
        )
        self.status = status
        self.coded("try_now.not_waiting", status=status)


@dataclass(frozen=True, slots=True)
class Where:
    """Where the rule works: the store, the destinations in service (their clusters), the time
    now, and whom to tell at once of a destination's retries made due (None: nobody here; the
    engines see it in the store)."""

    store: Store
    catalog: Catalog
    now: datetime
    made_due: Callable[[str], None] | None = None

    @classmethod
    def engine(cls, engine: Engine) -> Where:
        return cls(engine.store, engine.catalog, engine.clock.now(), engine.retries_made_due)


@dataclass(frozen=True, slots=True)
class TriedNow:
    """What a request made due: the destination, and the messages (none when nothing waited)."""

    destination_id: str
    message_ids: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"destination": self.destination_id, "messages": list(self.message_ids)}


async def try_message_now(
    where: Where,
    scope: ClusterScope,
    message_id: str,
    *,
    reason: str | None = None,
    source: str | None = None,
) -> TriedNow:
    """Make one waiting retry due now. Refusals: ``MessageNotFound`` (unknown or out of
    sight), ``NotPermitted``, ``NotWaiting`` (its status, when it waits for no retry)."""
    message = await visible_in_store(where.store, where.catalog, scope, message_id)
    if message.status != "retrying":
        raise NotWaiting(message.status)
    moved = await _make_due(
        where,
        scope,
        message.destination_id,
        "message.try_now",
        message.id,
        reason,
        source,
        message_id=message.id,
    )
    if not moved:  # its attempt was being made, or its time came, since it was read
        current = await where.store.get_message(message.id)
        raise NotWaiting(current.status if current is not None else message.status)
    return TriedNow(message.destination_id, tuple(moved))


async def try_destination_now(
    where: Where,
    scope: ClusterScope,
    destination_id: str,
    *,
    reason: str | None = None,
    source: str | None = None,
) -> TriedNow:
    """Make every waiting retry of a destination due now; none waiting is no refusal (the
    answer says none). Refusals: ``UnknownDestination``, ``NotPermitted``."""
    if destination_id not in where.catalog.destinations:
        raise UnknownDestination()
    try:
        scope.check_destination(where.catalog, destination_id)
    except OutOfSight:
        raise UnknownDestination() from None
    moved = await _make_due(
        where, scope, destination_id, "destination.try_now", destination_id, reason, source
    )
    return TriedNow(destination_id, tuple(moved))


async def _make_due(
    where: Where,
    scope: ClusterScope,
    destination_id: str,
    action: str,
    target: str,
    reason: str | None,
    source: str | None,
    *,
    message_id: str | None = None,
) -> list[str]:
    bounded(reason, ReasonRefused)
    audit = {
        "actor": scope.actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": {"destination": destination_id, "source": source},
    }
    moved = await where.store.try_retries_now(
        destination_id, now=where.now, audit=audit, message_id=message_id
    )
    if moved and where.made_due is not None:
        where.made_due(destination_id)
    return moved


__all__ = [
    "NO_DESTINATION",
    "MessageNotFound",
    "NotWaiting",
    "ReasonRefused",
    "TriedNow",
    "UnknownDestination",
    "Where",
    "try_destination_now",
    "try_message_now",
]
