"""Searching and reading messages in a store, each view of patient data recorded: the one path
behind every front door.

The HTTP API and the console reach the store through the engine and ``message_service``, which
first decides what the caller's clusters let them see; the server's CLI opens the store itself
and is trusted with every cluster as its operating-system user (``local:<user>``). All of them
then search and read through the functions here, so a view of patient data is recorded the same
way whoever shows it (``integrator.patient_views``: the identity, the view, the BSN's keyed hash,
``source``), *before* anything is returned. When the audit entry cannot be written the caller
gets the store's error and nothing to show: no record, no view.

- ``terms_filter``: the store filter of a message search, checked (``BadSearch`` names the term
  and the rule, never a value); listings, CSV exports and resend selections all use it.
- ``check_destination``: a destination term that names no destination at all is refused
  (``BadSearch``), so a typo is not answered with an empty listing.
- ``find_messages_in_store``: what a filter finds; a search by BSN is recorded
  (``messages.search``, with how many it found); one without a BSN shows no patient's data and
  records nothing.
- ``read_message_in_store``: one message in full (its HL7, its event with the patient, its
  ACKs, who discarded it if it was), recorded as ``message``.
- ``read_dead_letter``: a dead letter with its ACKs as received (the receiver's words may name
  the patient), recorded as ``deadletter``.

It imports the store, the search rules and the presenters, not the engine: the CLI's reading
commands load this module and nothing heavier.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Final

from deadletter import DeadLetter, Discarded, discard_of, get_dead_letter
from deadletter.family import Families, State
from integrator import zd_sequence
from integrator.access.permissions import Identity
from integrator.patient_views import record_search, record_view
from integrator.presenters import message_detail, message_summary
from integrator.search import BadSearch, build_filter
from integrator.settings import Settings
from integrator.store import (
    AttemptRecord,
    EventRecord,
    MessageFilter,
    MessageRecord,
    MessageStatus,
    ResendRecord,
    Store,
)
from integrator.store.late_answers import LateAnswerRecord

if TYPE_CHECKING:
    from integrator.catalog import Catalog


@dataclass(frozen=True, slots=True)
class MessageTerms:
    """What support staff search messages by, as they typed it (``integrator.search`` checks
    and normalises it). The BSN only ever travels in a body or a form, never in an address."""

    zd_number: str | None = None
    event_id: str | None = None
    control_id: str | None = None
    destination: str | None = None
    status: str | None = None
    version: str | None = None
    event_type: str | None = None
    since: str | None = None
    until: str | None = None
    bsn: str | None = dataclasses.field(default=None, repr=False)  # never in a traceback

    def given(self) -> dict[str, str]:
        """The terms given, by name (a refusal must not repeat any of their values)."""
        values = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {name: value for name, value in values if value is not None}


def terms_filter(
    settings: Settings, terms: MessageTerms, destination_ids: frozenset[str] | None = None
) -> MessageFilter:
    """The store filter of ``terms`` within ``destination_ids`` (None: every destination); a
    term that cannot be used is ``BadSearch``, naming the term and the rule."""
    flt = build_filter(settings, **terms.given())
    return dataclasses.replace(flt, destination_ids=destination_ids)


async def check_destination(
    store: Store,
    settings: Settings,
    flt: MessageFilter,
    catalog: Catalog | None = None,
) -> None:
    """Refuse a destination term that no configured destination and no stored message has.

    An empty answer must mean "the right store had nothing that matched" (docs/support.md), so
    a typo in ``--destination`` is a ``BadSearch`` naming the term and the destinations there
    are, not an empty table. A destination removed since still has its messages and stays
    searchable: its history knows it (``Catalog.removed``), and a stored message that went to
    it is found too. ``catalog``: the engine's; None reads the destination files as the engine
    would. Within ``flt.destination_ids`` (a caller's clusters) only: one outside them is
    answered like one that does not exist, in words that say so (``search.destination_seen``:
    "none you may see"), so the refusal is true without saying what lies outside them.
    """
    wanted = flt.destination_id
    if wanted is None:
        return
    if catalog is None:
        catalog = await configured_catalog(store, settings)
    scope = flt.destination_ids
    known = sorted(d for d in catalog.destinations if scope is None or d in scope)
    if wanted in known or (wanted in catalog.removed and (scope is None or wanted in scope)):
        return
    anywhere = MessageFilter(destination_id=wanted, destination_ids=scope)
    if await store.list_messages(anywhere, limit=1, payloads=False):
        return
    if scope is not None:
        raise BadSearch(
            "destination",
            "no destination you may see has that id, and no message you may see went to one; "
            f"yours: {', '.join(known) or 'none'}",
        ).coded("search.destination_seen", known=tuple(known))
    raise BadSearch(
        "destination",
        "no destination has that id, and no message in this store went to one; "
        f"configured: {', '.join(known) or 'none'}",
    ).coded("search.destination", known=tuple(known))


async def configured_destinations(store: Store, settings: Settings) -> frozenset[str]:
    """The ids of the destinations configured now, as the engine reads them (its files, or the
    last good definition of one whose file is refused)."""
    return frozenset((await configured_catalog(store, settings)).destinations)


async def configured_catalog(store: Store, settings: Settings) -> Catalog:
    """The destinations as the engine reads them, for a tool without a running engine."""
    from integrator.clock import SystemClock
    from integrator.operators import DestinationAdmin  # not at module level: see above

    clock = SystemClock()
    today = clock.now().astimezone(settings.zone).date()
    admin = DestinationAdmin(store=store, settings=settings, today=lambda: today, now=clock.now)
    return await admin.catalog()


async def find_messages_in_store(
    store: Store,
    identity: Identity,
    flt: MessageFilter,
    *,
    limit: int,
    offset: int = 0,
    after: MessageRecord | None = None,
    source: str | None = None,
    one_more: bool = False,
) -> list[MessageRecord]:
    """The first ``limit`` messages ``flt`` finds, newest first (after ``after``, if given:
    the store's keyset); with ``one_more``, and the one after them if there is one, for a
    listing that tells whether more follow. A search by BSN recorded as ``identity``'s view
    (``messages.search``, with the hash and how many it found: the messages shown, at most
    ``limit``, never the one read beyond them) before they are returned.

    Who may search by BSN is the caller's to decide (the API and the console:
    ``patient_data.read``; the server's CLI is trusted).
    """
    rows = await messages_in_sight(
        store,
        await store.list_messages(
            flt, limit=limit + 1 if one_more else limit, offset=offset, payloads=False, after=after
        ),
        flt.destination_ids,
    )
    await record_search(
        store,
        identity,
        "messages.search",
        bsn_hash=flt.bsn_hash,
        found=min(len(rows), limit),
        source=source,
    )
    return rows


async def messages_in_sight(
    store: Store, found: Sequence[MessageRecord], seen: Collection[str] | None
) -> list[MessageRecord]:
    """``found`` as a reader who may see the destinations ``seen`` (None: all) may read them:
    without naming a message or an event outside them.

    A message may be resent to a destination in another cluster, so a resend a reader may see
    can link to an original they may not: its ``resend_of`` is left out (None). A ZD number's
    warning names the earlier event it conflicts with, which may have gone to another cluster
    only: it says ``zd_sequence.OUTSIDE`` instead (``zd_warnings_in_sight``). These are facts
    for display only: the resend rules read families from the store."""
    if seen is None:
        return list(found)
    linked = {m.resend_of for m in found if m.resend_of is not None}
    where = await store.destinations_of(linked) if linked else {}
    hidden = {original for original in linked if where.get(original) not in seen}
    unnamed = await _events_out_of_sight(store, [w for m in found for w in m.warnings], seen)
    shown: list[MessageRecord] = []
    for m in found:
        changes: dict[str, Any] = {}
        if m.resend_of in hidden:
            changes["resend_of"] = None
        if unnamed and any(zd_sequence.earlier_event(w) in unnamed for w in m.warnings):
            changes["warnings"] = _unnamed(m.warnings, unnamed)
        shown.append(dataclasses.replace(m, **changes) if changes else m)
    return shown


async def zd_warnings_in_sight(
    store: Store, warnings: Sequence[str], seen: Collection[str] | None
) -> list[str]:
    """An event's ZD warnings as ``messages_in_sight`` words them for a reader of ``seen``."""
    if seen is None:
        return list(warnings)
    return list(_unnamed(warnings, await _events_out_of_sight(store, warnings, seen)))


async def _events_out_of_sight(
    store: Store, warnings: Sequence[str], seen: Collection[str]
) -> set[str]:
    """The earlier events ``warnings`` name that have no message to a destination of ``seen``
    (as an event outside a reader's clusters is; an unrouted one lies in none)."""
    named = {e for e in map(zd_sequence.earlier_event, warnings) if e is not None}
    if not named:
        return set()
    routed = await store.routed_destinations(sorted(named))
    return {event_id for event_id in named if not routed.get(event_id, set()) & set(seen)}


def _unnamed(warnings: Sequence[str], events: set[str]) -> tuple[str, ...]:
    return tuple(
        zd_sequence.unnamed(w) if zd_sequence.earlier_event(w) in events else w for w in warnings
    )


@dataclass(frozen=True, slots=True)
class MessageReading:
    """One message in full, as its reader may see it: its event (with the patient), its
    attempts, how it came to be and the resends it led to within the reader's clusters."""

    message: MessageRecord
    attempts: list[AttemptRecord]
    event: EventRecord | None
    origin: ResendRecord | None
    resends: list[ResendRecord]
    receiver_text: bool  # the receiver's words in ACKs: only for who may read patient data
    origin_hidden: bool = False  # the original it resends lies outside the reader's clusters
    dead_state: State | None = None  # where it stands as a dead letter; None unless dead
    discarded: Discarded | None = None  # who discarded it, when and why; None unless cancelled
    # What the receiver answered after the answer that settled it (``integrator.late_answers``).
    late_answers: Sequence[LateAnswerRecord] = ()

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        return message_detail(
            self.message,
            self.attempts,
            event=self.event,
            origin=self.origin,
            origin_hidden=self.origin_hidden,
            resends=self.resends,
            zone=zone,
            receiver_text=self.receiver_text,
            dead_state=self.dead_state,
            discarded=self.discarded,
            late_answers=self.late_answers,
        )


async def dead_letter_states(store: Store, messages: Sequence[MessageRecord]) -> dict[str, State]:
    """Where each dead message of ``messages`` stands, by the dead letters' own rule
    (``deadletter.family``): one whose later resend got through is resolved, so support does
    not act on it again. One read for the whole listing."""
    dead = [m.id for m in messages if m.status == MessageStatus.DEAD]
    families = await Families.load(store, dead)
    return {message_id: families.resolution(message_id).state for message_id in dead}


async def listed_messages(
    store: Store, messages: Sequence[MessageRecord], zone: tzinfo | None = None
) -> list[dict[str, Any]]:
    """``messages`` as every listing shows them (``presenters.message_summary``), a dead one
    with where it stands (``dead_letter_state``), as the CLI, the API and the console list it."""
    states = await dead_letter_states(store, messages)
    return [message_summary(m, zone, dead_state=states.get(m.id)) for m in messages]


async def read_message_in_store(
    store: Store,
    identity: Identity,
    message: MessageRecord,
    *,
    receiver_text: bool,
    seen: Collection[str] | None = None,
    source: str | None = None,
) -> MessageReading:
    """``message`` in full, recorded as ``identity``'s view (``message``, with its event's BSN
    hash and ``source``) before it is returned.

    The caller has decided that ``identity`` may see it, whether the receiver's words in ACKs
    are shown (``receiver_text``) and which destinations (``seen``; None: all): a resend to
    another destination, or the original one resends, lies in that destination's cluster, and
    is not named outside it (``messages_in_sight``). A discarded dead letter (``cancelled``) is
    read with who discarded it, when and why (``deadletter.discard_of``, which reads nothing
    for any other message), so every front door tells a discard from another end alike.
    """
    attempts = await store.list_attempts(message.id)
    event = await store.get_event(message.event_id)
    origin, resends = await store.list_resends(message.id)
    shown = resends if seen is None else [r for r in resends if r.destination_id in seen]
    (message,) = await messages_in_sight(store, [message], seen)
    hidden = origin is not None and message.resend_of is None
    state = (await dead_letter_states(store, [message])).get(message.id)
    discarded = await discard_of(store, message)
    late = await store.late_answers_of(message.id)
    await record_message_view(store, identity, message, event, view="message", source=source)
    return MessageReading(
        message, attempts, event, origin, shown, receiver_text, hidden, state, discarded, late
    )


async def read_dead_letter(
    store: Store, identity: Identity, message_id: str, *, source: str | None = None
) -> DeadLetter:
    """A dead letter with every attempt and its ACKs as received, recorded as ``identity``'s
    view (``deadletter``, with its event's BSN hash) before it is returned: the receiver's
    words may name the patient. One discarded since is read too, saying by whom, when and why.
    Refused (unknown, never dead) as ``get_dead_letter`` refuses, recording nothing."""
    letter = await get_dead_letter(store, message_id)
    message = letter.message
    event = await store.get_event(message.event_id)
    await record_message_view(store, identity, message, event, view="deadletter", source=source)
    return letter


async def record_message_view(
    store: Store,
    identity: Identity,
    message: MessageRecord,
    event: EventRecord | None,
    *,
    view: str,
    source: str | None,
) -> None:
    """One message seen (in full, or its receiver's words): its event's patient, as the hash."""
    await record_view(
        store,
        identity,
        message.id,
        view=view,
        bsn_hash=event.bsn_hash if event is not None else None,
        event_id=message.event_id,
        source=source,
    )


async def named_instead(store: Store, identity: Identity, given: str) -> tuple[str, str] | None:
    """What ``given``, which names no message, names instead: ``("event", id)``, ``("rejected
    input", id)`` or ``("MSH-10", id)`` (the newest message sent with that MSH-10), or None.
    Ids of the first three look alike (UUIDs, shortened the same way in listings), and an
    event's id copied from ``events list`` into ``messages show`` was answered "no message" as
    if nothing had that id; an MSH-10, which the hospital reads out on the phone, is hex digits
    too: the refusal points to what shows it.

    Only for who may see what it names: an event or an MSH-10's message for who reads messages
    in every cluster (its messages may lie in any), rejected input for who may list it
    (``rejected_reads.may_list``); so the answer tells nobody of something they could not look
    at. Text that could be no id (``idprefix.could_start_id``), too short a start or one
    several ids share names nothing; nor does text ``idprefix.shown`` would not repeat (nine
    digits may be a BSN): the id found starts with it, and naming that id would repeat it.
    """
    from integrator.access.permissions import ALL, Permission
    from integrator.rejected_reads import may_list
    from integrator.store import NotFound
    from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix, could_start_id, shown

    if not could_start_id(given) or shown(given) != given.strip():
        return None
    every_cluster = identity.visible_clusters(Permission.MESSAGES_READ) is ALL
    kinds: list[tuple[str, Callable[[str], Awaitable[str]]]] = []
    if every_cluster:
        kinds.append(("event", store.resolve_event_id))
    if may_list(identity):
        kinds.append(("rejected input", store.resolve_rejected_id))
    for kind, resolve in kinds:
        try:
            return kind, await resolve(given)
        except (NotFound, AmbiguousIdPrefix, BadIdPrefix):
            continue
    if every_cluster and (control_id := typed_control_id(given)) is not None:
        sent = await store.list_messages(
            MessageFilter(control_id=control_id), limit=1, payloads=False
        )
        if sent:
            return "MSH-10", sent[0].id
    return None


def typed_control_id(given: str) -> str | None:
    """``given`` as the MSH-10 it is when it is one as the engine makes them (19 hex digits,
    read out in any case), upper case; else None."""
    value = given.strip()
    return value.upper() if _CONTROL_ID.fullmatch(value) else None


_CONTROL_ID: Final = re.compile(r"[0-9A-Fa-f]{19}")
"""An MSH-10 as ``ids.new_control_id`` makes it (``search`` reads one in a sentence alike)."""


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """Where a referral went that no message has, by its ZD number or by the patient's BSN:
    ``rejected``, how much rejected input has it (None: who asks may not list rejected input,
    or, by BSN, may not search it by BSN, and is not told); ``unrouted``, how many of its
    events arrived while no destination served its provider (0 for who does not read every
    cluster, and, by BSN, for who may not read patient data in every cluster: unrouted events
    lie in none). ``unseen``: who asks cannot see one or the other, so "nothing found" may not
    be the whole story; said without telling whether there is any (``messages.zd_unseen``):
    nothing outside their clusters is confirmed or denied, and they are told who can look."""

    rejected: int | None
    unrouted: int
    unseen: bool = False
    outside_terms: int = 0
    """Messages of the ZD number or the patient, in the asker's clusters, that the search's
    other terms (a destination, a status, a period, ...) left out: the referral did become
    messages, so the front doors say this alone ("look at those first"), not "no messages for
    this BSN" or that intake refused it, which read as the referral's fate."""


UNROUTED_COUNTED = 100
"""Unrouted events of one ZD number or one patient counted at most: a handful is the rule, and
the answer only has to say there are some."""


async def elsewhere(
    store: Store, identity: Identity, flt: MessageFilter, *, found: bool = False
) -> Elsewhere | None:
    """Where a search or selection that found nothing went instead, by its filter's ZD number
    or, without one, by its BSN's keyed hash; None for a filter with neither, of which nothing
    is said. ``messages list``, ``resend``, the API's resend and the console's messages and
    events pages say it alike: refused by intake, or arrived for a provider no destination
    served (the classic "it never came"; by BSN, for the GP who only has the BSN at hand).
    Counted on the ``zd_number`` or ``bsn_hash`` indexes, unrouted events no further than
    ``UNROUTED_COUNTED``; the BSN itself is never here.

    Part of the search, whose view (by BSN) is recorded already: nothing more is. So it tells
    only who could look them up themselves: rejected input for who may list it (by BSN: search
    it by BSN; ``rejected_reads``), unrouted events for who reads messages in every cluster (by
    BSN, patient data too: listing them by BSN needs ``patient_data.read`` for all clusters;
    an unrouted event lies in none). Anyone else gets the same answer whether there is any or
    none (``unseen``).

    A search with other terms than the ZD number or the BSN (a destination, a status, ...) also
    counts what those terms left out (``Elsewhere.outside_terms``): "no messages for this BSN"
    was said beside a search by BSN and a destination while the patient's referral lay at
    another one.

    ``found``: the search did find messages. Asked all the same: a patient's newest referral
    refused at intake, or arrived unrouted, hid behind their older messages, delivered, and a
    search by BSN told support "delivered" (a support walkthrough's finding). The front doors
    then say it "besides these"; nothing is counted outside the terms.

    A filter with neither returns before anything is imported: ``messages list`` asks this of
    every empty listing, and the rejected input's reads load the event models (the CLI's
    start-up, ``tests/integrator/test_cli_startup.py``)."""
    if flt.zd_number is None and flt.bsn_hash is None:
        return None
    outside_terms = 0 if found else await _outside_terms(store, flt)
    from integrator.access.permissions import ALL, Permission
    from integrator.rejected_reads import rejected_for_bsn, rejected_for_zd
    from integrator.store.records import EventFilter

    needed = [Permission.MESSAGES_READ]
    if flt.zd_number is not None:
        refused = await rejected_for_zd(store, identity, flt.zd_number)
        unrouted_of = EventFilter(zd_number=flt.zd_number, unrouted=True)
    else:
        assert flt.bsn_hash is not None
        refused = await rejected_for_bsn(store, identity, flt.bsn_hash)
        unrouted_of = EventFilter(bsn_hash=flt.bsn_hash, unrouted=True)
        needed.append(Permission.PATIENT_DATA_READ)
    everywhere = all(identity.visible_clusters(p) is ALL for p in needed)
    unrouted = await store.count_events(unrouted_of, at_most=UNROUTED_COUNTED) if everywhere else 0
    # Not counted for who cannot see them: the same answer whether there is any or none.
    return Elsewhere(
        rejected=refused,
        unrouted=unrouted,
        unseen=refused is None or not everywhere,
        outside_terms=outside_terms,
    )


async def _outside_terms(store: Store, flt: MessageFilter) -> int:
    """How many messages the ZD number (or else the BSN's hash) of ``flt`` finds alone, within
    its scope, where ``flt`` has other terms too; 0 where it has none (the search was by it
    alone and found nothing). The selection's own marks (originals only, unresolved only) are
    kept: they are no terms the person gave."""
    alone = MessageFilter(
        zd_number=flt.zd_number,
        bsn_hash=flt.bsn_hash if flt.zd_number is None else None,
        destination_ids=flt.destination_ids,
        originals_only=flt.originals_only,
        unresolved_only=flt.unresolved_only,
    )
    return 0 if alone == flt else await store.count_messages(alone)
