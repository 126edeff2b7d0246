"""Plain-data views of store records and the registry, shared by the CLI (``--json``) and the API.

One shape for both, so a script written against ``integrator messages list --json`` can move to
``GET /api/v1/messages`` unchanged.

Times are ISO 8601 with their offset, in ``zone`` when the caller gives one (the CLI gives
``INTEGRATOR_TIMEZONE``: people compare them with their watch), in UTC otherwise. Either way
they name one instant, and every search filter accepts them as they are (docs/product.md §6).
Tables show them with ``shown_time``.

What a receiver writes in its ACK (MSA-3, ERR) is its own free text and may name the patient.
It is stored with the attempt, but listings, dead-letter summaries and CSV show only the ACK
code and a short reason (``short_reason``); a message's detail shows the ACK and the receiver's
words only with ``receiver_text=True``: to an identity that may read patient data (the API
decides per message), or on the server's CLI, which is trusted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Sequence
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from integrator.ack_reason import RECEIVER_TEXT_WITHHELD as RECEIVER_TEXT_WITHHELD
from integrator.ack_reason import short_reason as short_reason
from integrator.hl7view import decode_message

if TYPE_CHECKING:
    # Types only: every ``integrator`` call imports this module (for ``shown_time``), and the
    # store and the registry take longer to import than most commands take to run.
    from deadletter import DeadLetter, Discarded
    from integrator.catalog import Catalog
    from integrator.store import (
        AttemptRecord,
        AuditRecord,
        DestinationPause,
        DestinationRevision,
        EventRecord,
        MessageRecord,
        ResendRecord,
    )
    from integrator.store.late_answers import LateAnswerRecord


def iso_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """``moment`` in full (microseconds) with its offset, in ``zone`` if given."""
    return (moment.astimezone(zone) if zone is not None else moment).isoformat()


def shown_time(value: datetime | str | None, zone: tzinfo | None = None) -> str:
    """How a table shows a time: local (in ``zone``; else in its own offset), to the second.

    ``2026-11-30T09:15:02+01:00``: with ``T`` so it pastes into ``--since`` without quotes, and
    with the offset so it names one instant also in the hour that repeats when summer time ends.
    Seconds are cut, not rounded, so ``--since`` with a shown time includes that message and
    ``--until`` with it includes the whole second. ``-`` for no time.
    """
    if value is None or value == "":
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.replace(microsecond=0).isoformat()


def compact_time(value: datetime | str | None, zone: tzinfo, now: datetime) -> str:
    """A time for a column too narrow for ``shown_time``: local, to the minute, ``12-01 03:14``.

    The year only when it is not ``now``'s (local), ``2025-12-01 03:14``. ``--since`` and
    ``--until`` take it back to the minute (``search.parse_moment`` reads a month-day as this
    year's, the year left out here); a table shows it only where the full time does not fit,
    and ``--json`` always has the full time.
    """
    if value is None or value == "":
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(zone)
    shape = "%m-%d %H:%M" if local.year == now.astimezone(zone).year else "%Y-%m-%d %H:%M"
    return local.strftime(shape)


def message_summary(
    m: MessageRecord,
    zone: tzinfo | None = None,
    *,
    receiver_text: bool = False,
    dead_state: str | None = None,
) -> dict[str, Any]:
    """One message for a listing; ``last_error`` as ``short_reason`` unless ``receiver_text``;
    ``dead_state``: where a dead message stands (``message_reads.listed_messages``)."""
    return {
        "id": m.id,
        "event_id": m.event_id,
        "event_type": m.event_type,
        "zd_number": m.zd_number,
        "destination": m.destination_id,
        "version": m.version,
        "message_type": m.message_type,
        "control_id": m.control_id,
        "status": m.status,
        # open, resending or resolved (a later resend delivered); None unless dead
        "dead_letter_state": dead_state,
        "attempts": m.attempt_count,
        "created_at": iso_time(m.created_at, zone),
        "updated_at": iso_time(m.updated_at, zone),
        "next_attempt_at": iso_time(m.next_attempt_at, zone) if m.next_attempt_at else None,
        "last_error": m.last_error if receiver_text else short_reason(m.last_error),
        "warnings": list(m.warnings),
        "test": m.is_test,
        "resend_of": m.resend_of,
        # Retention emptied the HL7 text and the ACKs; the rest of the record stays.
        "pruned_at": iso_time(m.pruned_at, zone) if m.pruned_at else None,
    }


def attempt_view(
    a: AttemptRecord,
    zone: tzinfo | None = None,
    *,
    receiver_text: bool = False,
    gave_up: bool = False,
) -> dict[str, Any]:
    """One attempt; the ACK itself (``ack``) and the receiver's words only with
    ``receiver_text``, else ``ack`` is ``None`` and ``ack_withheld`` says one was received.
    ``gave_up``: the message died at this attempt (``attempt_history`` decides), so it shows
    as ``deadletter`` whatever it was recorded as."""
    return {
        "number": a.number,
        "started_at": iso_time(a.started_at, zone),
        "duration_ms": round(a.duration_ms, 3),
        "outcome": "deadletter" if gave_up else a.outcome,
        "ack_code": a.ack_code,
        "ack": _text(a.ack_bytes) if receiver_text else None,
        "ack_withheld": a.ack_bytes is not None and not receiver_text,
        "error": a.error if receiver_text else short_reason(a.error),
    }


def attempt_history(
    m: MessageRecord,
    attempts: Sequence[AttemptRecord],
    zone: tzinfo | None = None,
    *,
    receiver_text: bool = False,
) -> list[dict[str, Any]]:
    """A message's attempts, oldest first, as every front door shows them.

    Before the engine recorded the attempt that runs out of attempts as ``deadletter``, it
    recorded it as ``retry`` or ``failed``, and the screens read "will retry" on the attempt
    the message died at. Such an attempt is shown as ``deadletter`` here. It is known by the
    message's last error, which the engine copied from that attempt's error ("…; gave up after
    N attempts"): a message made dead without an attempt (its destination was removed) has
    a last error of its own, and its last attempt, which was followed by a retry then, is shown
    as it was recorded. A discarded dead letter (``cancelled``) keeps the last error it died
    with.
    """
    last = attempts[-1] if attempts else None
    died_at = (
        last.number
        if last is not None
        and m.status in ("dead", "cancelled")
        and last.error is not None
        and last.error == m.last_error
        else None
    )
    return [
        attempt_view(a, zone, receiver_text=receiver_text, gave_up=a.number == died_at)
        for a in attempts
    ]


def destination_pause_view(
    pause: DestinationPause | None,
    zone: tzinfo | None = None,
    pausing: DestinationRevision | None = None,
) -> dict[str, Any]:
    """When a destination was paused and last resumed, as an engine saw it change, and the
    change that paused it (``paused_by``: its revision, author and reason) while it is paused.

    ``resumed_at`` (None: never seen resumed) is one of the moments a message's ``max_age``
    counts from (destinations/README.md), so support needs it to read a dead letter's age.
    ``paused_at`` is known only while the destination is still paused: the store forgets it at
    the resume. Who resumed it and why is in the destination's history.
    """

    def at(moment: datetime | None) -> str | None:
        return iso_time(moment, zone) if moment is not None else None

    paused_by = (
        None
        if pausing is None
        else {
            "revision": pausing.revision,
            "at": at(pausing.at),
            "actor": pausing.actor,
            "action": pausing.action,
            "reason": pausing.reason,
        }
    )
    if pause is None:
        return {"paused_at": None, "resumed_at": None, "paused_by": paused_by}
    return {
        "paused_at": at(pause.paused_at),
        "resumed_at": at(pause.resumed_at),
        "paused_by": paused_by,
    }


def message_overview(
    m: MessageRecord,
    zone: tzinfo | None = None,
    *,
    receiver_text: bool = False,
    dead_state: str | None = None,
) -> dict[str, Any]:
    """One message on its own, without its event or HL7: a listing's row and the facts only a
    message's own page has room for.

    ``released_at``: when it was last released from held (None: never held, or still held).
    Its ``max_age`` counts from the latest of its creation, this release and its destination's
    last resume (destinations/README.md), so support needs it to read a dead letter's age.
    """
    overview = message_summary(m, zone, receiver_text=receiver_text, dead_state=dead_state)
    overview["released_at"] = iso_time(m.released_at, zone) if m.released_at else None
    return overview


def message_detail(
    m: MessageRecord,
    attempts: list[AttemptRecord],
    *,
    event: EventRecord | None = None,
    origin: ResendRecord | None = None,
    origin_hidden: bool = False,
    resends: list[ResendRecord] | None = None,
    zone: tzinfo | None = None,
    receiver_text: bool = False,
    dead_state: str | None = None,
    discarded: Discarded | None = None,
    late_answers: Sequence[LateAnswerRecord] = (),
) -> dict[str, Any]:
    """Everything support needs about one message, including who resent it from what, and to
    which resends it led. Holds patient data (name, BSN): for screens, never for logs. The ACKs
    and the receiver's words in errors only with ``receiver_text`` (see the module's docstring).
    ``late_answers``: what the receiver answered after the answer that settled it
    (``late_answer_view``).
    ``origin_hidden``: the original lies outside the reader's clusters, so ``resent_from``
    says who resent it, when and why, and not which message (``original_id`` None).
    ``discarded``: who discarded it (a dead letter closed by support, status ``cancelled``),
    when and why (``discard_view``); ``null`` for a message not discarded.
    """
    detail = message_overview(m, zone, receiver_text=receiver_text, dead_state=dead_state)
    detail["event"] = event_summary(event, zone) if event is not None else None
    detail["hl7"] = decode_message(m.payload)
    detail["attempt_history"] = attempt_history(m, attempts, zone, receiver_text=receiver_text)
    resent_from = resend_view(origin, zone) if origin is not None else None
    if resent_from is not None and origin_hidden:
        resent_from["original_id"] = None
    detail["resent_from"] = resent_from
    detail["resends"] = [resend_view(r, zone) for r in resends or []]
    detail["discarded"] = discard_view(discarded, zone) if discarded is not None else None
    detail["late_answers"] = [late_answer_view(a, zone) for a in late_answers]
    return detail


def late_answer_view(a: LateAnswerRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    """An answer that came after the one that settled the message (an ``AR`` after the ``AA``
    that delivered it): the first stood, so the message's status does not show it. Its MSA-1,
    when, and ``how``: ``skipped`` (it came while the next message waited) or ``dropped``
    (with nothing waiting; the connection was closed for it). Not its text, which the engine
    does not keep."""
    return {"received_at": iso_time(a.received_at, zone), "ack_code": a.ack_code, "how": a.how}


def discard_view(d: Discarded, zone: tzinfo | None = None) -> dict[str, Any]:
    """A discard as a message's detail says it: ``cancelled`` alone did not tell a discard from
    another end, nor whom to ask about it. ``by`` is the audit actor (an address, a token, a
    ``local:`` user or ``system``), never patient data; it, the ``reason`` and ``died_at`` (when
    it died: the discard overwrote that on the message) are None once retention pruned the
    discard's audit entry."""
    return {
        "by": d.by,
        "at": iso_time(d.at, zone),
        "reason": d.reason,
        "died_at": iso_time(d.died, zone) if d.died is not None else None,
    }


def event_summary(event: EventRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, dict) else json.loads(event.payload)
    patient = payload.get("patient") or {}
    provider = payload.get("provider") or {}
    return {
        "id": event.id,
        "type": event.type,
        "action": event.action,
        "zd_number": event.zd_number,
        "provider": provider.get("name") or event.provider_id,
        "provider_id": event.provider_id,
        "patient_name": _person_name(patient.get("name") or {}),
        "patient_bsn": patient.get("bsn"),
        "received_at": iso_time(event.received_at, zone),
        "source": event.source,
        "caller": event.caller,
        "pruned_at": iso_time(event.pruned_at, zone) if event.pruned_at else None,
    }


def _person_name(name: dict[str, Any]) -> str | None:
    parts = [
        name.get("given") or name.get("initials"),
        name.get("prefix"),
        name.get("family"),
    ]
    text = " ".join(str(p) for p in parts if p)
    return text or None


def resend_view(r: ResendRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "original_id": r.original_id,
        "at": iso_time(r.at, zone),
        "actor": r.actor,
        "reason": r.reason,
        "mode": r.mode,
        "destination": r.destination_id,
        "control_id": r.control_id,
        "status": r.status,
        "job_id": r.job_id,
    }


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode("ascii")


def versions_table(today: date, catalog: Catalog | None) -> list[dict[str, Any]]:
    from mappings.registry import REGISTRY

    rows = []
    for version in REGISTRY.values():
        users = sorted(
            d.id
            for d in (catalog.destinations.values() if catalog else ())
            if version.name in d.messages.values()
        )
        rows.append(
            {
                "name": version.name,
                "event_type": version.event_type,
                "hl7_version": version.hl7_version,
                "message_type": version.message_type_new,
                "charset": version.charset,
                "status": version.status_on(today),
                "deprecated_since": _iso(version.deprecated_since),
                "sunset": _iso(version.sunset),
                "successor": version.successor,
                "notice": version.notice(today),
                "destinations": users,
            }
        )
    return rows


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def deprecation_report(today: date, catalog: Catalog) -> list[dict[str, Any]]:
    """Destinations on deprecated or retired versions: sunset, days left, successor."""
    from mappings.registry import REGISTRY

    rows = []
    for destination in catalog.destinations.values():
        for event_type, name in destination.messages.items():
            version = REGISTRY.get(name)
            if version is None or version.sunset is None:
                continue
            status = version.status_on(today)
            if status == "current":
                continue
            rows.append(
                {
                    "destination": destination.id,
                    "event_type": event_type,
                    "version": name,
                    "status": status,
                    "sunset": version.sunset.isoformat(),
                    "days_left": (version.sunset - today).days,
                    "successor": version.successor,
                    "auto_upgrade": destination.auto_upgrade,
                }
            )
    return sorted(rows, key=lambda r: (r["days_left"], r["destination"]))


def dead_letter_facts(message: MessageRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    """What a person recognises a dead letter by and why it died, as the dead letters list
    shows it (``dead_letter_summary`` takes these): its destination, ZD number, type, the
    reason (``short_reason``: never the receiver's own words) and when it died.

    ``dead_since`` is the message's last change of status while it is ``dead`` (nothing
    changes it after); None for a message in another status (discarded since, or a resend
    still in delivery), whose last change says nothing about dying. No patient data: what
    the list already shows, so a confirmation can name each message as the list did."""
    dead = message.status == "dead"
    return {
        "destination": message.destination_id,
        "zd_number": message.zd_number,
        "event_type": message.event_type,
        "reason": short_reason(message.last_error),
        "dead_since": iso_time(message.updated_at, zone) if dead else None,
    }


def dead_letter_summary(
    letter: DeadLetter,
    zone: tzinfo | None = None,
    *,
    seen: Collection[str] | None = None,
) -> dict[str, Any]:
    """A dead letter with where it stands: ``open``, ``resending`` (a later resend is still in
    delivery), ``resolved`` (``resolved_by``: the resend that was delivered) or ``discarded``
    (``discarded_by``, ``discarded_at``), and the newest resend made after it, so support can
    follow the link.

    ``seen``: the destinations the reader may see (None: all). A resend to one outside them is
    not named: its id and destination are None, as for an unknown message, and only its
    status stays, which the letter's ``state`` says anyway. So is the original it resends
    (``resend_of`` None) when that lies outside them.

    A discarded one's ``dead_since`` is when it died as its discard's audit entry recorded it
    (``Discarded.died``): its last change of status is the discard, so the message no longer
    says it. None once retention pruned that entry, and for one discarded by a revision whose
    entries did not record it yet: ``last_attempt_at``, when it was last tried (None: never),
    is then the latest the store still knows of it before its discard."""
    m = letter.message
    facts = dead_letter_facts(m, zone)
    last_ack = letter.last_ack
    resolution = letter.resolution
    latest = resolution.latest_resend
    discarded = letter.discarded
    hidden = latest is not None and seen is not None and latest.destination_id not in seen
    resolved_by = resolution.resolved_by
    if seen is not None and resolution.resolved_at_destination not in seen:
        resolved_by = None
    return {
        "id": m.id,
        "destination": facts["destination"],
        "zd_number": facts["zd_number"],
        "event_type": facts["event_type"],
        "version": m.version,
        "control_id": m.control_id,
        "attempts": m.attempt_count,
        "reason": facts["reason"],
        "last_ack_code": last_ack.ack_code if last_ack is not None else None,
        "created_at": iso_time(m.created_at, zone),
        "dead_since": _died(letter, zone),
        "last_attempt_at": (
            iso_time(letter.attempts[-1].started_at, zone) if letter.attempts else None
        ),
        "resend_of": (m.resend_of if seen is None or letter.origin_destination in seen else None),
        "state": letter.state,
        "resolved_by": resolved_by,
        "latest_resend": (
            None
            if latest is None
            else {
                "id": None if hidden else latest.id,
                "destination": None if hidden else latest.destination_id,
                "status": latest.status,
            }
        ),
        "discarded_by": discarded.by if discarded is not None else None,
        "discarded_at": iso_time(discarded.at, zone) if discarded is not None else None,
    }


def _died(letter: DeadLetter, zone: tzinfo | None) -> str | None:
    """When a dead letter died: its last change of status, or for a discarded one what its
    discard recorded (None if nothing does any more)."""
    if letter.discarded is None:
        return iso_time(letter.message.updated_at, zone)
    died = letter.discarded.died
    return iso_time(died, zone) if died is not None else None


def audit_view(entry: AuditRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso_time(entry.at, zone),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "reason": entry.reason,
        "details": entry.details,
        "hash": entry.hash,
    }
