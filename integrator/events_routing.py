"""Events, also those no destination served when they arrived, and routing them once one does.

An event whose provider no destination serves is stored without messages: *unrouted*. Nothing
else would ever send it. Adding the destination later does not look back, ``messages list``
finds no message, and submitting the event again is a duplicate of an event id accepted once.
``integrator events route`` (and ``POST /api/v1/events/route``) makes the messages now, for the
destinations that serve the event's provider today, exactly as intake would have: mapped with
``Intake.render`` in each destination's current version under the sunset rules (held when its
version is retired and it has no ``auto_upgrade``). A cancel routes like a new event; a
selection is routed in the order the events arrived, so a cancel queues behind its new event.
An event that did not fit its ZD number's history when it was accepted gets intake's warning
on its messages (``zd_sequence.check_stored``: judged against the events before it, not after).

Routing never sends twice: a destination that has any message of the event (made at intake, by
a resend or by an earlier routing) gets none, and an event that gets no message is skipped
with a note saying why. An explicitly named event may have been routed already to some of the
destinations that serve it now; only the missing ones get a message. A provider selection takes
unrouted events only: a destination added for a provider that others serve already does not
receive that provider's history.

The messages of a chunk of events, and one audit entry per routed event (``event.route``: who,
why, which messages), are written in one transaction (``Store.add_routed_messages``). Like
resends they then go through the running engine, which publishes them at once, or, when no
engine runs, sit queued in the store until the engine starts and sends what is pending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import httpx

from destinations.worker import OutboundMessage
from integrator.access.permissions import Role
from integrator.callers import caller_term
from integrator.clock import Clock, SystemClock
from integrator.engine_api import EngineAnswer, check_allowed, engine_client, follow_job
from integrator.errors import PermanentError
from integrator.intake import Intake
from integrator.log_throttle import Clock as LogClock
from integrator.log_throttle import LogThrottle, tell_ended, tell_failed
from integrator.logging import get_logger
from integrator.message_reads import dead_letter_states, messages_in_sight, zd_warnings_in_sight
from integrator.metrics import Metrics
from integrator.presenters import audit_view, event_summary, iso_time, message_summary
from integrator.reasons import required
from integrator.refusal import Note
from integrator.search import BadPeriod, BadSearch, build_filter, given_term
from integrator.settings import Settings
from integrator.store import (
    EventRecord,
    MessageFilter,
    NewMessage,
    NotFound,
    Store,
    StoreError,
    idprefix,
)
from integrator.store.records import (
    ROUTE_ACTION,
    EventFilter,
    ListedEvent,
    MessageStatus,
    NewRouting,
)
from integrator.transport.committed import ROUTE_AWAY
from integrator.zd_sequence import ZdCheck, check_stored, zd_warnings
from schemas import EventValidationError, parse_event

if TYPE_CHECKING:
    from integrator.catalog import Catalog
    from integrator.engine import Engine

log = get_logger("integrator.events")

CHUNK = 100
"""Events per transaction. Smaller than a resend chunk: each event's payload is loaded and
mapped, and attachments make payloads large."""
MAX_BATCH = 100_000
IDS_PER_QUERY = 500
GAUGE_INTERVAL = 30.0
"""Seconds between counts of unrouted events for the metric: one grouped query, not per event."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``."""

# How the CLI names what the API calls a field.
_ID_START = re.compile(r"[0-9a-f-]{4,36}")

_CLI_NAMES = {
    "event_ids": "EVENT_ID",
    "selection": "EVENT_ID… or --provider",
    "zd_number": "--zd",
    "event_type": "--event-type",
}


class EventsRefused(PermanentError):
    """A request about events that cannot be done as asked (exit code 2, HTTP 422).

    ``field`` is the API's name of the parameter at fault; the CLI shows its option instead.
    The rule never quotes a patient value.
    """

    exit_code = 2

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule

    cli_text: str | None = None  # the whole text on the command line, where names differ

    def for_cli(self) -> str:
        if self.cli_text is not None:
            return self.cli_text
        return f"{_cli_name(self.field)}: {self.rule}"

    @classmethod
    def of_search(cls, exc: BadSearch) -> EventsRefused:
        """A message search's refusal of a term events share (``search.build_filter``), with
        its code and values; a period that holds nothing keeps its text naming both terms."""
        refused = cls(exc.field, exc.rule)
        if isinstance(exc, BadPeriod):
            refused.args = exc.args
            refused.cli_text = f"--since and --until: {exc.terms_rule('--since', '--until')}"
        elif exc.command_line_rule is not None:  # a bound's forms, without the URL's +
            refused.cli_text = f"{_cli_name(exc.field)}: {exc.command_line_rule}"
        return refused.coded(exc.code, **exc.values) if exc.code else refused


def _cli_name(field: str) -> str:
    """A term's option on the command line (``zd_number``: ``--zd``)."""
    return _CLI_NAMES.get(field, "--" + field.replace("_", "-"))


class UnknownEventId(EventsRefused):
    def __init__(self, event_id: str) -> None:
        super().__init__("event_ids", f"no event with id {event_id}")
        self.event_id = event_id
        self.coded("events.unknown", id=event_id)


# -- finding events ----------------------------------------------------------------------------


def build_event_filter(
    settings: Settings,
    *,
    zd_number: str | None = None,
    bsn: str | None = None,
    provider: str | None = None,
    event_type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    unrouted: bool = False,
    caller: str | None = None,
) -> EventFilter:
    """The store filter for support's terms, checked as a message search checks them.

    The BSN is hashed with the search key here, like ``integrator.search`` does for messages;
    the period is on the time the event arrived; ``caller`` is who sent it, in the form the
    engine names callers (``integrator.callers``).
    """
    terms: dict[str, Any] = {
        "zd_number": zd_number,
        "bsn": bsn,
        "event_type": event_type,
        "since": since,
        "until": until,
    }
    for name, value in terms.items():
        try:
            build_filter(settings, **{name: value})
        except BadSearch as exc:
            raise EventsRefused.of_search(exc) from None
    try:
        provider = given_term("provider", provider)
        caller = caller_term(caller)
    except BadSearch as exc:
        raise EventsRefused.of_search(exc) from None
    try:  # each term is good; together the period may still hold nothing
        flt = build_filter(
            settings, zd_number=zd_number, bsn=bsn, event_type=event_type, since=since, until=until
        )
    except BadSearch as exc:
        raise EventsRefused.of_search(exc) from None
    return EventFilter(
        zd_number=flt.zd_number,
        provider_id=provider,
        event_type=flt.event_type,  # as the set spells it, in any case as typed
        since=flt.since,
        until=flt.until,
        bsn_hash=flt.bsn_hash,
        unrouted=unrouted,
        caller=caller,
    )


def never_routed_filter(flt: EventFilter) -> EventFilter:
    """``flt`` narrowed to the events pruned before any message was made of them: the
    referrals no destination got, whose ZD numbers only upstream can send again. An unrouted
    one (waiting, its content kept) never is one: asked for both, none could be found, which
    would read as "none lost", so it is refused."""
    if flt.unrouted:
        refused = EventsRefused(
            "never_routed",
            "an unrouted event waits with its content; a never-routed one lost it: choose one",
        )
        refused.cli_text = f"--unrouted and --never-routed: {refused.rule}"
        raise refused
    return dataclasses.replace(flt, never_routed=True)


def listed_event_view(event: ListedEvent, zone: tzinfo | None = None) -> dict[str, Any]:
    """An event as listings show it: identifiers and routing facts, no patient data; its time
    in ``zone`` if given, as ``presenters`` gives times (the CLI gives the engine's zone)."""
    return {
        "id": event.id,
        "type": event.type,
        "action": event.action,
        "zd_number": event.zd_number,
        "provider_id": event.provider_id,
        "received_at": iso_time(event.received_at, zone),
        "source": event.source,
        "messages": event.message_count,
        "unrouted": event.unrouted,
        "caller": event.caller,
        "pruned_at": None if event.pruned_at is None else iso_time(event.pruned_at, zone),
    }


async def event_detail(store: Store, event_id: str) -> dict[str, Any] | None:
    """One event for support: its summary (with the patient's name and BSN, as ``messages
    show`` has them: for screens, never for logs), its messages and how it was routed."""
    event = await store.get_event(event_id)
    if event is None:
        return None
    return await describe_event(store, event)


async def describe_event(
    store: Store,
    event: EventRecord,
    *,
    destination_ids: frozenset[str] | None = None,
    zone: tzinfo | None = None,
) -> dict[str, Any] | None:
    """``event_detail`` of a stored event, seen from some destinations only; its times in
    ``zone`` when given (the CLI's), else as stored (the API's UTC).

    With ``destination_ids`` (the destinations of the clusters a caller may see), only their
    messages and routings are shown, and an event with no message for any of them is None:
    it lies outside those clusters (an unrouted event lies in none).
    """
    found = await store.list_messages(
        MessageFilter(event_id=event.id, destination_ids=destination_ids), limit=10_000
    )
    if destination_ids is not None and not found:
        return None
    audit = await store.list_audit(target=event.id, limit=1000)
    routings = [audit_view(a, zone) for a in reversed(audit) if a.action == ROUTE_ACTION]
    if destination_ids is not None:
        routings = _routings_to(routings, destination_ids)
    detail = event_summary(event, zone)
    # Waiting to be routed: a message-less event pruned past its period waits for nothing.
    detail["unrouted"] = not found and event.pruned_at is None
    found = await messages_in_sight(store, found, destination_ids)
    states = await dead_letter_states(store, found)
    detail["messages"] = [
        message_summary(m, zone, dead_state=states.get(m.id))
        for m in sorted(found, key=lambda m: m.seq)
    ]
    detail["routings"] = routings
    # Judged as routing judges it (against the events of its number before it), so an
    # unrouted event, which has no message to carry it, shows it too.
    found_warnings = (await check_stored(store, [event])).warnings(event.id)
    detail["zd_warnings"] = await zd_warnings_in_sight(store, found_warnings, destination_ids)
    return detail


def serving_now(
    catalog: Catalog, provider_id: str, destination_ids: frozenset[str] | None = None
) -> list[str]:
    """The destinations that would get a message of this provider's event if it were routed
    now (``events route``), among ``destination_ids`` (None: all): before routing an unrouted
    event, support checks that the right hospital serves it, and none it should not reach."""
    return sorted(
        d.id
        for d in catalog.serving(provider_id)
        if destination_ids is None or d.id in destination_ids
    )


@dataclass(frozen=True)
class UnroutedProvider:
    """A provider's unrouted events: how many, and who would get them if routed now.

    ``serving`` empty means routing them now makes nothing (``_plan`` skips each with
    "no destination serves provider … yet"): a destination for the provider comes first."""

    provider_id: str
    count: int
    serving: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"provider": self.provider_id, "count": self.count, "serving": list(self.serving)}


async def unrouted_providers(store: Store, catalog: Catalog) -> list[UnroutedProvider]:
    """Every provider with unrouted events, over all of them (one grouped query, the one the
    metric, the dashboard and ``destinations add``'s warning count with), by provider id.

    A listing shows only the newest events; a choice of provider made from those would miss
    an older one that a destination added since now serves, which is the one to route."""
    counts = await store.count_unrouted_events()
    return [
        UnroutedProvider(provider, count, tuple(serving_now(catalog, provider)))
        for provider, count in sorted(counts.items())
    ]


def _routings_to(
    routings: list[dict[str, Any]], destination_ids: frozenset[str]
) -> list[dict[str, Any]]:
    """The routings' entries with their messages for these destinations only."""
    kept = []
    for entry in routings:
        details = dict(entry["details"] or {})
        made = [m for m in details.get("messages", []) if m.get("destination") in destination_ids]
        if made:
            kept.append({**entry, "details": {**details, "messages": made}})
    return kept


# -- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteRequest:
    """What to route (event ids, or a provider's unrouted events in a period), who and why."""

    reason: str
    actor: str
    event_ids: tuple[str, ...] = ()
    provider: str | None = None
    since: str | None = None
    until: str | None = None
    dry_run: bool = False
    route_id: str | None = None  # groups the audit entries of one run (the job id in the API)
    source: str | None = None  # where the request came from (the client's address), if known

    def checked(self, settings: Settings) -> RouteRequest:
        """The request trimmed; raises ``EventsRefused`` for what can never be done: the
        reason first (blank, or longer than ``reasons.MAX_REASON``), as for a resend."""
        reason = required(
            self.reason,
            lambda rule: EventsRefused("reason", rule),
            missing="required; why they are routed goes into the audit log",
        )
        provider = (self.provider or "").strip() or None
        if self.event_ids and provider is not None:
            raise EventsRefused("selection", "name event ids or a provider, not both").coded(
                "events.ids_or_provider"
            )
        if not self.event_ids and provider is None:
            raise EventsRefused(
                "selection", "say which events: event ids, or a provider (and perhaps a period)"
            ).coded("events.say_which")
        if self.event_ids and (self.since or self.until):
            name = "since" if self.since else "until"
            raise EventsRefused(name, "only with a provider; event ids name their events")
        if len(self.event_ids) > MAX_BATCH:
            raise EventsRefused("event_ids", f"at most {MAX_BATCH} at a time").coded(
                "events.ids_too_many", most=MAX_BATCH
            )
        for position, event_id in enumerate(self.event_ids, start=1):
            if not _is_id_text(event_id):
                # Not echoed: whatever was pasted there may be patient data.
                raise EventsRefused(
                    "event_ids", f"id {position} is not an event id (a UUID, or its start)"
                ).coded("events.not_an_id", position=position)
        build_event_filter(settings, since=self.since, until=self.until)
        actor = (self.actor or "").strip()[:128] or "unknown"
        return dataclasses.replace(
            self,
            reason=reason,
            actor=actor,
            provider=provider,
            event_ids=tuple(dict.fromkeys(_id_text(e) for e in self.event_ids)),
            route_id=self.route_id or str(uuid.uuid4()),
        )


@dataclass(frozen=True)
class RouteResult:
    """What routing did (or, in a dry run, would do) with one selected event."""

    event_id: str
    zd_number: str
    event_type: str
    action: str
    provider_id: str
    messages: tuple[NewMessage, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def routed(self) -> bool:
        return bool(self.messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "zd_number": self.zd_number,
            "event_type": self.event_type,
            "action": self.action,
            "provider": self.provider_id,
            "routed": self.routed,
            "messages": [
                {
                    "message_id": m.id,
                    "destination": m.destination_id,
                    "version": m.version,
                    "control_id": m.control_id,
                    "status": MessageStatus(m.status).value,
                    "warnings": list(m.warnings),
                }
                for m in self.messages
            ],
            "note": "; ".join(self.notes) or None,
        }


async def select_events(
    store: Store, settings: Settings, request: RouteRequest, *, catalog: Catalog | None = None
) -> list[str]:
    """The ids of the events a routing is about, in the order they arrived.

    Named ids are taken as given (an unknown one refuses the whole request); a provider
    selects its unrouted events, at most ``MAX_BATCH``; one that is nobody's is refused
    (``check_provider``). ``catalog``: the engine's; None reads the destination files.
    """
    request = request.checked(settings)
    if request.event_ids:
        request = dataclasses.replace(request, event_ids=await _full_ids(store, request.event_ids))
        found: list[ListedEvent] = []
        for start in range(0, len(request.event_ids), IDS_PER_QUERY):
            part = request.event_ids[start : start + IDS_PER_QUERY]
            found.extend(await store.list_events(EventFilter(event_ids=part), limit=len(part)))
        known = {e.id for e in found}
        for event_id in request.event_ids:
            if event_id not in known:
                raise UnknownEventId(event_id)
        return [e.id for e in sorted(found, key=lambda e: (e.received_at, e.id))]
    flt = dataclasses.replace(
        build_event_filter(settings, since=request.since, until=request.until),
        provider_id=request.provider,
        unrouted=True,
    )
    selected = await store.list_events(flt, limit=MAX_BATCH + 1, oldest_first=True)
    if len(selected) > MAX_BATCH:
        raise EventsRefused(
            "provider", f"more than {MAX_BATCH} unrouted events; narrow it with a period"
        ).coded("events.too_many", most=MAX_BATCH)
    if not selected:
        await check_provider(store, settings, request.provider, catalog=catalog)
    return [e.id for e in selected]


async def check_provider(
    store: Store, settings: Settings, provider: str | None, *, catalog: Catalog | None = None
) -> None:
    """Refuse a provider that no destination serves and no stored event names: a typo, which
    would otherwise read as "nothing to route". One only unrouted events name is the point of
    routing (a destination for it is added later), and one a destination serves may simply
    have nothing waiting; both pass. Provider ids are no patient data: the served ones are
    listed, so the right one can be picked.
    """
    served = await unknown_provider(store, settings, provider, catalog=catalog)
    if served is None:
        return
    raise EventsRefused(
        "provider",
        "no destination serves that provider, and no stored event names it; "
        f"served: {', '.join(served) or 'none'}",
    ).coded("events.provider_unknown", served=served)


async def unknown_provider(
    store: Store,
    settings: Settings,
    provider: str | None,
    *,
    catalog: Catalog | None = None,
    destination_ids: frozenset[str] | None = None,
) -> tuple[str, ...] | None:
    """The providers served now, when ``provider`` is none of them and no stored event names
    it (a typo, or one nobody has heard of yet); None when it is known, or not given.

    Providers are an open set, so a listing is not refused for one (``events route`` is: it
    would route nothing); an empty listing says instead that the provider is unknown here.

    For a reader of some clusters only (the console): ``catalog`` their part of it
    (``ClusterScope.visible_catalog``) and ``destination_ids`` its destinations, so only an
    event in sight counts and only the providers served there are listed, and which
    providers other clusters serve is not told, not even by saying nothing for one of them.
    """
    if provider is None:
        return None
    if catalog is None:
        from integrator.message_reads import configured_catalog  # it imports the operators

        catalog = await configured_catalog(store, settings)
    if catalog.serving(provider):
        return None
    named = EventFilter(provider_id=provider, destination_ids=destination_ids)
    if await store.list_events(named, limit=1):
        return None
    return tuple(sorted({p for d in catalog.destinations.values() for p in d.providers}))


async def route_selected(
    store: Store,
    intake: Intake,
    clock: Clock,
    event_ids: Sequence[str],
    request: RouteRequest,
    *,
    progress: Progress | None = None,
    committed: Callable[[Sequence[OutboundMessage], int], Awaitable[bool]] | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> tuple[list[RouteResult], list[OutboundMessage]]:
    """Route these events (a checked request's selection); the results, and what to publish.

    ``committed(messages, events)`` is awaited with each chunk's new queued messages (and how
    many events it routed) right after the chunk's transaction: the engine publishes them
    there, so one killed mid-job leaves at most one chunk unpublished, for the recovery leader.
    False (delivery away) adds ``ROUTE_AWAY`` to that chunk's routed events. A dry run plans
    every event exactly as the real run does and writes nothing.

    ``allowed`` is asked before each chunk after the first: False, and no further chunk is
    routed (the results so far are returned, fewer than the selection). A job asks whether
    whoever started it may still route: a token revoked meanwhile must stop it.
    """
    results: list[RouteResult] = []
    outbound: list[OutboundMessage] = []
    total = len(event_ids)
    for start in range(0, total, CHUNK):
        if start > 0 and allowed is not None and not await allowed():
            break
        chunk = list(event_ids[start : start + CHUNK])
        records = await store.get_events(chunk)
        routed_to = await store.routed_destinations(chunk)
        now = clock.now()
        planned = [
            _plan(records[event_id], routed_to[event_id], intake, now)
            for event_id in chunk
            if event_id in records
        ]
        # The ZD warning intake gave each event goes on its messages, as intake's would carry
        # it: one history read for the chunk (zd_sequence.check_stored).
        zd = await check_stored(store, [records[r.event_id] for r in planned if r.messages])
        planned = [_noted(r, records[r.event_id], zd) for r in planned]
        if not request.dry_run:
            added = await store.add_routed_messages(
                [NewRouting(r.event_id, r.messages) for r in planned if r.messages],
                actor=request.actor,
                reason=request.reason,
                details={"route_id": request.route_id}
                | ({"source": request.source} if request.source is not None else {}),
            )
            planned = [_keep_added(r, added) for r in planned]
            sent = [
                OutboundMessage(
                    message_id=m.id,
                    destination_id=m.destination_id,
                    control_id=m.control_id,
                    payload=m.payload,
                    created_at=now,
                )
                for r in planned
                for m in r.messages
                if m.status == MessageStatus.QUEUED
            ]
            outbound.extend(sent)
            if committed is not None and not await committed(sent, sum(r.routed for r in planned)):
                # Stored, not yet handed to the broker: each routed event says so, and that
                # routing it again is not needed.
                planned = [
                    dataclasses.replace(r, notes=(*r.notes, ROUTE_AWAY)) if r.routed else r
                    for r in planned
                ]
        results.extend(planned)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    if not request.dry_run:
        log.info(
            "events routed",
            route_id=request.route_id,
            events=sum(r.routed for r in results),
            skipped=sum(not r.routed for r in results),
            messages=sum(len(r.messages) for r in results),
            zd_warnings=sum(any(zd_warnings(m.warnings) for m in r.messages) for r in results),
        )
    return results, outbound


def _noted(result: RouteResult, record: EventRecord, zd: ZdCheck) -> RouteResult:
    """The result with the event's ZD warnings on its messages (the payload is the same)."""
    if not result.messages:
        return result
    return dataclasses.replace(result, messages=tuple(zd.noted(record, result.messages)))


def _plan(record: EventRecord, routed_to: set[str], intake: Intake, now: datetime) -> RouteResult:
    result = RouteResult(
        event_id=record.id,
        zd_number=record.zd_number,
        event_type=record.type,
        action=record.action,
        provider_id=record.provider_id,
    )
    serving = intake.catalog.serving(record.provider_id)
    if not serving:
        unserved = Note(
            f"no destination serves provider {record.provider_id!r} yet",
            "events.route.unserved",
            provider=record.provider_id,
        )
        return dataclasses.replace(result, notes=(unserved,))
    if record.pruned_at is not None:
        when = record.pruned_at.astimezone(intake.zone).date().isoformat()
        pruned = Note(
            f"its content was pruned on {when} (retention); it cannot be mapped",
            "events.route.pruned",
            date=when,
        )
        return dataclasses.replace(result, notes=(pruned,))
    try:
        event = parse_event(record.payload)
    except EventValidationError:
        invalid = Note(
            "the stored event no longer passes validation; it cannot be mapped",
            "events.route.event_invalid",
        )
        return dataclasses.replace(result, notes=(invalid,))
    messages: list[NewMessage] = []
    notes: list[str] = []
    already = sorted(d.id for d in serving if d.id in routed_to)
    for destination in serving:
        if destination.id in routed_to:
            continue
        configured = destination.messages.get(event.type)
        if configured is None:
            notes.append(
                Note(
                    f"destination {destination.id!r} takes no {event.type} messages",
                    "events.route.event_type_not_taken",
                    destination=destination.id,
                    event_type=event.type,
                )
            )
            continue
        messages.append(intake.render(event, destination, configured, now))
    if already:
        notes.insert(
            0,
            Note(
                f"already has a message for {', '.join(already)}; not sent again",
                "events.route.already",
                destinations=tuple(already),
            ),
        )
    return dataclasses.replace(result, messages=tuple(messages), notes=tuple(notes))


def _keep_added(result: RouteResult, added: set[str]) -> RouteResult:
    """The result as stored: a message another routing made meanwhile was left out."""
    kept = tuple(m for m in result.messages if m.id in added)
    if len(kept) == len(result.messages):
        return result
    lost = sorted(m.destination_id for m in result.messages if m.id not in added)
    note = Note(
        f"routed to {', '.join(lost)} meanwhile by someone else; not sent again",
        "events.route.meanwhile",
        destinations=tuple(lost),
    )
    return dataclasses.replace(result, messages=kept, notes=(*result.notes, note))


def route_report(
    results: Sequence[dict[str, Any]], request: RouteRequest, *, via: str
) -> dict[str, Any]:
    """One shape for the CLI's ``--json`` and the API's answer."""
    return {
        "dry_run": request.dry_run,
        "via": via,
        "actor": request.actor,
        "reason": request.reason,
        "total": len(results),
        "routed": [r for r in results if r["routed"]],
        "skipped": [r for r in results if not r["routed"]],
    }


async def route_in_engine(
    engine: Engine,
    event_ids: Sequence[str],
    request: RouteRequest,
    *,
    progress: Progress | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> list[RouteResult]:
    """Route with the running engine: each chunk published for delivery right after its commit.

    Per chunk rather than once at the end, so an engine killed mid-job leaves at most one
    chunk stored and not published (the recovery leader publishes it at its next take-over).
    With the broker away the messages are stored all the same and go out when it is back;
    each routed event of such a chunk then has ``ROUTE_AWAY`` as its last note. ``allowed``:
    ``route_selected``'s.
    """

    async def publish(sent: Sequence[OutboundMessage], events: int) -> bool:
        return await engine.publish(list(sent), what="route", events=events)

    results, _ = await route_selected(
        engine.store,
        engine.intake,
        engine.clock,
        event_ids,
        request,
        progress=progress,
        committed=publish,
        allowed=allowed,
    )
    if not request.dry_run:
        await engine.unrouted.refresh()
    return results


async def route_in_store(
    settings: Settings,
    store: Store,
    event_ids: Sequence[str],
    request: RouteRequest,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> list[RouteResult]:
    """No engine runs: store the messages as queued; the engine sends them when it starts."""
    from integrator.operators import DestinationAdmin

    clock = clock or SystemClock()
    today = clock.now().astimezone(settings.zone).date()
    admin = DestinationAdmin(store=store, settings=settings, today=lambda: today, now=clock.now)
    intake = Intake(
        store=store, transport=None, catalog=await admin.catalog(), settings=settings, clock=clock
    )
    results, _ = await route_selected(store, intake, clock, event_ids, request, progress=progress)
    return results


async def route_via_http(
    settings: Settings,
    event_ids: Sequence[str],
    request: RouteRequest,
    *,
    progress: Progress | None = None,
    poll: float = 0.1,
) -> EngineAnswer:
    """Ask the running engine to route these events (a job, unless a dry run); follow it.

    The answer names who the engine routed as (the token's ``token:<name>``), which is what
    the audit log records, so the CLI reports that rather than the local user.
    """
    body = {
        "event_ids": list(event_ids),
        "reason": request.reason,
        "dry_run": request.dry_run,
    }
    async with engine_client(settings, timeout=60.0) as client:
        response = await client.post("/api/v1/events/route", json=body)
        _raise_for(response)
        answer: dict[str, Any] = response.json()
        actor = str(answer.get("actor") or request.actor)
        if request.dry_run:
            # Planned in one answer, not a job to follow: the whole batch is done now, and a
            # caller's progress bar must say so rather than stay at 0 of N.
            if progress is not None:
                progress(len(event_ids), len(event_ids))
            return EngineAnswer(results=[*answer["routed"], *answer["skipped"]], actor=actor)
        results = await follow_job(
            client, answer, check=_raise_for, progress=progress, what="routing", poll=poll
        )
        return EngineAnswer(results=results, actor=actor)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 300:
        return
    check_allowed(response, Role.RESEND)
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if response.status_code == 422 and isinstance(detail, str):
        field, _, rule = detail.partition(": ")
        raise EventsRefused(field, rule)
    raise RuntimeError(f"the engine answered HTTP {response.status_code}: {detail}")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _is_id_text(text: str) -> bool:
    """A whole event id, or text that can start one (as listings show ids shortened)."""
    return _is_uuid(text) or _ID_START.fullmatch(idprefix.normalise(text)) is not None


def _id_text(text: str) -> str:
    return str(uuid.UUID(text.strip())) if _is_uuid(text) else idprefix.normalise(text)


async def _full_ids(store: Store, ids: Sequence[str]) -> tuple[str, ...]:
    """Whole ids for ids and unique prefixes of ids; an unknown or ambiguous one refuses all."""
    full = []
    for given in ids:
        if _is_uuid(given):
            full.append(given)
            continue
        try:
            full.append(await store.resolve_event_id(given))
        except (NotFound, idprefix.AmbiguousIdPrefix, idprefix.BadIdPrefix) as exc:
            raise EventsRefused("event_ids", str(exc)) from None
    return tuple(dict.fromkeys(full))


# -- the metric --------------------------------------------------------------------------------


class UnroutedGauge:
    """Keeps ``integrator_unrouted_events`` current: counted from the store at start, after
    each routing, and every ``GAUGE_INTERVAL`` seconds.

    Counting in the store, rather than in intake, keeps accepting an event free of it, and
    gives every engine on one store the same numbers (take the maximum, not the sum).

    A provider id is a label only when the operators' configuration names it
    (``integrator.metrics.provider_label``): ``configured`` gives the ids the destinations in
    service serve, and the store the ids of every recorded revision, a removed destination's
    too (whose provider's events are the unrouted ones), read again only when a revision was
    recorded since. So the labels are the same on every engine and after a restart.
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        configured: Callable[[], Collection[str]],
        interval: float = GAUGE_INTERVAL,
        log_clock: LogClock = time.monotonic,
    ) -> None:
        """``log_clock``: the clock of the lines of a store that cannot count
        (``integrator.log_throttle``), a test's to move."""
        self._metrics = metrics
        self._configured = configured
        self._interval = interval
        self._store: Store | None = None
        self._task: asyncio.Task[None] | None = None
        self._recorded: frozenset[str] = frozenset()  # the providers the revisions name
        self._revisions = -1  # how many revisions were recorded when they were read
        # A store away is told by the first count that fails, then once a minute, then once
        # when one works again: not every ``interval`` s.
        self._uncounted = LogThrottle(first=1, clock=log_clock)

    def start(self, store: Store) -> None:
        self._store = store
        self._task = asyncio.create_task(self._loop(), name="unrouted-gauge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        self._store = None

    async def refresh(self) -> None:
        if self._store is not None:
            counts = await self._store.count_unrouted_events()
            self._metrics.observe_unrouted(counts, await self._named(self._store))

    async def _named(self, store: Store) -> frozenset[str]:
        """The provider ids the configuration names: in service, or in a recorded revision."""
        revisions = await store.count_destination_revisions()  # counted first: none is missed
        if revisions != self._revisions:
            self._recorded = await store.providers_in_destination_history()
            self._revisions = revisions
        return self._recorded | frozenset(self._configured())

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except StoreError as exc:  # the next turn tries again; the gauge keeps its value
                tell_failed(
                    self._uncounted,
                    log,
                    "cannot count unrouted events",
                    "still cannot count unrouted events",
                    error=str(exc),
                )
            else:
                tell_ended(self._uncounted, log, "unrouted events counted again")
            await asyncio.sleep(self._interval)
