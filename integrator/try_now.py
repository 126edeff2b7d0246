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
may: ``messages.resend`` in the destination's cluster (support staff, as for a resend); a
message or destination outside the caller's clusters is answered as an unknown one. Each
request is audited under the caller's identity (``message.try_now``, or
``destination.try_now`` for a destination's), with the ids it made due, in the same
transaction as the change. A request that made nothing due (nothing was waiting, or the named
message's attempt was due already) changed nothing, and is audited all the same, with
``messages`` empty and ``nothing_waiting``: every action an operator takes is in the trail,
also the one that found nothing to do. A paused destination is refused: nothing would attempt
its messages before it is resumed.
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
from integrator.store import MessageFilter, MessageRecord, Store

NO_DESTINATION: Final = "no destination with that id"


class UnknownDestination(LookupError):
    """No destination with that id, or one outside the caller's clusters: the same answer."""

    def __init__(self) -> None:
        super().__init__(NO_DESTINATION)


class ReasonRefused(PermanentError):
    """The reason breaks a reason rule (``integrator.reasons.bounded``): longer than a reason may
    be (``reason: at most 1000 characters``), or writing out a BSN."""

    exit_code = 2

    def __init__(self, rule: str) -> None:
        super().__init__(f"reason: {rule}")


class NotWaiting(Coded, ValueError):
    """The named message waits for no retry: there is nothing to bring forward. Its text says
    the status and what to do instead, where there is something: a queued message held behind
    a retry (fifo) names that one, a dead letter is resent, a delivered one too if the receiver
    lost it. The console words it by its code."""

    def __init__(self, status: str, *, behind: str | None = None) -> None:
        said = f"status: the message's status is {status}; only a message waiting for its next "
        said += "attempt (retrying) can be tried now"
        self.status = status
        if behind is not None:
            super().__init__(f"{said}; it waits behind {behind}: try that one now")
            self.coded("try_now.behind", status=status, behind=behind)
        elif status in ("dead", "delivered"):
            super().__init__(f"{said}; resend it instead")
            self.coded("try_now.resend_instead", status=status)
        else:
            super().__init__(said)
            self.coded("try_now.not_waiting", status=status)


class NotDelivering(Coded, ValueError):
    """The destination attempts nothing now (paused, or no longer configured): a retry made due
    would wait all the same, so nothing is changed and the person is told why."""

    def __init__(self, destination_id: str, *, paused: bool) -> None:
        if paused:
            super().__init__(
                f"destination: {destination_id} is paused: its messages are attempted when it "
                "is resumed"
            )
            self.coded("try_now.paused", destination=destination_id)
        else:
            super().__init__("destination: the message's destination is no longer configured")
            self.coded("try_now.no_destination")


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
    """What a request made due: the destination and the messages (none when nothing waited);
    ``due_already``, a named message whose attempt was due or under way already (a second
    click): nothing to do, and no refusal."""

    destination_id: str
    message_ids: tuple[str, ...]
    due_already: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "destination": self.destination_id,
            "messages": list(self.message_ids),
            "due_already": list(self.due_already),
        }


async def try_message_now(
    where: Where,
    scope: ClusterScope,
    message_id: str,
    *,
    reason: str | None = None,
    source: str | None = None,
) -> TriedNow:
    """Make one waiting retry due now. Refusals: ``MessageNotFound`` (unknown or out of
    sight), ``NotPermitted``, ``NotWaiting`` (its status, when it waits for no retry),
    ``NotDelivering`` (its destination is paused or gone)."""
    message = await visible_in_store(where.store, where.catalog, scope, message_id)
    if message.status != "retrying":
        raise NotWaiting(message.status, behind=await _held_behind(where, message))
    _check_delivering(where, message.destination_id)
    asked = _Asked(where, scope, message.destination_id, "message.try_now", message.id, reason)
    moved = await asked.make_due(source, message_id=message.id)
    if moved:
        return TriedNow(message.destination_id, tuple(moved))
    current = await where.store.get_message(message.id)
    if current is not None and current.status == "retrying":  # due, or its attempt under way
        await asked.audit_nothing_waiting(source, due_already=[message.id])
        return TriedNow(message.destination_id, (), due_already=(message.id,))
    raise NotWaiting(current.status if current is not None else message.status)


async def try_destination_now(
    where: Where,
    scope: ClusterScope,
    destination_id: str,
    *,
    reason: str | None = None,
    source: str | None = None,
) -> TriedNow:
    """Make every waiting retry of a destination due now; none waiting is no refusal (the
    answer says none). Refusals: ``UnknownDestination``, ``NotPermitted``, ``NotDelivering``
    (paused)."""
    if destination_id not in where.catalog.destinations:
        raise UnknownDestination()
    try:
        scope.check_destination(where.catalog, destination_id)
    except OutOfSight:
        raise UnknownDestination() from None
    _check_delivering(where, destination_id)
    asked = _Asked(where, scope, destination_id, "destination.try_now", destination_id, reason)
    moved = await asked.make_due(source)
    if not moved:
        await asked.audit_nothing_waiting(source)
    return TriedNow(destination_id, tuple(moved))


def _check_delivering(where: Where, destination_id: str) -> None:
    config = where.catalog.destinations.get(destination_id)
    if config is None:
        raise NotDelivering(destination_id, paused=False)
    if not config.enabled:
        raise NotDelivering(destination_id, paused=True)


async def _held_behind(where: Where, message: MessageRecord) -> str | None:
    """The retry a queued message of a fifo destination waits behind, if any: what to try."""
    config = where.catalog.destinations.get(message.destination_id)
    if message.status != "queued" or config is None or config.ordering != "fifo":
        return None
    retrying = await where.store.list_messages(
        MessageFilter(destination_id=message.destination_id, status="retrying"), limit=1
    )
    return retrying[0].id if retrying else None


@dataclass(frozen=True, slots=True)
class _Asked:
    """One try-now request and its audit entry's facts: written with the retries it made due,
    in their transaction, or alone when it made none due."""

    where: Where
    scope: ClusterScope
    destination_id: str
    action: str
    target: str
    reason: str | None

    def _details(self, source: str | None, **more: object) -> dict[str, object]:
        return {"destination": self.destination_id, "source": source, **more}

    async def make_due(self, source: str | None, *, message_id: str | None = None) -> list[str]:
        bounded(self.reason, ReasonRefused)
        where = self.where
        audit = {
            "actor": self.scope.actor,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "details": self._details(source),
        }
        moved = await where.store.try_retries_now(
            self.destination_id, now=where.now, audit=audit, message_id=message_id
        )
        if moved and where.made_due is not None:
            where.made_due(self.destination_id)
        return moved

    async def audit_nothing_waiting(self, source: str | None, **more: object) -> None:
        """Record a request that made nothing due, as the caller's: nothing changed, so no
        transaction holds a change to record it with, but the action was taken, and the trail
        says who took it and that nothing was waiting."""
        details = self._details(source, messages=[], nothing_waiting=True, **more)
        await self.where.store.add_audit(
            self.scope.actor, self.action, self.target, reason=self.reason, details=details
        )


__all__ = [
    "NO_DESTINATION",
    "MessageNotFound",
    "NotDelivering",
    "NotWaiting",
    "ReasonRefused",
    "TriedNow",
    "UnknownDestination",
    "Where",
    "try_destination_now",
    "try_message_now",
]
