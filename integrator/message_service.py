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
  the message's cluster.
- **Resending** one message: ``deadletter.resend``'s rules through ``resend_in_engine``, after
  the message's cluster and the cluster of a ``to`` target are checked; a target outside the
  caller's clusters is answered as one that is not configured.

Refusals are domain exceptions (``MessageNotFound``, ``NotPermitted``, ``BadSearch``,
``deadletter``'s ``DeadLetterError`` family); each front door says them its own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from deadletter import (
    ResendRefused,
    ResendRequest,
    ResendResult,
    UnknownMessageId,
    select_for_resend,
)
from integrator.access.permissions import Permission
from integrator.catalog import Catalog
from integrator.clusters import ClusterScope, OutOfSight, cluster_of
from integrator.engine import Engine
from integrator.patient_views import record_search, record_view
from integrator.presenters import message_detail
from integrator.resending import resend_in_engine
from integrator.search import build_filter
from integrator.settings import Settings
from integrator.store import (
    AttemptRecord,
    EventRecord,
    MessageFilter,
    MessageRecord,
    ResendRecord,
)

NO_MESSAGE: Final = "no message with that id"


class MessageNotFound(LookupError):
    """No message with that id, or one outside the caller's clusters: the same answer, so that
    nobody learns which ids exist elsewhere."""

    def __init__(self) -> None:
        super().__init__(NO_MESSAGE)


class NotResent(ResendRefused):
    """The named message was not resent (still in delivery, held, no bytes...); ``result``
    says why in its note."""

    def __init__(self, result: ResendResult) -> None:
        super().__init__(result.note or "not resent")
        self.result = result


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


def message_filter(
    settings: Settings, catalog: Catalog, scope: ClusterScope, terms: MessageTerms
) -> MessageFilter:
    """The store filter of ``terms``, narrowed to the destinations ``scope`` may see; a term
    that cannot be used is ``BadSearch`` (naming the term and the rule). The one filter of a
    message search: ``find_messages`` lists with it, the API's batch resend selects with it."""
    flt = build_filter(settings, **terms.given())
    return dataclasses.replace(flt, destination_ids=scope.destination_ids(catalog))


async def find_messages(
    engine: Engine,
    scope: ClusterScope,
    terms: MessageTerms,
    *,
    limit: int,
    offset: int = 0,
    source: str | None = None,
) -> list[MessageRecord]:
    """The messages ``terms`` find in the caller's clusters, newest first.

    A search by BSN is a view of patient data: made only under ``patient_data.read``, and
    recorded (``messages.search``, with the BSN's keyed hash and how many it found) before the
    rows are returned.
    """
    if terms.bsn and scope.permission is not Permission.PATIENT_DATA_READ:
        raise ValueError("a search by BSN is made under patient_data.read")
    flt = message_filter(engine.settings, engine.catalog, scope, terms)
    rows = await engine.store.list_messages(flt, limit=limit, offset=offset)
    await record_search(
        engine.store,
        scope.identity,
        "messages.search",
        bsn_hash=flt.bsn_hash,
        found=len(rows),
        source=source,
    )
    return rows


async def visible_message(engine: Engine, scope: ClusterScope, message_id: str) -> MessageRecord:
    """The message, if ``scope`` allows it in its cluster; else ``MessageNotFound`` (unknown,
    or out of sight) or ``NotPermitted`` (seen, without the permission there)."""
    message = await engine.store.get_message(message_id)
    if message is None:
        raise MessageNotFound()
    try:
        scope.check_destination(engine.catalog, message.destination_id)
    except OutOfSight:
        raise MessageNotFound() from None
    return message


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

    def to_json(self) -> dict[str, Any]:
        return message_detail(
            self.message,
            self.attempts,
            event=self.event,
            origin=self.origin,
            resends=self.resends,
            receiver_text=self.receiver_text,
        )


async def read_message(
    engine: Engine, scope: ClusterScope, message_id: str, *, source: str | None
) -> MessageReading:
    """One message in full for ``scope``'s identity (``patient_data.read``), recorded as a
    view of patient data (``message``, with the event's BSN hash and ``source``) before it is
    returned. Refused as ``visible_message`` refuses."""
    message = await visible_message(engine, scope, message_id)
    catalog = engine.catalog
    attempts = await engine.store.list_attempts(message.id)
    event = await engine.store.get_event(message.event_id)
    origin, resends = await engine.store.list_resends(message.id)
    # A resend to another destination lies in that destination's cluster.
    shown = [r for r in resends if scope.allows_destination(catalog, r.destination_id)]
    await record_view(
        engine.store,
        scope.identity,
        message.id,
        view="message",
        bsn_hash=event.bsn_hash if event is not None else None,
        event_id=message.event_id,
        source=source,
    )
    receiver_text = scope.identity.may(
        Permission.PATIENT_DATA_READ, cluster_of(catalog, message.destination_id)
    )
    return MessageReading(message, attempts, event, origin, shown, receiver_text)


def check_resend(
    catalog: Catalog, scope: ClusterScope, messages: Iterable[MessageRecord], to: str | None
) -> None:
    """May ``scope`` resend these messages (to ``to``)? Each message's cluster, and the target's.

    A message outside the caller's clusters is ``UnknownMessageId``, as an unknown one; a target
    outside them is refused as a destination that is not configured (``ResendRefused``); one
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
        raise ResendRefused(f"destination {to} is not configured") from None


async def resend_message(
    engine: Engine,
    scope: ClusterScope,
    message_id: str,
    *,
    reason: str,
    mode: str | None = None,
    to: str | None = None,
    source: str | None = None,
) -> ResendResult:
    """Resend one message, named, so an earlier resend never stops it: a new, linked message,
    recorded under ``scope``'s identity and ``source``.

    Refusals: ``MessageNotFound`` (unknown or out of sight), ``NotPermitted``, a
    ``DeadLetterError`` for a request that cannot be done as asked (a missing reason, a target
    that is not configured), ``NotResent`` when the message cannot be resent at all.
    """
    try:
        selection = await select_for_resend(engine.store, message_ids=[message_id])
        check_resend(engine.catalog, scope, selection, to)
        request = ResendRequest(
            reason=reason, actor=scope.actor, mode=mode, to=to, job_id=None, source=source
        )
        [result] = await resend_in_engine(engine, selection, request)
    except UnknownMessageId:
        raise MessageNotFound() from None
    if not result.resent:
        raise NotResent(result)
    return result
