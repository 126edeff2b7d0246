"""Intake's check of an event against what was accepted before under its ZD number.

A ZD number is the platform's number of one referral or diagnostic request: it is sent `new`
once and may later be cancelled (docs/product.md §2). An event that does not fit that story is
still accepted, stored and sent exactly as any other (nothing is ever lost or held back for
it), but the intake answer says so in its warnings, the engine logs a warning with identifiers
only, and each message made of the event keeps the warning among its own, so support sees it
later on the message (``messages show``, the console, the API's message detail). The rules:

- ``cancel_without_new``: a cancel whose ZD number has no earlier accepted `new` event of the
  same type: the destination gets a cancel for something it never received;
- ``cancel_repeated``: a cancel for a ZD number that was cancelled before;
- ``new_repeated``: a second `new` for a ZD number accepted before under another event id: the
  destination gets the referral or request twice and may make a second one of it;
- ``new_after_cancel``: a `new` for a ZD number that was cancelled before (a cancel that
  overtook its `new`, or a number used again): the destination may keep it open.

"Earlier" is the store's history (one indexed query per batch, read by ``Store.accept_events``
just before it inserts the batch: ``BatchCheck``) followed by the batch's own events in their
order, so a `new` and its cancel in one batch are fine in that order and the other way round
each gets a warning. The same event id again is the duplicate rule's (``Intake._duplicate``), not
this one's. On SQLite the history is read in the transaction that inserts the batch, so every
batch sees every batch committed before it. On PostgreSQL it is read just before, so two batches
committed at the same moment by different workers or engines may not see each other: the check
is a warning, not a lock.

Messages made of a stored event later carry its warning too. ``events route`` maps an event no
destination served at intake, so there is no message to take the warning from: ``check_stored``
judges the event again, against the events of its number *before it* in the store's order (one
``Store.zd_history`` read per chunk), so what came later does not count: a `new` cancelled
later broke nothing. A message mapped again (a held one released, a remap resend) keeps the ZD
warnings of the message it replaces or resends (``zd_warnings``) and takes fresh notes from its
new mapping. Neither is counted in the metric again: that counts accepted events, once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from integrator.logging import get_logger
from integrator.store import EventRecord, NewMessage, Store
from integrator.store.records import ZdEvent
from shapes import UUID, Shape

log = get_logger("integrator.intake")

CANCEL_WITHOUT_NEW = "cancel_without_new"
CANCEL_REPEATED = "cancel_repeated"
NEW_REPEATED = "new_repeated"
NEW_AFTER_CANCEL = "new_after_cancel"
RULES = (CANCEL_WITHOUT_NEW, CANCEL_REPEATED, NEW_REPEATED, NEW_AFTER_CANCEL)
_PREFIXES = tuple(f"{rule}: " for rule in RULES)  # every warning starts with its rule
CREATED_AT_IN_FUTURE: Final = "created_at_in_future"
"""The rule of intake's other warning about the event itself rather than its mapping: a
``created_at`` ahead of its arrival (``preparing.CREATED_LATER``). Named here, not there, so
that the commands that only read messages do not load the mappers to know it."""
# What a message mapped again keeps of the one it replaces: these, and that one.
_KEPT = (*_PREFIXES, f"{CREATED_AT_IN_FUTURE}: ")

KINDS: Final = {"referral": "referral", "diagnostic_request": "diagnostic request"}
"""How a warning names each event type."""
_KIND: Final = "|".join(re.escape(kind) for kind in KINDS.values())

# The warnings, each starting with its rule (`shapes`); `earlier` is the event id the
# event conflicts with.
CANCEL_WITHOUT_NEW_WARNING: Final = Shape(
    f"zd.{CANCEL_WITHOUT_NEW}",
    f"{CANCEL_WITHOUT_NEW}: no new {{kind}} with this ZD number was accepted before this "
    "cancel; the cancel is sent all the same, for a {kind} the destination may never have "
    "received",
    kind=_KIND,
)
CANCEL_WITHOUT_NEW_OTHER_WARNING: Final = Shape(
    f"zd.{CANCEL_WITHOUT_NEW}_other",
    CANCEL_WITHOUT_NEW_WARNING.template + " (event {earlier} has this ZD number as a {other})",
    kind=_KIND,
    earlier=UUID,
    other=_KIND,
)
CANCEL_REPEATED_WARNING: Final = Shape(
    f"zd.{CANCEL_REPEATED}",
    f"{CANCEL_REPEATED}: this ZD number's {{kind}} was cancelled before, in event {{earlier}}; "
    "this cancel is sent as well",
    kind=_KIND,
    earlier=UUID,
)
NEW_REPEATED_WARNING: Final = Shape(
    f"zd.{NEW_REPEATED}",
    f"{NEW_REPEATED}: a new {{kind}} with this ZD number was accepted before, in event "
    "{earlier}; this one is sent as well, so the destination may make a second {kind} of it",
    kind=_KIND,
    earlier=UUID,
)
NEW_AFTER_CANCEL_WARNING: Final = Shape(
    f"zd.{NEW_AFTER_CANCEL}",
    f"{NEW_AFTER_CANCEL}: this ZD number's {{kind}} was cancelled before, in event {{earlier}}; "
    "this new one is sent as well, after the cancel",
    kind=_KIND,
    earlier=UUID,
)


OUTSIDE: Final = "an event outside your clusters"
"""What a warning says instead of an earlier event's id to a reader who may not see that event
(``unnamed``): its id would name another cluster's event."""


def _outside(shape: Shape) -> Shape:
    return Shape(
        f"{shape.code}_outside",
        shape.template.replace("in event {earlier}", f"in {OUTSIDE}"),
        kind=_KIND,
    )


CANCEL_WITHOUT_NEW_OTHER_OUTSIDE: Final = Shape(
    f"{CANCEL_WITHOUT_NEW_OTHER_WARNING.code}_outside",
    CANCEL_WITHOUT_NEW_WARNING.template + f" ({OUTSIDE} has this ZD number as a {{other}})",
    kind=_KIND,
    other=_KIND,
)
CANCEL_REPEATED_OUTSIDE: Final = _outside(CANCEL_REPEATED_WARNING)
NEW_REPEATED_OUTSIDE: Final = _outside(NEW_REPEATED_WARNING)
NEW_AFTER_CANCEL_OUTSIDE: Final = _outside(NEW_AFTER_CANCEL_WARNING)

NAMING_AN_EVENT: Final = {
    CANCEL_WITHOUT_NEW_OTHER_WARNING: CANCEL_WITHOUT_NEW_OTHER_OUTSIDE,
    CANCEL_REPEATED_WARNING: CANCEL_REPEATED_OUTSIDE,
    NEW_REPEATED_WARNING: NEW_REPEATED_OUTSIDE,
    NEW_AFTER_CANCEL_WARNING: NEW_AFTER_CANCEL_OUTSIDE,
}
"""The warnings that name an earlier event, and each one's form that does not."""


def earlier_event(warning: str) -> str | None:
    """The id of the earlier event ``warning`` names; None when it names none."""
    for shape in NAMING_AN_EVENT:
        values = shape.read(warning)
        if values is not None:
            return values["earlier"]
    return None


def unnamed(warning: str) -> str:
    """``warning`` saying ``OUTSIDE`` where it names an earlier event (else as it is)."""
    for shape, outside in NAMING_AN_EVENT.items():
        values = shape.read(warning)
        if values is not None:
            del values["earlier"]
            return outside(**values)
    return warning


@dataclass(frozen=True, slots=True)
class ZdFinding:
    """One rule an accepted event broke; ``earlier_event_id`` is the event it conflicts with
    (for ``cancel_without_new``: one of another type with the same ZD number, if any)."""

    rule: str
    earlier_event_id: str | None
    warning: str


class ZdCheck:
    """The findings of one intake batch, by event id (events that fit have none)."""

    __slots__ = ("_findings",)

    def __init__(self, findings: Mapping[str, tuple[ZdFinding, ...]] | None = None) -> None:
        self._findings: Mapping[str, tuple[ZdFinding, ...]] = findings or {}

    def noted(self, event: EventRecord, messages: Sequence[NewMessage]) -> Sequence[NewMessage]:
        """The event's messages as they are stored: with its warnings added to their own (the
        payload, what is sent, is the same)."""
        found = self._findings.get(event.id)
        if not found:
            return messages
        notes = tuple(f.warning for f in found)
        return tuple(dataclasses.replace(m, warnings=m.warnings + notes) for m in messages)

    def warnings(self, event_id: str) -> tuple[str, ...]:
        """The warnings of one event, to show beside it (``events_routing.describe_event``)."""
        return tuple(f.warning for f in self._findings.get(event_id, ()))

    def report(
        self,
        event: EventRecord,
        source: str,
        count: Callable[[str], None] | None = None,
        *,
        answered: bool = False,
    ) -> tuple[str, ...]:
        """For an event that was accepted: log each finding (identifiers only), ``count`` its
        rule (the engine's metric), and return the warnings for the intake answer. The line is
        a warning, or info where the caller shows that answer in this process (``answered``:
        ``Intake``'s)."""
        found = self._findings.get(event.id)
        if not found:
            return ()
        line = log.info if answered else log.warning
        for finding in found:
            if count is not None:
                count(finding.rule)
            line(
                "event does not fit its ZD number's history",
                event_id=event.id,
                zd_number=event.zd_number,
                rule=finding.rule,
                earlier_event_id=finding.earlier_event_id,
                source=source,
            )
        return tuple(f.warning for f in found)


def zd_warnings(warnings: Sequence[str]) -> tuple[str, ...]:
    """This module's warnings among a message's, with intake's ``created_at_in_future``: what
    a message mapped again keeps of the one it replaces or resends (its mapping notes are made
    anew; these are about the event, as intake found it when it arrived)."""
    return tuple(w for w in warnings if w.startswith(_KEPT))


class BatchCheck:
    """A batch judged as the store accepts it: given to ``Store.accept_events`` as its
    ``judge``, which asks it once, with the history of the batch's ZD numbers read just before
    the insert (on SQLite in the same transaction); ``check`` then holds the findings, for the
    intake answers, and the messages are stored with their warnings.

    On SQLite it is asked on the store's writer thread: it only judges (``judge``), in memory.
    """

    __slots__ = ("_records", "check")

    def __init__(self, records: Sequence[EventRecord]) -> None:
        self._records = records
        self.check = ZdCheck()

    def __call__(self, history: Mapping[str, Sequence[ZdEvent]]) -> dict[str, tuple[str, ...]]:
        findings = judge(history, self._records)
        self.check = ZdCheck(findings)
        return {event_id: tuple(f.warning for f in found) for event_id, found in findings.items()}


async def check_stored(store: Store, records: Sequence[EventRecord]) -> ZdCheck:
    """The findings of events accepted earlier, as they stood when each was accepted: one store
    read for all their ZD numbers (``events route`` reads once per chunk)."""
    if not records:
        return ZdCheck()
    history = await store.zd_history([r.zd_number for r in records])
    return ZdCheck(judge_stored(history, records))


def judge_stored(
    history: Mapping[str, Sequence[ZdEvent]], records: Sequence[EventRecord]
) -> dict[str, tuple[ZdFinding, ...]]:
    """What each of ``records``, stored already, broke against the events of its ZD number
    before it in ``history`` (the store's order: ``received_at``, then id).

    Later events are not held against it: intake could not have seen them either. Events of
    one intake batch that share a ``received_at`` are in id order here, not in batch order, so
    between those two the finding can differ from intake's. An event missing from the history
    has no place in it to be judged from, and gets none.
    """
    findings: dict[str, tuple[ZdFinding, ...]] = {}
    for record in records:
        stored = history.get(record.zd_number, ())
        place = next((i for i, e in enumerate(stored) if e.event_id == record.id), None)
        if place is None:
            continue
        found = _judge_one(stored[place], stored[:place])
        if found:
            findings[record.id] = found
    return findings


def judge(
    history: Mapping[str, Sequence[ZdEvent]], records: Sequence[EventRecord]
) -> dict[str, tuple[ZdFinding, ...]]:
    """What each of ``records`` (in batch order) breaks, given the stored ``history``.

    An event whose id is in the history or came earlier in the batch is a duplicate: it is not
    judged here and adds nothing. Events of one ZD number keep their order.
    """
    known = {e.event_id for events in history.values() for e in events}
    seen: dict[str, list[ZdEvent]] = {}
    findings: dict[str, tuple[ZdFinding, ...]] = {}
    for record in records:
        if record.id in known:
            continue
        known.add(record.id)
        entry = ZdEvent(record.id, record.type, record.action)
        earlier = seen.get(record.zd_number)
        if earlier is None:
            stored = history.get(record.zd_number)
            if stored is None:  # the usual case: a number not seen before
                seen[record.zd_number] = [entry]
                if record.action == "cancel":
                    findings[record.id] = (_cancel_without_new(record.type, None),)
                continue
            earlier = seen[record.zd_number] = list(stored)
        found = _judge_one(entry, earlier)
        if found:
            findings[record.id] = found
        earlier.append(entry)
    return findings


def _judge_one(event: ZdEvent, earlier: Sequence[ZdEvent]) -> tuple[ZdFinding, ...]:
    first_new = first_cancel = other_type = None
    for e in earlier:
        if e.type != event.type:
            if other_type is None or (other_type.action == "cancel" and e.action == "new"):
                other_type = e  # the first of another type, a `new` one if there is
        elif e.action == "cancel":
            first_cancel = first_cancel or e.event_id
        else:
            first_new = first_new or e.event_id
    kind = KINDS.get(event.type, event.type)
    found: list[ZdFinding] = []
    if event.action == "cancel":
        if first_new is None:
            found.append(_cancel_without_new(event.type, other_type))
        if first_cancel is not None:
            found.append(
                ZdFinding(
                    CANCEL_REPEATED,
                    first_cancel,
                    CANCEL_REPEATED_WARNING(kind=kind, earlier=first_cancel),
                )
            )
        return tuple(found)
    if first_new is not None:
        found.append(
            ZdFinding(NEW_REPEATED, first_new, NEW_REPEATED_WARNING(kind=kind, earlier=first_new))
        )
    if first_cancel is not None:
        found.append(
            ZdFinding(
                NEW_AFTER_CANCEL,
                first_cancel,
                NEW_AFTER_CANCEL_WARNING(kind=kind, earlier=first_cancel),
            )
        )
    return tuple(found)


def _cancel_without_new(event_type: str, other_type: ZdEvent | None) -> ZdFinding:
    kind = KINDS.get(event_type, event_type)
    if other_type is None:
        return ZdFinding(CANCEL_WITHOUT_NEW, None, CANCEL_WITHOUT_NEW_WARNING(kind=kind))
    return ZdFinding(
        CANCEL_WITHOUT_NEW,
        other_type.event_id,
        CANCEL_WITHOUT_NEW_OTHER_WARNING(
            kind=kind,
            earlier=other_type.event_id,
            other=KINDS.get(other_type.type, other_type.type),
        ),
    )
