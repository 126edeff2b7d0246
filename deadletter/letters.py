"""Reading and discarding dead letters through the store interface.

Nothing here keeps state of its own: a dead letter *is* a message with status ``dead``, its
attempts and its ``last_error``, so the store stays the one place to look. It stays ``dead`` for
good (its history is true); whether it still needs support is read from its resend family: once
a later resend was delivered it is *resolved* (``deadletter.family``) and listings leave it out
unless asked. Errors are part of the engine's tree (``PermanentError``, exit code 2): each one
means the operator asked for something that cannot be done as asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from deadletter.family import IN_DELIVERY, OPEN, Families, Resolution
from integrator.ack_reason import short_reason
from integrator.errors import PermanentError
from integrator.presenters import iso_time, shown_time
from integrator.reasons import (
    HOLDS_BSN,
    HOLDS_BSN_CODE,
    MAX_REASON,
    TOO_LONG,
    TOO_LONG_CODE,
    required,
)
from integrator.refusal import Note
from integrator.store import (
    AttemptRecord,
    AuditedStatus,
    AuditFilter,
    MessageFilter,
    MessageRecord,
    StatusChanged,
    Store,
)
from integrator.store.jobs import DISCARD_ACTION, JOB_DETAIL


class DeadLetterError(PermanentError):
    exit_code = 2


class RefusedValue(DeadLetterError):
    """A refusal of a value the caller sent (a message id, a target, a mode, a reason).

    Its text is ``field: rule``, the field as the API's body names it, and never holds the
    value: that may be a BSN or a name pasted into the wrong place, and the API's answers, the
    console's pages and log lines must not repeat it (``integrator.http.errors``). The console
    reads ``field`` and ``rule`` (``integrator.console.refusals.said``); the server's command
    line names the field as its option and says ``named_rule``, which names the value only
    when it is a well-formed id (its user typed it, and an id is no patient data), as
    ``search.BadSearch`` keeps its field and rule apart for each front door.
    """

    def __init__(self, field: str, rule: str, given: str | None = None) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        self.given = given

    def named_rule(self, option: str) -> str:
        """The rule as the command line says it, ``option`` being its name of the field; a
        refusal whose value may be named says it here. By default the rule itself."""
        return self.rule


class RefusedReason(RefusedValue):
    """A resend's or a discard's reason refused by one of the reason rules (``checked_reason``):
    missing, too long, or writing out a BSN. One type for the front doors that show the
    refusal beside the reason's field and keep the rest of the form (the console's
    confirmations): a rule added later is caught there too, where a list of them left the new
    one (the BSN) a 500."""


class ReasonTooLong(RefusedReason):
    """A reason longer than ``MAX_REASON`` characters: the audit trail keeps reasons, not
    documents, and every front door takes the same at most (``integrator.reasons``)."""

    def __init__(self) -> None:
        super().__init__("reason", TOO_LONG)
        self.coded(TOO_LONG_CODE, max_length=MAX_REASON)


class ReasonHoldsBsn(RefusedReason):
    """A reason that writes out a BSN: patient data in the audit trail, where those who read it
    may not see it (``integrator.reasons.HOLDS_BSN``)."""

    def __init__(self) -> None:
        super().__init__("reason", HOLDS_BSN)
        self.coded(HOLDS_BSN_CODE)


def checked_reason(reason: str | None) -> str:
    """A resend's or a discard's reason without its outer blanks: ``MissingReason`` when it is
    blank, ``ReasonTooLong`` when it is longer than ``MAX_REASON`` as given (as the API's body
    and the console's form count it)."""
    return required(reason, _refused_reason, missing=MissingReason.RULE)


def _refused_reason(rule: str) -> DeadLetterError:
    """The reason rules (``integrator.reasons.required``) in this package's own refusals."""
    if rule == TOO_LONG:
        return ReasonTooLong()
    return ReasonHoldsBsn() if rule == HOLDS_BSN else MissingReason()


class UnknownDeadLetter(DeadLetterError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"no message with id {message_id}")
        self.coded("message.unknown", id=message_id)


class ChangedMeanwhile(DeadLetterError):
    """The dead letter or its chain kept changing while it was being discarded; nothing was."""

    def __init__(self, message_id: str) -> None:
        super().__init__(
            f"dead letter {message_id} changed while it was being discarded; nothing was "
            "discarded: look at it again"
        )


class NotADeadLetter(DeadLetterError):
    """A message named as a dead letter that is none. A discarded one (``cancelled``: only
    ``deadletter resend`` refuses it, every other dead-letter service takes it) is said as the
    listings say it, discarded, with the way it is sent again after all: by its id, as any
    message (``integrator resend``); "is cancelled, not dead" left support with no way on."""

    def __init__(self, message_id: str, status: str) -> None:
        said = f"message {message_id} is {status}, not dead"
        if status == "cancelled":
            said = (
                f"message {message_id} was discarded (status cancelled), so it is no dead "
                f"letter to resend; to send it after all, resend it as any message: "
                f"integrator resend {message_id}"
            )
        super().__init__(said)
        self.coded("deadletter.not_dead", id=message_id, status=status)


class AlreadyResolved(DeadLetterError):
    """A discard of a dead letter that needs none any more: it was discarded already, or a
    later resend of it was delivered. Nothing is changed.

    Not bad input (the id is right; the letter moved on since it was looked at), so exit code 1
    like a resend that skips what it was asked for; the API answers 409. ``how`` says which
    (``discarded`` or ``delivered``), ``by`` who discarded it or the resend that got through,
    ``at`` when, where the store still knows (an audit entry pruned by retention takes it).
    ``explain(zone)`` gives the text with the time in a zone (the CLI's
    ``INTEGRATOR_TIMEZONE``); ``str()`` gives it in UTC. ``destination``: where the resend
    that got through went; ``seen_by`` words it for a reader who may not see that one.
    """

    exit_code = 1

    def __init__(
        self,
        message_id: str,
        how: str,
        by: str | None,
        at: datetime | None,
        *,
        destination: str | None = None,
    ) -> None:
        self.message_id = message_id
        self.how = how
        self.by = by
        self.at = at
        self.destination = destination
        super().__init__(self.explain(None))
        if how == "delivered" and by is None:
            self.coded("deadletter.resolved_delivered_outside", id=message_id)
        elif how == "delivered":
            self.coded("deadletter.resolved_delivered", id=message_id, by=by)
        else:
            self.coded("deadletter.resolved_discarded", id=message_id, by=by or "?")

    def seen_by(self, seen: Collection[str] | None) -> AlreadyResolved:
        """This refusal for a reader who may see the destinations ``seen`` (None: all): a
        resend to one outside them is not named (its id is as unknown to them as the
        message), only that one to another cluster got through."""
        if seen is None or self.how != "delivered" or self.destination in seen:
            return self
        return AlreadyResolved(self.message_id, self.how, None, self.at)

    def explain(self, zone: tzinfo | None) -> str:
        when = f" at {shown_time(self.at, zone)}" if self.at is not None else ""
        if self.how == "delivered" and self.by is None:
            done = f"a resend of it to a destination outside your clusters was delivered{when}"
        elif self.how == "delivered":
            done = f"its resend {self.by} was delivered{when}"
        else:
            done = "discarded" + (f" by {self.by}" if self.by else "") + when
        return f"dead letter {self.message_id} was already resolved: {done}; nothing was changed"


class MissingReason(RefusedReason):
    """No reason, or one of blanks: named by its field (``reason: …``), as every other route's
    refusal of a field is."""

    RULE = "a reason is required (it goes into the audit log)"

    def __init__(self) -> None:
        super().__init__("reason", self.RULE)
        self.coded("reason.required")


@dataclass(frozen=True, slots=True)
class Discarded:
    """Who discarded a dead letter and when (``deadletter.discard``).

    ``at`` is the message's last change of status, which the discard was (nothing changes a
    ``cancelled`` message after; retention sets ``pruned_at``, not that); ``by`` is the actor of
    its audit entry, None once retention pruned the entry (the audit trail has its own period);
    ``reason`` why, as given to the discard (its audit entry's reason), None likewise.
    ``died``: when it died, as the entry recorded it (``died_at``): the discard overwrote it on
    the message, and support asks when it died as much as when it was discarded; None likewise.
    """

    by: str | None
    at: datetime
    reason: str | None = None
    died: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead message with its history; ``reason`` is the last error the worker recorded.

    ``discarded``: set for one discarded since (status ``cancelled``), which only a listing of
    the resolved ones too shows (``list_dead_letters(include_resolved=True)``).
    """

    message: MessageRecord
    attempts: tuple[AttemptRecord, ...]
    resolution: Resolution = OPEN
    discarded: Discarded | None = None
    # Where the message it resends went (``message.resend_of``): a reader outside that
    # destination's cluster is not told which message it was.
    origin_destination: str | None = None

    @property
    def resolved(self) -> bool:
        return self.resolution.state == "resolved"

    @property
    def state(self) -> str:
        """``discarded`` for one discarded, else its resolution's state (``open``,
        ``resending``, ``resolved``): a discard settles it whatever was resent after."""
        return "discarded" if self.discarded is not None else self.resolution.state

    @property
    def reason(self) -> str | None:
        return self.message.last_error

    @property
    def last_attempt(self) -> AttemptRecord | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def last_ack(self) -> AttemptRecord | None:
        """The last attempt that got an answer at all: an ACK code, or bytes (an answer too
        malformed to have a code).

        Not by its bytes alone: retention empties the bytes of a pruned letter's attempts and
        keeps each code (docs/operators.md), and its listings must still say AR. Its
        ``ack_bytes`` may so be None (nothing left to show as received)."""
        for attempt in reversed(self.attempts):
            if attempt.ack_code is not None or attempt.ack_bytes is not None:
                return attempt
        return None


async def list_dead_letters(
    store: Store,
    *,
    destination_id: str | None = None,
    limit: int = 100,
    include_resolved: bool = False,
    destination_ids: frozenset[str] | None = None,
    died_since: datetime | None = None,
    died_until: datetime | None = None,
) -> list[DeadLetter]:
    """Dead letters, newest first; the resolved ones only with ``include_resolved``.

    Resolved means support need not act on it any more: a later resend of it was delivered, or
    it was discarded (``cancelled``, ``DeadLetter.discarded`` saying by whom and when), as
    ``discard`` refuses both as "already resolved".

    The store leaves the resolved ones out itself (``MessageFilter.unresolved_only``), so
    ``limit`` counts the letters shown and a hundred resolved ones never hide an older one that
    still needs support, nor are read at all.
    ``destination_ids`` limits them to those destinations (None: all). ``died_since`` and
    ``died_until`` (UTC; inclusive, exclusive) are a period on when each died: the message's
    last change of status (``dead_since`` in the listings), which nothing changes after. For
    a discarded one that change is its discard (when it died is in its audit entry), so the period
    selects it by when it was discarded.
    """
    flt = MessageFilter(
        status=None if include_resolved else "dead",
        statuses=("dead", "cancelled") if include_resolved else None,
        destination_id=destination_id,
        destination_ids=destination_ids,
        changed_since=died_since,
        changed_until=died_until,
        unresolved_only=not include_resolved,
    )
    listed = await store.list_messages(flt, limit=limit, payloads=False)
    families = await Families.load(store, [m.id for m in listed])
    found = [(message, families.resolution(message.id)) for message in listed]
    tried = await store.attempts_of([message.id for message in listed])
    return [
        DeadLetter(
            message,
            tuple(tried[message.id]),
            resolution,
            await _discarded(store, message) if message.status == "cancelled" else None,
            families.destination_of(message.resend_of),
        )
        for message, resolution in found
        # One resolved between the two reads is left out too.
        if include_resolved or resolution.state != "resolved"
    ]


async def _discarded(store: Store, message: MessageRecord) -> Discarded:
    """Who discarded ``message`` and why (its audit entry's actor and reason, while the trail
    keeps the entry), when (its last change, the discard) and when it died (the entry's
    ``dead_since``, as ``died_at`` reads it)."""
    entries = await store.list_audit(AuditFilter(action=DISCARD_ACTION, target=message.id), limit=1)
    if not entries:
        return Discarded(None, message.updated_at)
    entry = entries[0]
    return Discarded(entry.actor, message.updated_at, entry.reason, _recorded_death(entry.details))


async def discard_of(store: Store, message: MessageRecord) -> Discarded | None:
    """Who discarded ``message``, when and why; None for a message not discarded (only a
    discard makes a message ``cancelled``). What a message's page and ``messages show`` tell
    of a discarded one, without reading it again as a dead letter."""
    return await _discarded(store, message) if message.status == "cancelled" else None


async def count_open_dead_letters(
    store: Store, *, died_since: datetime | None = None, died_until: datetime | None = None
) -> dict[str, int]:
    """How many dead letters still need support per destination: exactly those that
    ``list_dead_letters`` lists without ``include_resolved`` (dead, and no later resend of
    theirs delivered; a discarded one is ``cancelled``, so not dead any more). Destinations
    with none are left out. ``died_since``/``died_until``: only those that died in that
    period, as ``list_dead_letters`` takes it (so a page that shows part of them can say of
    how many).

    The one count of them: the metric ``integrator_dead_letters``, the dashboard's tiles and
    ``destinations list`` (through ``DestinationAdmin.summaries``) all read it, so a figure
    never says 2 where the dead letters page lists 1. One grouped query whatever the number of
    destinations, which reads no family (``Store.open_dead_letter_counts``): what a scrape or
    a dashboard poll costs follows the dead letters kept, not the history of resends.
    """
    return await store.open_dead_letter_counts(died_since=died_since, died_until=died_until)


async def get_dead_letter(store: Store, message_id: str) -> DeadLetter:
    """One dead letter, resolved or not: also one discarded since (``cancelled``), with who
    discarded it, when and why (``DeadLetter.discarded``), as ``list_dead_letters`` lists it
    with the resolved ones. Any other message is ``NotADeadLetter``."""
    message = await store.get_message(message_id)
    if message is None:
        raise UnknownDeadLetter(message_id)
    if message.status not in ("dead", "cancelled"):
        raise NotADeadLetter(message_id, message.status)
    families = await Families.load(store, [message_id])
    return DeadLetter(
        message,
        tuple(await store.list_attempts(message_id)),
        families.resolution(message_id),
        await _discarded(store, message) if message.status == "cancelled" else None,
        families.destination_of(message.resend_of),
    )


async def discard(
    store: Store,
    message_id: str,
    *,
    actor: str,
    reason: str,
    source: str | None = None,
    job_id: str | None = None,
) -> DiscardPlan:
    """Close a dead letter as ``cancelled`` with its resend chain: audited, history kept.

    The chain (``plan_discard``) is the other open dead letters of the same message to the same
    destination: a dead letter that was resent and whose resend died too. Closing one alone
    would leave the other open (and ``deadletter resend --all`` would send the message again),
    so they are closed together, each with an audit entry of its own that names the others; the
    asked one's entry also names what stays open and why. All of it in one transaction.
    ``source``: the client's address, when the request came through the API. ``job_id``: the
    batch job discarding it, named in the asked one's entry (``JOB_DETAIL``): what the job's
    ``done`` is counted from after its engine died.

    One that was resolved already (discarded before, or a later resend of it delivered) is
    refused with ``AlreadyResolved``, saying how and when: the one service the CLI, the API and
    the console call, so each says the same.
    """
    reason = checked_reason(reason)
    for _ in range(DISCARD_TRIES):
        plan = await plan_discard(store, message_id)  # refuses one resolved since
        try:
            await _close(store, plan, actor=actor, reason=reason, source=source, job_id=job_id)
        except StatusChanged:
            continue  # changed since it was planned (discarded, resent): planned again
        return plan
    raise ChangedMeanwhile(message_id)


DISCARD_TRIES = 3
"""Plans made again when the store changed under one: two people discarding the same dead
letter at once, a chain member resent meanwhile. The second plan refuses what is resolved."""


async def _close(
    store: Store,
    plan: DiscardPlan,
    *,
    actor: str,
    reason: str,
    source: str | None,
    job_id: str | None = None,
) -> None:
    """Close the plan's letter and chain, each still dead, with their audit entries. Only the
    asked one's entry names ``job_id``: one entry per dead letter the job was asked to discard
    and did (the chain's entries name that one, ``discarded_with``)."""
    where = {"source": source} if source is not None else {}
    by_job = {JOB_DETAIL: job_id} if job_id is not None else {}
    asked = plan.letter.message
    changes = [
        AuditedStatus(
            asked.id,
            asked.last_error,
            {
                **_facts(asked),
                "with_chain": [m.id for m in plan.chain],
                "left_open": [s.to_json() for s in plan.stays_open],
                **where,
                **by_job,
            },
        ),
        *(
            AuditedStatus(m.id, m.last_error, {**_facts(m), "discarded_with": asked.id, **where})
            for m in plan.chain
        ),
    ]
    await store.set_statuses_audited(
        changes,
        "cancelled",
        actor=actor,
        action=DISCARD_ACTION,
        reason=reason,
        from_status="dead",
    )


@dataclass(frozen=True)
class EachDiscarded:
    """What a batch discard did (or would do) to one selected dead letter: ``plan`` when it
    was discarded with its chain, ``refused`` when it was not (resolved or discarded since it
    was selected), ``with_chain_of`` when an earlier one of the batch closed it already."""

    message_id: str
    plan: DiscardPlan | None = None
    refused: DeadLetterError | None = None
    with_chain_of: str | None = None

    def to_json(self, *, dry_run: bool, seen: Collection[str] | None = None) -> dict[str, Any]:
        """One entry of a batch discard's answer (the API's dry run and job). ``seen``: the
        destinations the reader may see (None: all); what stays open elsewhere, and a resend
        elsewhere that resolved a refused one, are named only there."""
        entry: dict[str, Any] = {
            "id": self.message_id,
            "discarded": [],
            "resend_chain": [],
            "stays_open": [],
            "with_chain_of": self.with_chain_of,
            "note": None,
        }
        if self.refused is not None:
            refused = self.refused
            if isinstance(refused, AlreadyResolved):
                refused = refused.seen_by(seen)
            return {
                **entry,
                "outcome": "would skip" if dry_run else "skipped",
                "note": str(refused),
            }
        done = "would discard" if dry_run else "discarded"
        if self.plan is None:  # closed by the chain of an earlier one of the batch
            note = f"in the resend chain of {self.with_chain_of}; discarded with it"
            return {**entry, "outcome": done, "note": note}
        return {**entry, **self.plan.to_json(seen), "outcome": done}


ASK_EVERY = 100
"""How many discards a job makes between two asks whether its starter still may (a read of a
token or a person each): a fraction of a second's work."""


async def discard_each(
    store: Store,
    message_ids: Sequence[str],
    *,
    actor: str,
    reason: str | None,
    dry_run: bool = False,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
    job_id: str | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> tuple[list[EachDiscarded], bool]:
    """Discard each of ``message_ids`` in turn, each in a transaction of its own with its
    resend chain (``discard``; ``dry_run``: ``plan_discard``); True besides when ``stop()``
    said to stop before the end (each done so far stays done and audited).

    Hundreds of dead letters, as a forced removal of a destination leaves them, were closed
    one command at a time. One already closed by an earlier one's chain in the batch is said
    so, not refused; one resolved meanwhile is refused as a single discard refuses it. The
    reason is required to discard (a dry run, a confirmation shown before it is typed, may
    have none); ``source``: the client's address, and ``job_id``: the batch job doing it, as
    ``discard`` takes them.

    ``allowed`` is asked before every ``ASK_EVERY`` th after the first: False, and it stops
    there as ``stop`` does. A job asks whether whoever started it may still discard: a token
    revoked meanwhile (it leaked) must not go on discarding under its name.
    """
    checked = (reason or "") if dry_run else checked_reason(reason)
    done: list[EachDiscarded] = []
    closed: dict[str, str] = {}  # closed by the chain of: each id of a chain, to its first
    for number, message_id in enumerate(message_ids, start=1):
        if stop is not None and stop():
            return done, True
        asking = allowed is not None and number > 1 and (number - 1) % ASK_EVERY == 0
        if asking and allowed is not None and not await allowed():
            return done, True
        if message_id in closed:
            done.append(EachDiscarded(message_id, with_chain_of=closed[message_id]))
        else:
            try:
                plan = await (
                    plan_discard(store, message_id)
                    if dry_run
                    else discard(
                        store,
                        message_id,
                        actor=actor,
                        reason=checked,
                        source=source,
                        job_id=job_id,
                    )
                )
            except DeadLetterError as exc:
                done.append(EachDiscarded(message_id, refused=exc))
            else:
                closed.update((m.id, message_id) for m in plan.chain)
                done.append(EachDiscarded(message_id, plan=plan))
        if progress is not None:
            progress(number)
    return done, False


def _facts(message: MessageRecord) -> dict[str, Any]:
    """What a discard's audit entry says of the letter. Its error without the receiver's own
    words (``short_reason``): an ACK's text may name the patient, and the audit trail is kept
    for years, never sealed and never rewritten, where retention shortens the message's own
    error (``store.retention``). ``dead_since``: when it died (its last change of status, while
    ``dead``), which the discard overwrites on the message (``died_at`` reads it back)."""
    return {
        "destination": message.destination_id,
        "control_id": message.control_id,
        "attempts": message.attempt_count,
        "last_error": short_reason(message.last_error),
        DEAD_SINCE: iso_time(message.updated_at),
    }


DEAD_SINCE = "dead_since"
"""The detail of a discard's audit entry that says when the letter died (``_facts``)."""


async def died_at(store: Store, message: MessageRecord) -> datetime | None:
    """When ``message`` died: its last change of status while it is ``dead``; for one
    discarded since (``cancelled``), as its discard's audit entry recorded it. None for one
    in another status, and for a discarded one whose entry retention pruned or that was
    discarded before entries recorded it (then when it died is not kept)."""
    if message.status == "dead":
        return message.updated_at
    if message.status != "cancelled":
        return None
    entries = await store.list_audit(AuditFilter(action=DISCARD_ACTION, target=message.id), limit=1)
    return _recorded_death(entries[0].details) if entries else None


def _recorded_death(details: Mapping[str, Any] | None) -> datetime | None:
    """A discard entry's ``dead_since``; None where it has none (an entry written before
    entries recorded it) or one not readable as a time."""
    recorded = details.get(DEAD_SINCE) if details else None
    if not isinstance(recorded, str):
        return None
    try:
        return datetime.fromisoformat(recorded)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class StaysOpen:
    """A message of the resend family a discard does not close, and why (``Note``)."""

    message_id: str
    destination_id: str
    status: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "destination": self.destination_id,
            "status": self.status,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class DiscardPlan:
    """What discarding a dead letter does: the letter, the rest of its resend chain closed with
    it (oldest first), and the messages of its family that stay open, each with why."""

    letter: DeadLetter
    chain: tuple[MessageRecord, ...] = ()
    stays_open: tuple[StaysOpen, ...] = ()

    @property
    def chain_note(self) -> Note:
        """What a listing says beside each message of the chain: why it is closed too."""
        asked = self.letter.message.id
        return Note(
            f"in the resend chain of {asked}: the same message to the same destination, dead "
            "too; discarded with it",
            "deadletter.chain_member",
            id=asked,
        )

    @property
    def discarded(self) -> list[str]:
        return [self.letter.message.id, *(m.id for m in self.chain)]

    def to_json(self, seen: Collection[str] | None = None) -> dict[str, Any]:
        """``seen``: the destinations the reader may see (None: all); a family member that
        stays open for another one is named only there."""
        return {
            "id": self.letter.message.id,
            "discarded": self.discarded,
            "resend_chain": [m.id for m in self.chain],
            "stays_open": [
                s.to_json() for s in self.stays_open if seen is None or s.destination_id in seen
            ],
        }


async def plan_discard(store: Store, message_id: str) -> DiscardPlan:
    """What ``discard`` would close, and what it would leave open; nothing is changed.

    Refuses exactly as ``discard`` does (not dead, resolved, discarded before), so a
    confirmation shows only what can be done. The chain: every other dead letter of the
    message's resend family (the message it resends, its resends, theirs) to the same
    destination that is still open. Named as staying open: dead letters of the family for
    another destination (someone chose to send it there; discard each on its own) and resends
    still in delivery (if one dies it is a dead letter of its own).
    """
    message = await store.get_message(message_id)
    if message is not None and message.status == "cancelled":
        raise await _discarded_before(store, message)
    letter = await get_dead_letter(store, message_id)
    resolution = letter.resolution
    if letter.resolved and resolution.resolved_by is not None:
        raise await _delivered_since(
            store, message_id, resolution.resolved_by, resolution.resolved_at_destination
        )
    return await chain_of(store, letter)


async def chain_of(store: Store, letter: DeadLetter) -> DiscardPlan:
    """``plan_discard`` without its refusals: what ``deadletter show`` tells of any dead
    letter, resolved or not, before anyone asks to discard it."""
    message_id = letter.message.id
    families = await Families.load(store, [message_id])
    destination = letter.message.destination_id
    chain: list[MessageRecord] = []
    stays: list[StaysOpen] = []
    for member in families.members(message_id):
        if member.id == message_id:
            continue
        if member.status == "dead" and families.resolution(member.id).state != "resolved":
            if member.destination_id == destination:
                found = await store.get_message(member.id)
                if found is not None:
                    chain.append(found)
                continue
            why = Note(
                f"dead letter for {member.destination_id}, another destination: discard it on "
                "its own if it is not wanted there either",
                "deadletter.stays.other_destination",
                destination=member.destination_id,
            )
            stays.append(StaysOpen(member.id, member.destination_id, member.status, why))
        elif member.status in IN_DELIVERY:
            why = Note(
                f"a resend still in delivery ({member.status}); if it dies, it is a dead letter "
                "of its own",
                "deadletter.stays.in_delivery",
                status=member.status,
            )
            stays.append(StaysOpen(member.id, member.destination_id, member.status, why))
    return DiscardPlan(letter, tuple(chain), tuple(stays))


async def _discarded_before(store: Store, message: MessageRecord) -> AlreadyResolved:
    """Who discarded it and when, from its audit entry; the status change itself is the
    message's last one, so its ``updated_at`` says when if the entry was pruned since."""
    entries = await store.list_audit(AuditFilter(action=DISCARD_ACTION, target=message.id), limit=1)
    if entries:
        return AlreadyResolved(message.id, "discarded", entries[0].actor, entries[0].at)
    return AlreadyResolved(message.id, "discarded", None, message.updated_at)


async def _delivered_since(
    store: Store, message_id: str, resend_id: str, destination: str | None
) -> AlreadyResolved:
    """When the resend that resolved it was delivered: its last attempt's start."""
    attempts = await store.list_attempts(resend_id)
    delivered = [a.started_at for a in attempts if a.outcome == "delivered"]
    at = delivered[-1] if delivered else None
    return AlreadyResolved(message_id, "delivered", resend_id, at, destination=destination)
