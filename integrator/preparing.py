"""Preparing an event: validated, routed and mapped, ready to commit (no store, no clock, no loop).

Intake prepares events on the event loop, or hands a large batch to a process of its own
(``integrator.prepare_process``); both run these functions, so an event comes out the same
either way. Everything they need comes in as arguments (the time, the destinations, the
settings), and what they return pickles: a ``Prepared`` or the rules an event broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final, Literal

from pydantic_core import PydanticCustomError, from_json

from destinations.config import DestinationConfig
from integrator.deprecation import resolve_version
from integrator.ids import new_message_id, new_message_ids
from integrator.search import holds_bsn
from integrator.settings import Settings
from integrator.store import EventRecord, NewMessage
from integrator.zd_sequence import CREATED_AT_IN_FUTURE
from mappings import MappingContext, MappingError, map_event
from schemas import DiagnosticRequest, EventValidationError, FieldError, Referral, parse_event
from schemas.fields import parse_iso_date
from schemas.rules import message_for
from shapes import TEXT, Shape

Event = Referral | DiagnosticRequest

BORN_LATER: Final = FieldError(
    "patient.birth_date", "birth_date_in_future", message_for("birth_date_in_future")
)
"""A birth date after the day the event arrives. Schemas read no clock, so they hold a birth
date to ``created_at`` only; an event whose ``created_at`` a sender's clock put in the future
let a future birth date through to the hospital. Intake, which has the clock, refuses it.

It is the one rule said of such a date: a birth date in the future is after ``created_at`` too
when that is in the past, and the schemas' ``birth_date_after_created_at`` then told the sender
to look at the wrong field's relation, where the birth date alone is wrong (``validated``)."""

PROVIDER_HOLDS_BSN: Final = FieldError(
    "provider.id", "provider_id_holds_bsn", message_for("provider_id_holds_bsn")
)
"""A ``provider.id`` that holds a BSN (``search.holds_bsn``): upstream wrote the patient's
number where the provider's id belongs. Kept, it was stored unrouted and shown, as the
provider, in every listing of events, to roles that read no patient data (a viewer, a reports
token), and in the CSV exports. Intake checks it, as the birth date, where the schemas'
patterns cannot: the eleven-test is Python's (about 2 µs an event)."""

_AFTER_CREATED: Final = "birth_date_after_created_at"
_BIRTH_DATE: Final = BORN_LATER.path

CLOCK_SLACK: Final = timedelta(days=1)
"""How far ``created_at`` may be after the moment its event arrives before the answer warns:
a day, as a birth date's slack (a sender's clock a little ahead passes unremarked)."""
CREATED_LATER_SHAPE: Final = Shape(
    CREATED_AT_IN_FUTURE,
    f"{CREATED_AT_IN_FUTURE}: created_at is more than a day after the moment the event arrived; "
    "the event is accepted and sent as it is, and its messages carry that time (RF1-7 of a "
    "referral, ORC-9 of a request): check the sending system's clock",
)
CREATED_LATER: Final = CREATED_LATER_SHAPE()
"""Not a refusal (the contract does not forbid it), but a sender whose clock is years ahead
sent that year to the hospital without a word. Said in the answer and kept on the messages,
as a ZD warning is (``zd_sequence.zd_warnings`` keeps it when a message is mapped again)."""

UNROUTED: Final = (
    "no destination serves this event's provider (provider.id); the event is stored unrouted "
    "and nothing was sent: the engine keeps it, and its operators route it once a destination "
    "serves that provider; do not send it again"
)
"""Names no value: upstream has written a BSN, or a name and birth date, into ``provider.id``
(the API refuses a BSN in ``?provider=`` for that reason), and the answer goes back over the
wire and into the sender's logs. Its advice is the sender's to follow: routing is an
operator's command the sender cannot run."""

#: A message whose mapping was refused is held; its warning says why (``MappingError``'s text).
HELD: Final = Shape("held", "held: {reason}", reason=TEXT)


@dataclass(frozen=True)
class RoutedMessage:
    message_id: str
    destination_id: str
    version: str
    control_id: str
    status: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """An event ready to commit: its record and messages (not its parsed model, which is
    dropped as soon as these are made)."""

    record: EventRecord
    messages: tuple[NewMessage, ...]
    routed: tuple[RoutedMessage, ...]
    warnings: tuple[str, ...]


def validated(raw: bytes | str | Mapping[str, Any], born_by: date) -> Event:
    """The event ``raw`` is, or ``EventValidationError`` naming every rule it broke.

    ``born_by``: the latest birth date an event may give (the day it arrives, with a day of
    slack for a sender whose "today" is ahead of the engine's zone)."""
    try:
        event = parse_event(raw)
    except EventValidationError as refused:
        raise _born_later(raw, refused, born_by) from None
    broken = (
        *((BORN_LATER,) if event.patient.birth_date > born_by else ()),
        *((PROVIDER_HOLDS_BSN,) if holds_bsn(event.provider.id) else ()),
    )
    if broken:
        raise EventValidationError(broken)
    return event


def _born_later(
    raw: bytes | str | Mapping[str, Any], refused: EventValidationError, born_by: date
) -> EventValidationError:
    """``refused`` with ``BORN_LATER`` when the birth date, valid in itself, is after
    ``born_by``: in place of ``birth_date_after_created_at`` (the one rule said of that date),
    else after the others, so a sender learns it in the same round as the rest.

    Only on the refusal's path, which decodes the body once more: an accepted event pays
    nothing. Not added to an answer that named as many rules as one names (``more_errors``):
    the cross-field rules wait for the next round there too."""
    errors = refused.errors
    own = [e for e in errors if e.path == _BIRTH_DATE and e.rule != _AFTER_CREATED]
    if own or any(e.rule == "more_errors" for e in errors):
        return refused
    born = _birth_date(raw)
    if born is None or born <= born_by:
        return refused
    if any(e.rule == _AFTER_CREATED for e in errors):
        return EventValidationError(
            BORN_LATER if e.path == _BIRTH_DATE and e.rule == _AFTER_CREATED else e for e in errors
        )
    return EventValidationError((*errors, BORN_LATER))


def _birth_date(raw: bytes | str | Mapping[str, Any]) -> date | None:
    """The patient's birth date in ``raw``, as its field reads it; None when there is none
    that the field takes (never raises: it only adds to a refusal)."""
    try:
        body = raw if isinstance(raw, Mapping) else from_json(raw)
        patient = body.get("patient") if isinstance(body, Mapping) else None
        given = patient.get("birth_date") if isinstance(patient, Mapping) else None
        return None if given is None else parse_iso_date(given)
    except (ValueError, PydanticCustomError):
        return None


def prepare(
    event: Event,
    source: str,
    now: datetime,
    destinations: Iterable[DestinationConfig],
    settings: Settings,
    zone: tzinfo,
    *,
    caller: str | None = None,
) -> Prepared:
    """``event``'s record and one message per destination in ``destinations`` (those serving
    its provider), each mapped in the version the destination takes, or held saying why.
    ``caller``: who sent it, as the front door established it (kept with the event)."""
    return prepare_all([(event, now, destinations)], source, settings, zone, caller=caller)[0]


def prepare_all(
    arrived: Sequence[tuple[Event, datetime, Iterable[DestinationConfig]]],
    source: str,
    settings: Settings,
    zone: tzinfo,
    *,
    caller: str | None = None,
) -> list[Prepared]:
    """Each ``(event, now, destinations)`` prepared as ``prepare`` does, a step at a time for
    them all: the JSON of every event, then the BSN hashes, then the messages.

    Intake gives a few events at a time (``intake.YIELD_EVERY``): a step's code then stays in
    the CPU's caches from one event to the next, instead of pydantic's serialiser, the hash and
    the mapper taking turns evicting each other. Intake's preparation of a burst took about
    8 % less CPU so (``bench/bench_prepare.py``; ``bench/results/perf.md``, twenty-eighth
    session)."""
    payloads = [event.model_dump_json() for event, _, _ in arrived]
    hashes = [
        settings.bsn_hash(event.patient.bsn) if event.patient.bsn else None
        for event, _, _ in arrived
    ]
    return [
        _prepared(
            EventRecord(
                id=str(event.event_id),
                type=event.type,
                action=event.action,
                zd_number=event.zd_number,
                provider_id=event.provider.id,
                received_at=now,
                source=source,
                payload=payload,
                bsn_hash=bsn_hash,
                caller=caller,
            ),
            event,
            now,
            destinations,
            settings,
            zone,
        )
        for (event, now, destinations), payload, bsn_hash in zip(
            arrived, payloads, hashes, strict=True
        )
    ]


def _prepared(
    record: EventRecord,
    event: Event,
    now: datetime,
    destinations: Iterable[DestinationConfig],
    settings: Settings,
    zone: tzinfo,
) -> Prepared:
    """``record`` with its messages: one per destination serving the event's provider."""
    messages: list[NewMessage] = []
    routed: list[RoutedMessage] = []
    warnings: list[str] = []
    # About the event, so on each of its messages too (a comparison per event, no more).
    about = (CREATED_LATER,) if event.created_at > now + CLOCK_SLACK else ()
    serving = list(destinations)
    if not serving:
        warnings.append(UNROUTED)
    for destination in serving:
        version = destination.messages.get(event.type)
        if version is None:
            warnings.append(
                f"destination {destination.id!r} takes no {event.type} messages; none sent there"
            )
            continue
        message = render(event, destination, version, now, settings, zone)
        if about:
            message = replace(message, warnings=message.warnings + about)
        messages.append(message)
        routed.append(
            RoutedMessage(
                message.id,
                destination.id,
                message.version,
                message.control_id,
                message.status,
                message.warnings,
            )
        )
    return Prepared(record, tuple(messages), tuple(routed), (*about, *warnings))


def render(
    event: Event,
    destination: DestinationConfig,
    configured: str,
    now: datetime,
    settings: Settings,
    zone: tzinfo,
    *,
    control_id: str | None = None,
) -> NewMessage:
    """The message ``destination`` gets for ``event`` (held, with the reason, if it cannot).

    Intake, the release of held messages and remap resends all make messages here, so the
    sunset rules and the MSH values are the same for each.
    """
    if control_id:
        message_id = new_message_id()
    else:
        message_id, control_id = new_message_ids()
    local_now = now.astimezone(zone)
    resolution = resolve_version(
        configured, auto_upgrade=destination.auto_upgrade, today=local_now.date()
    )
    notes = (resolution.note,) if resolution.note else ()
    if resolution.version is None:
        return _held(message_id, destination.id, configured, control_id, notes)
    context = _context(settings, destination, control_id, local_now, "P")
    try:
        mapped = map_event(resolution.version, event, context)
    except MappingError as exc:
        # Never lost: the message is held with the reason until an operator acts.
        return _held(
            message_id, destination.id, resolution.version, control_id, (HELD(reason=exc),)
        )
    return NewMessage(
        id=message_id,
        destination_id=destination.id,
        version=resolution.version,
        message_type=mapped.message_type,
        control_id=control_id,
        payload=mapped.data,
        warnings=notes + mapped.warnings,
    )


def mapping_context(
    settings: Settings,
    destination: DestinationConfig,
    control_id: str,
    now: datetime,
    *,
    processing_id: Literal["P", "T"] = "P",
) -> MappingContext:
    """The MSH values that come from engine settings and the destination (docs/product.md §4)."""
    return _context(settings, destination, control_id, now.astimezone(settings.zone), processing_id)


def _context(
    settings: Settings,
    destination: DestinationConfig,
    control_id: str,
    local_now: datetime,
    processing_id: Literal["P", "T"],
) -> MappingContext:
    """``mapping_context`` for a time already in the engine's zone (intake's, per message)."""
    return MappingContext(
        control_id=control_id,
        now=local_now,
        sending_application=settings.sending_application,
        sending_facility=settings.sending_facility,
        receiving_application=destination.receiving_application,
        receiving_facility=destination.receiving_facility,
        processing_id=processing_id,
        ack_mode=destination.ack_mode,
        accept_ack_type=destination.msh_accept_ack_type,
        application_ack_type=destination.msh_application_ack_type,
        platform_authority=settings.platform_authority,
    )


def _held(
    message_id: str, destination_id: str, version: str, control_id: str, notes: tuple[str, ...]
) -> NewMessage:
    return NewMessage(
        id=message_id,
        destination_id=destination_id,
        version=version,
        message_type="",
        control_id=control_id,
        payload=b"",
        status="held",
        warnings=notes,
    )
