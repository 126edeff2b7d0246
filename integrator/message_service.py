"""Finding, reading and resending messages: the one service behind the API's message routes
and the console's message pages.

The rules live here so that the two front doors cannot drift apart:

- **Clusters** (``integrator.clusters``): a listing holds the messages of the caller's clusters
  only, in the store query; one message outside them is refused exactly as an unknown id
  (``MessageNotFound``); one the caller sees but may not use as asked is ``NotPermitted``.
- **Patient data** (``integrator.patient_views``): reading a message in full, or searching by
  BSN, is recorded as ``patient_data.view`` before anything is returned, under the identity
  and with the client's address (``source``); a BSN only ever as its keyed hash. The receiver's
  words in ACKs may name the patient, so they are shown only to who may read patient data in
  the message's cluster. The searching, reading and recording are ``integrator.message_reads``'
  store-level functions, which the server's CLI calls as they are: one path for every view.
- **Resending** one message: ``deadletter.resend``'s rules through ``resend_in_engine``, after
  the message's cluster and the cluster of a ``to`` target are checked; a target outside the
  caller's clusters is answered as one that is not configured.

Refusals are domain exceptions (``MessageNotFound``, ``NotPermitted``, ``BadSearch``,
``deadletter``'s ``DeadLetterError`` family); each front door says them its own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

from deadletter import (
    DeadLetter,
    ResendRefused,
    ResendRequest,
    ResendResult,
    Selection,
    TargetNotConfigured,
    TooManyMatches,
    UnknownMessageId,
    count_open_dead_letters,
    list_dead_letters,
    select_dead_letters,
    select_for_resend,
)
from integrator import paging
from integrator.access.permissions import Permission
from integrator.catalog import Catalog
from integrator.clusters import ClusterScope, OutOfSight, cluster_of
from integrator.engine import Engine
from integrator.jobs import JobStopped
from integrator.kept_searches import KeptSearch, searched_bsn
from integrator.message_reads import MessageReading as MessageReading
from integrator.message_reads import MessageTerms as MessageTerms
from integrator.message_reads import (
    check_destination,
    find_messages_in_store,
    messages_in_sight,
    read_message_in_store,
    terms_filter,
)
from integrator.patient_views import record_search
from integrator.refusal import code_of
from integrator.resending import resend_in_engine, takes_event_type
from integrator.resent_since import ResentSince as ResentSince
from integrator.resent_since import newest_seen, resent_since
from integrator.search import whole_id
from integrator.settings import Settings
from integrator.stated_reason import stated, stating
from integrator.store import MessageFilter, MessageRecord, ResendRecord, Store
from integrator.store import NotFound as StoreNotFound
from integrator.store.idprefix import AmbiguousIdPrefix

NO_MESSAGE: Final = "no message with that id"


class MessageNotFound(LookupError):
    """No message with that id, or one outside the caller's clusters: the same answer, so that
    nobody learns which ids exist elsewhere."""

    def __init__(self) -> None:
        super().__init__(NO_MESSAGE)


class AmbiguousMessageId(LookupError):
    """Several messages the caller can see have an id starting so: ``candidates`` (some of
    them, in id order; ``more``: there may be others)."""

    def __init__(self, candidates: list[str], *, more: bool) -> None:
        super().__init__(f"{len(candidates)}{'+' if more else ''} messages have such an id")
        self.candidates = tuple(candidates)
        self.more = more


class NotResent(ResendRefused):
    """The named message was not resent (still in delivery, held, no bytes...); ``result``
    says why in its note."""

    def __init__(self, result: ResendResult) -> None:
        super().__init__(result.note or "not resent")
        self.result = result
        code, values = code_of(result.note)
        if code is not None:
            self.coded(code, **values)


def message_filter(
    settings: Settings, catalog: Catalog, scope: ClusterScope, terms: MessageTerms
) -> MessageFilter:
    """The store filter of ``terms``, narrowed to the destinations ``scope`` may see; a term
    that cannot be used is ``BadSearch`` (naming the term and the rule). The one filter of a
    message search: ``find_messages`` lists with it, the API's batch resend selects with it
    (``message_reads.terms_filter``, which the CLI's listings and resends use as they are).
    An ``event_id`` is taken whole (``search.whole_id``): the CLI looks up a start of one
    before it filters, these front doors match the id as given."""
    flt = terms_filter(settings, terms, scope.destination_ids(catalog))
    return dataclasses.replace(flt, event_id=whole_id("event_id", flt.event_id, "event"))


async def checked_filter(engine: Engine, scope: ClusterScope, terms: MessageTerms) -> MessageFilter:
    """``message_filter``, with a destination term that names no destination the caller can
    see refused (``message_reads.check_destination``): what a batch resend selects with."""
    flt = message_filter(engine.settings, engine.catalog, scope, terms)
    await check_destination(engine.store, engine.settings, flt, engine.catalog)
    return flt


async def select_to_resend(
    engine: Engine,
    scope: ClusterScope,
    flt: MessageFilter | None,
    *,
    message_ids: Iterable[str] = (),
    limit: int | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> Selection:
    """What a batch resend (or its dry run) selects: ``deadletter.select_for_resend``, with a
    selection by BSN recorded as the view of patient data it is (``messages.search``, the
    BSN's keyed hash and how many it found), as a search is. A dry run by BSN lists the
    patient's ZD numbers and destinations: it went unrecorded when the selection was made
    without this. A selection refused as too large is recorded with its count too.

    Its why is the one the request stated (``integrator.stated_reason``) or else ``reason``,
    the resend's own, checked already (``deadletter.checked_reason``): the patient's messages
    were looked up to be resent for it."""

    async def record(found: int) -> None:
        bsn_hash = flt.bsn_hash if flt is not None else None
        with stating(stated() or reason):
            await record_search(
                engine.store,
                scope.identity,
                "messages.search",
                bsn_hash=bsn_hash,
                found=found,
                source=source,
            )

    try:
        selection = await select_for_resend(
            engine.store,
            message_ids=list(message_ids),
            flt=flt,
            **({} if limit is None else {"limit": limit}),
        )
    except TooManyMatches as exc:
        await record(exc.found if exc.found is not None else exc.limit + 1)
        raise
    await record(len(selection))
    return selection


async def find_messages(
    engine: Engine,
    scope: ClusterScope,
    terms: MessageTerms,
    *,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    source: str | None = None,
    one_more: bool = False,
) -> list[MessageRecord]:
    """The first ``limit`` messages ``terms`` find in the caller's clusters, newest first; with
    ``after`` (a message's id), those listed after that one (``integrator.paging``); with
    ``one_more``, and the one after them if there is one, for a listing that tells whether
    more follow.

    A search by BSN is a view of patient data: made only under ``patient_data.read``, and
    recorded (``messages.search``, with the BSN's keyed hash and how many it found: the rows
    shown, never the one read beyond them) before the rows are returned.
    """
    if terms.bsn and scope.permission is not Permission.PATIENT_DATA_READ:
        raise ValueError("a search by BSN is made under patient_data.read")
    paging.one_way(offset=offset, after=after)
    flt = await checked_filter(engine, scope, terms)
    last = None if after is None else await _last_seen(engine, scope, after)
    return await find_messages_in_store(
        engine.store,
        scope.identity,
        flt,
        limit=limit,
        offset=offset,
        after=last,
        source=source,
        one_more=one_more,
    )


async def page_start(
    engine: Engine, scope: ClusterScope, *, offset: int, after: str | None
) -> MessageRecord | None:
    """Where a page of ``find_messages``' order starts: the message ``after`` names (one in the
    caller's clusters), or None; refused as ``find_messages`` refuses it (``BadSearch``: it
    names none in sight, or comes with an ``offset``). For a front door that pages something
    else in that order (the API's CSV export)."""
    paging.one_way(offset=offset, after=after)
    return None if after is None else await _last_seen(engine, scope, after)


async def _last_seen(engine: Engine, scope: ClusterScope, after: str) -> MessageRecord:
    """The message ``after`` names, where a page ends: one in the caller's clusters (a
    destination removed since lies in the cluster it was last in, as listings show it)."""
    found = await engine.store.get_message(paging.cursor_id(after, "message"), payload=False)
    if found is None or not scope.allows_destination(engine.catalog, found.destination_id):
        raise paging.unknown("message")
    return found


async def count_found(
    engine: Engine, scope: ClusterScope, terms: MessageTerms, *, search: KeptSearch | None = None
) -> int:
    """How many messages ``find_messages`` (or, with ``search``, ``page_kept_search``) finds
    in all with these terms, in the caller's clusters: one ``COUNT`` that reads no body, for a
    page that shows some of them to say of how many (bench/bench_listing_total.py)."""
    return await engine.store.count_messages(await searched_filter(engine, scope, terms, search))


async def searched_filter(
    engine: Engine, scope: ClusterScope, terms: MessageTerms, search: KeptSearch | None = None
) -> MessageFilter:
    """The store filter of a search: ``checked_filter`` of its terms, and with ``search`` (a
    kept search by BSN) that search's BSN, by its keyed hash."""
    flt = await checked_filter(engine, scope, terms)
    if search is not None:
        flt = dataclasses.replace(flt, bsn_hash=searched_bsn(search))
    return flt


async def page_kept_search(
    engine: Engine,
    scope: ClusterScope,
    search: KeptSearch,
    *,
    limit: int,
    offset: int = 0,
) -> list[MessageRecord]:
    """A page of a search by BSN made with ``find_messages`` and kept (``kept_searches``),
    within ``scope``'s clusters as they are now. Recorded once, when it was made: its pages
    are the same view of the same patient, so they record nothing more."""
    if scope.permission is not Permission.PATIENT_DATA_READ:
        raise ValueError("a search by BSN is paged under patient_data.read")
    flt = await searched_filter(engine, scope, MessageTerms(**search.terms), search)
    found = await engine.store.list_messages(flt, limit=limit, offset=offset, payloads=False)
    return await messages_in_sight(engine.store, found, flt.destination_ids)


async def dead_letter_filter(
    engine: Engine,
    scope: ClusterScope,
    *,
    destination: str | None,
    since: str | None = None,
    until: str | None = None,
) -> MessageFilter:
    """The terms of a dead-letter listing checked (``checked_filter``: a destination the
    caller cannot see, a period that cannot be read, is ``BadSearch``): what
    ``find_dead_letters`` and ``count_dead_letters`` narrow with, and what a front door asks
    before it puts the terms in an address (the console's filter form)."""
    terms = MessageTerms(destination=destination, since=since, until=until)
    return await checked_filter(engine, scope, terms)


async def find_dead_letters(
    engine: Engine,
    scope: ClusterScope,
    *,
    destination: str | None,
    limit: int,
    include_resolved: bool,
    since: str | None = None,
    until: str | None = None,
) -> list[DeadLetter]:
    """The dead letters of the caller's clusters, newest first (``deadletter.list_dead_letters``).

    A ``destination`` that names no destination the caller can see is ``BadSearch``, as in a
    message search (``checked_filter``): a typo is refused, not answered with an empty list.
    ``since`` and ``until`` are a period on when they died, read and checked as every period
    is (``integrator.search``).
    """
    flt = await dead_letter_filter(engine, scope, destination=destination, since=since, until=until)
    return await list_dead_letters(
        engine.store,
        destination_id=flt.destination_id,
        limit=limit,
        include_resolved=include_resolved,
        destination_ids=flt.destination_ids,
        died_since=flt.since,
        died_until=flt.until,
    )


async def select_dead_letters_in_sight(
    engine: Engine,
    scope: ClusterScope,
    terms: MessageTerms,
    *,
    message_ids: Iterable[str] = (),
    every: bool = False,
) -> Selection:
    """What a batch discard selects (``deadletter.select_dead_letters``): the named dead
    letters, each in a cluster where ``scope`` holds its permission (else ``MessageNotFound``
    or ``NotPermitted``, as for one message), and the unresolved ones ``every``, a destination
    or a period select, among the caller's clusters only, as ``find_dead_letters`` lists them;
    a destination the caller cannot see is ``BadSearch``, not an empty selection."""
    flt = await checked_filter(engine, scope, terms)

    def in_sight(message: MessageRecord) -> None:
        # Before anything else is said of it: a delivered one elsewhere is unknown, not
        # "not dead". (Read bare, a few hundred at a time: a request names up to 100,000.)
        try:
            scope.check_destination(engine.catalog, message.destination_id)
        except OutOfSight:
            raise MessageNotFound() from None

    try:
        return await select_dead_letters(
            engine.store,
            message_ids=list(dict.fromkeys(message_ids)),
            every=every,
            destination_id=flt.destination_id,
            destination_ids=flt.destination_ids,
            died_since=flt.since,
            died_until=flt.until,
            in_sight=in_sight,
            keep_discarded=True,
        )
    except UnknownMessageId:
        raise MessageNotFound() from None


async def count_dead_letters(
    engine: Engine,
    scope: ClusterScope,
    *,
    destination: str | None,
    since: str | None = None,
    until: str | None = None,
) -> int:
    """How many dead letters ``find_dead_letters`` would list with these terms and no limit:
    the open ones of the caller's clusters (``count_open_dead_letters``), so a page that
    shows some of them can say how many there are."""
    flt = await dead_letter_filter(engine, scope, destination=destination, since=since, until=until)
    counts = await count_open_dead_letters(engine.store, died_since=flt.since, died_until=flt.until)
    return sum(
        count
        for destination_id, count in counts.items()
        if (flt.destination_id is None or destination_id == flt.destination_id)
        and (flt.destination_ids is None or destination_id in flt.destination_ids)
    )


async def visible_message(engine: Engine, scope: ClusterScope, message_id: str) -> MessageRecord:
    """The message, if ``scope`` allows it in its cluster; else ``MessageNotFound`` (unknown,
    or out of sight) or ``NotPermitted`` (seen, without the permission there)."""
    return await visible_in_store(engine.store, engine.catalog, scope, message_id)


async def visible_in_store(
    store: Store, catalog: Catalog, scope: ClusterScope, message_id: str
) -> MessageRecord:
    """``visible_message`` on a store and the destinations in service, without an engine (the
    server's command line)."""
    message = await store.get_message(message_id)
    if message is None:
        raise MessageNotFound()
    try:
        scope.check_destination(catalog, message.destination_id)
    except OutOfSight:
        raise MessageNotFound() from None
    return message


async def locate_message(engine: Engine, scope: ClusterScope, text: str) -> str:
    """The whole id of the message ``text`` names: in full, or by a prefix only one message has,
    read as the CLI reads ids (``Store.resolve_message_id``: case, left-out dashes), among the
    messages ``scope`` can see. An id outside them is ``MessageNotFound``, as an unknown one;
    a prefix several visible messages share is ``AmbiguousMessageId`` naming those only (one
    the caller cannot see is never listed, nor counts); a prefix too short to look up is
    ``idprefix.BadIdPrefix``. The store looks among the messages of the destinations ``scope``
    sees only, so that how many others share a prefix says nothing either."""
    visible = scope.destination_ids(engine.catalog)
    try:
        found = await engine.store.resolve_message_id(text, destinations=visible)
    except AmbiguousIdPrefix as exc:
        seen = [c for c in exc.candidates if await _sees(engine, scope, c)]
        if len(seen) == 1 and not exc.more:
            return seen[0]
        if not seen and not exc.more:
            raise MessageNotFound() from None
        raise AmbiguousMessageId(seen, more=exc.more) from None
    except StoreNotFound:
        raise MessageNotFound() from None
    await visible_message(engine, scope, found)
    return found


async def visible_resends(
    engine: Engine, scope: ClusterScope, message: MessageRecord
) -> list[ResendRecord]:
    """The resends ``message`` led to that ``scope`` can see (a resend to another destination
    lies in that destination's cluster), oldest first: what a summary of it links to, without
    reading the message in full (``read_message`` gives them with the rest)."""
    _, resends = await engine.store.list_resends(message.id)
    return [r for r in resends if scope.allows_destination(engine.catalog, r.destination_id)]


async def visible_resends_of_each(
    engine: Engine, scope: ClusterScope, messages: Iterable[MessageRecord]
) -> dict[str, list[ResendRecord]]:
    """``visible_resends`` of many messages at once, by message id (one never resent, or whose
    resends ``scope`` cannot see, left out): what a batch's confirmation says of each, as one
    message's preview says it, in a few reads instead of one per message."""
    made = await engine.store.resends_of_each([m.id for m in messages])
    seen = {
        original: [r for r in resends if scope.allows_destination(engine.catalog, r.destination_id)]
        for original, resends in made.items()
    }
    return {original: resends for original, resends in seen.items() if resends}


def resend_targets(engine: Engine, scope: ClusterScope, message: MessageRecord) -> list[str]:
    """The other destinations ``message`` may be resent to by ``scope``'s identity: in a
    cluster where it holds the permission, and taking the message's event type, which a remap
    to any other is skipped for (``resending.takes_event_type``, asked by the remap itself)."""
    catalog = engine.catalog
    return sorted(
        d
        for d in catalog.destinations
        if d != message.destination_id
        and scope.allows_destination(catalog, d)
        and takes_event_type(catalog, d, message.event_type)
    )


async def statuses_now(engine: Engine, scope: ClusterScope, ids: Iterable[str]) -> dict[str, str]:
    """The status each of these messages has now, by id, for those ``scope`` can see (a message
    pruned since, or outside its clusters, is left out): what a batch's result says of the
    messages it made, read when the result is shown, not when it was made."""
    found = await engine.store.get_messages(sorted(set(ids)), payloads=False)
    return {
        m.id: m.status for m in found if scope.allows_destination(engine.catalog, m.destination_id)
    }


async def _sees(engine: Engine, scope: ClusterScope, message_id: str) -> bool:
    try:
        await visible_message(engine, scope, message_id)
    except MessageNotFound:
        return False
    return True


async def read_message(
    engine: Engine, scope: ClusterScope, message_id: str, *, source: str | None
) -> MessageReading:
    """One message in full for ``scope``'s identity (``patient_data.read``), recorded as a
    view of patient data (``message``, with the event's BSN hash and ``source``) before it is
    returned. Refused as ``visible_message`` refuses."""
    message = await visible_message(engine, scope, message_id)
    catalog = engine.catalog
    return await read_message_in_store(
        engine.store,
        scope.identity,
        message,
        receiver_text=scope.identity.may(
            Permission.PATIENT_DATA_READ, cluster_of(catalog, message.destination_id)
        ),
        # A resend to another destination, or the original of one, lies in that
        # destination's cluster.
        seen=scope.destination_ids(catalog),
        source=source,
    )


def check_resend(
    catalog: Catalog, scope: ClusterScope, messages: Iterable[MessageRecord], to: str | None
) -> None:
    """May ``scope`` resend these messages (to ``to``)? Each message's cluster, and the target's.

    A message outside the caller's clusters is ``UnknownMessageId``, as an unknown one; a target
    outside them is refused as a destination that is not configured (``TargetNotConfigured``,
    which does not repeat it); one
    seen without ``messages.resend`` there is ``NotPermitted``.
    """
    for message in messages:
        try:
            scope.check_destination(catalog, message.destination_id)
        except OutOfSight:
            raise UnknownMessageId(message.id) from None
    if to is None:
        return
    try:
        scope.check_destination(catalog, to)
    except OutOfSight:
        raise TargetNotConfigured(to) from None


_NO_LONGER: Final = {
    "resend": ("resend these messages", " where they lie", "resent"),
    "discard": ("discard these dead letters", " where they lie", "discarded"),
    "route": ("route events", "", "routed"),
}
"""A job's work, as its stop names it: what it did, where the role was needed, what was not."""


def whole_or_stopped(kind: str, answered: list[Any], *, done: int, total: int) -> list[Any]:
    """``answered``, the results of a job of ``kind`` (resend, discard, route), when it did all
    ``total`` (``done`` of them); else ``JobStopped``: it stopped early because whoever started
    it may no longer do it (``still_permitted``), said on the job (names nobody) with what it
    did. The console's batches that run in their request stop the same way and word it with
    the code (``job.stopped.<kind>``, with ``done`` and ``total``) in the person's language."""
    if done >= total:
        return answered
    doing, where, not_done = _NO_LONGER[kind]
    raise JobStopped(
        f"stopped after {done} of {total}: whoever started this job may no longer "
        f"{doing} (the token was revoked or expired, its owner deactivated, or the role taken "
        f"away{where}); the rest was not {not_done}",
        answered,
    ).coded(f"job.stopped.{kind}", done=done, total=total)


def still_permitted(
    engine: Engine, scope: ClusterScope, messages: Iterable[MessageRecord], to: str | None = None
) -> Callable[[], Awaitable[bool]]:
    """Whether ``scope``'s identity, as it stands now, still holds ``scope``'s permission where
    ``messages`` lie (and ``to``): the identity read afresh (``AccessService.current``), for a
    job to ask between its steps.

    The request that started a job was checked once; the job resends or discards for minutes
    after. A token revoked because it leaked, or a person whose role was taken away, stops it
    at the next step, not when the last message has gone under their name.
    """
    clusters: set[str | None] = {cluster_of(engine.catalog, m.destination_id) for m in messages}
    if to is not None:
        clusters.add(cluster_of(engine.catalog, to))
    return still_permitted_in(engine, scope, clusters)


def still_permitted_in(
    engine: Engine, scope: ClusterScope, clusters: Iterable[str | None]
) -> Callable[[], Awaitable[bool]]:
    """``still_permitted`` for ``clusters`` named (``None``: all clusters, as routing events
    needs its permission)."""
    needed = frozenset(clusters)

    async def allowed() -> bool:
        now = await engine.access.current(scope.identity)
        return now is not None and ClusterScope(now, scope.permission).allows_all(needed)

    return allowed


async def resend_message(
    engine: Engine,
    scope: ClusterScope,
    message_id: str,
    *,
    reason: str,
    mode: str | None = None,
    to: str | None = None,
    source: str | None = None,
    expected_newest: str | None = None,
) -> ResendResult:
    """Resend one message, named, so an earlier resend never stops it: a new, linked message,
    recorded under ``scope``'s identity and ``source``.

    ``expected_newest``: the newest resend of it the caller saw (``""``: none), when the
    caller confirms on a listing of them (the console's preview): one made since, by a
    colleague a moment before, stops it (``integrator.resent_since``, checked at the commit).

    Refusals: ``MessageNotFound`` (unknown or out of sight), ``NotPermitted``, a
    ``DeadLetterError`` for a request that cannot be done as asked (a missing reason, a target
    that is not configured), ``NotResent`` when the message cannot be resent at all,
    ``ResentSince`` when another resend was made after ``expected_newest``.
    """
    try:
        selection = await select_for_resend(engine.store, message_ids=[message_id])
        check_resend(engine.catalog, scope, selection, to)
        request = ResendRequest(
            reason=reason, actor=scope.actor, mode=mode, to=to, job_id=None, source=source
        )
        guards = (
            {}
            if expected_newest is None
            else {
                original.id: newest_seen(engine.catalog, scope.identity, expected_newest)
                for original in selection.messages
            }
        )
        [result] = await resend_in_engine(engine, selection, request, guards=guards)
    except UnknownMessageId:
        raise MessageNotFound() from None
    if resent_since(result):
        raise ResentSince(result)
    if not result.resent:
        raise NotResent(result)
    return result
