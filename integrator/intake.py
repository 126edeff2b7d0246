"""Intake: a raw event becomes a stored event plus one mapped message per routed destination.

Order of work (DESIGN "Data flow"): validate; route; map each destination's message version;
write the event and all its messages in ONE transaction; only then publish to the transport.
Bad input is never dropped: it is stored as a rejected event with the field errors, and the caller
gets the same errors. An event that maps for no destination is still stored, with a warning, so
support can find it. An event that does not fit its ZD number's history (a cancel of nothing, a
second `new`) is accepted and sent as any other, with a warning (``integrator.zd_sequence``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

from destinations.config import DestinationConfig
from destinations.worker import OutboundMessage
from integrator.catalog import Catalog
from integrator.clock import Clock
from integrator.errors import InvalidEvent
from integrator.group_commit import GroupCommit, accepted_alone
from integrator.logging import get_logger
from integrator.metrics import EventOutcome, Metrics
from integrator.payload_diff import described, differing_fields
from integrator.prepare_process import PrepareProcess, worth_it
from integrator.preparing import (
    CREATED_LATER,
    CREATED_LATER_SHAPE,
    HELD,
    Event,
    Prepared,
    RoutedMessage,
    mapping_context,
    prepare_all,
    render,
    validated,
)
from integrator.rejected_keys import read_keys
from integrator.settings import Settings
from integrator.store import (
    EventRecord,
    MessageFilter,
    MessageRecord,
    NewMessage,
    RejectedKeys,
    Store,
)
from integrator.transport import Transport
from integrator.transport.committed import DELIVERY_AWAY, publish_committed
from integrator.transport.outbox import outbound_message
from integrator.turnstile import Ticket, Turn, Turnstile
from integrator.zd_sequence import CREATED_AT_IN_FUTURE, zd_warnings
from schemas import EventValidationError, FieldError, parse_event
from schemas.refused import EVENT_BODY_LIMIT, over_limit
from schemas.rules import message_for
from shapes import Shape

__all__ = [
    "CREATED_LATER_SHAPE",
    "HELD",
    "NOT_RELEASED",
    "Intake",
    "IntakeResult",
    "RoutedMessage",
    "mapping_context",
]

NOT_RELEASED: Final = Shape(
    "held_not_released",
    "not released: its event no longer passes validation ({rules}); it cannot be sent, and "
    "stays held: the sender must send it again",
    rules=r"[\w.\[\]$]+: [a-z0-9_]+(?:, [\w.\[\]$]+: [a-z0-9_]+)*",
)
"""Said among a held message's warnings when its stored event breaks a rule added since it was
held (``release_held``): else it kept only the reason it was held for, which an operator may
have mended since, and support saw a message held for a reason that no longer held."""


def rules_broken(refused: EventValidationError) -> list[str]:
    """``path: rule`` of each rule an event broke: what the log and ``NOT_RELEASED`` name
    (never a value)."""
    return [f"{error.path}: {error.rule}" for error in refused.errors]


log = get_logger("integrator.intake")

#: Validating and mapping is CPU work on the event loop that delivery shares; a batch of 200
#: would hold an MLLP round trip back for tens of milliseconds without these pauses. Pausing
#: after every 2 events cost more in event-loop turns than it won (``bench/bench_rabbitmq.py``).
YIELD_EVERY = 8

#: Held messages released between two publishes: each chunk is handed to delivery right after
#: its messages are committed, so an engine killed in the middle of a long release leaves at most
#: one chunk queued in the store and not yet published (the recovery leader, or the next start,
#: publishes it), as resend and routing jobs do. The size of a resend chunk.
RELEASE_CHUNK = 200


@dataclass(frozen=True)
class IntakeResult:
    """``changed``: a duplicate whose content differs from the event accepted under its
    ``event_id``; the change was not taken, and this copy is kept as rejected input
    ``rejected_id``. Said apart from ``duplicate``: an identical retry and a dropped change
    (a cancel sent under its referral's ``event_id``) both answer ``duplicate: true``, and a
    program that reads only that lost the cancel without noticing."""

    event_id: str
    zd_number: str
    duplicate: bool
    messages: tuple[RoutedMessage, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    changed: bool = False
    rejected_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "zd_number": self.zd_number,
            "duplicate": self.duplicate,
            "changed": self.changed,
            "rejected_id": self.rejected_id,
            "messages": [
                {
                    "message_id": m.message_id,
                    "destination": m.destination_id,
                    "version": m.version,
                    "control_id": m.control_id,
                    "status": m.status,
                    "warnings": list(m.warnings),
                }
                for m in self.messages
            ],
            "warnings": list(self.warnings),
        }


class Intake:
    def __init__(
        self,
        *,
        store: Store,
        transport: Transport | None,
        catalog: Catalog,
        settings: Settings,
        clock: Clock,
        metrics: Metrics | None = None,
        prepare_process: PrepareProcess | None = None,
        answered: bool = False,
    ) -> None:
        """``prepare_process``: where batches of 32 events or more are prepared
        (``integrator.prepare_process``); without it every batch is prepared on the loop.

        ``answered``: the caller shows each event's answer to the person who submitted it, in
        this process (``integrator submit`` into the store). The lines about one event that its
        answer says (a refusal, a ZD finding, a changed duplicate) are then logged at info, not
        warning: at the command's level they are not written, and the terminal says each thing
        once, not also as the engine's log line beside the command's ``warning:``. The engine's
        journal keeps them as warnings: nobody there saw the answer."""
        self._metrics = metrics
        self._answered = answered
        self._process = prepare_process
        self._store = store
        self._transport = transport
        self._catalog = catalog
        self._unrouted: frozenset[str] = frozenset()  # ``stop_routing``, until a new catalog
        self._routes: dict[str, list[DestinationConfig]] = {}  # ``_serving``, until either changes
        self._in_flight: set[asyncio.Event] = set()  # batches not yet in the store
        self._settings = settings
        # ``Settings.zone`` makes a ``ZoneInfo`` per call (its cache's lookup): ~2 µs a message.
        self._zone = settings.zone
        self._clock = clock
        # Batches validate and map one at a time: the CPU is one either way, and while one
        # batch works in short turns the others' commits, confirms and the MLLP round trips
        # get their turn sooner than if several batches took turns of their own.
        self._preparing = asyncio.Lock()
        self.releasing = asyncio.Lock()
        """Held by ``release_held`` and by a fifo runner's hold-and-map-again of a message
        whose version was retired (``Engine._remap_retired``): between that hold and its
        ``release_now``, a ``release_held`` (a destination resumed, a catalog applied) found the
        message held and released it to the tail of the queue, and the runner, finding it
        released already, went on with the next: the cancel made after the sunset went out
        before the referral mapped before it (a CI run on a loaded machine). Within one
        engine: another engine on the store releasing held messages in that window (they all
        apply a resume at about the same time) is not kept out by it, and the runner sends the
        message in its place all the same (``Engine._remap_retired``), the copy that engine
        published to the tail found owing nothing (``_publish_released``)."""
        self._committing, self._publishing = Turnstile(), Turnstile()
        self._group = GroupCommit(store)

    @property
    def zone(self) -> tzinfo:
        """The zone people read times in (``INTEGRATOR_TIMEZONE``): the day of a date said."""
        return self._zone

    @property
    def catalog(self) -> Catalog:
        """The destinations events are routed to."""
        return self._catalog

    @catalog.setter
    def catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._unrouted = frozenset()  # the new catalog says what is in service now
        self._routes = {}

    async def stop_routing(self, destination_id: str) -> None:
        """Route no more events to ``destination_id`` until the next catalog is set, and return
        once every batch routed before has its messages in the store (or failed).

        A removal calls this before it counts what waits for the destination: an event taken
        in between would otherwise be routed to a destination whose file is gone, its
        message queued with nothing ever to send it, and the removal would not know of it.
        """
        self._unrouted = self._unrouted | {destination_id}
        self._routes = {}
        for done in list(self._in_flight):
            await done.wait()

    def turn(self) -> Turn:
        """A place in line for ``submit_many``: the batches given turns of one intake commit,
        and publish, in the order the turns were taken (``integrator.turnstile``).

        For a channel whose order is the senders' (the AMQP intake queue): a cancel taken after
        its referral must not be stored or sent before it. HTTP requests have no order among
        them that anyone could rely on, and take none.
        """
        return Turn(self._committing.ticket(), self._publishing.ticket())

    def parse(self, raw: bytes | str | Mapping[str, Any]) -> Event:
        return parse_event(raw)

    def rejected_keys(self, raw: bytes | str | Mapping[str, Any]) -> RejectedKeys:
        """What support will find ``raw`` by once it is kept as rejected input (its ZD number,
        provider, BSN hash), as far as it can be read (``integrator.rejected_keys``). Nothing
        of a body above ``EVENT_BODY_LIMIT``: it is never parsed (``keep_too_large``)."""
        if isinstance(raw, bytes) and len(raw) > EVENT_BODY_LIMIT:
            return RejectedKeys()
        return read_keys(raw, self._settings.bsn_hash)

    async def submit(
        self, raw: bytes | str | Mapping[str, Any], *, source: str, caller: str | None = None
    ) -> IntakeResult:
        """Validate and accept one event; raises ``InvalidEvent`` after storing the rejection."""
        results = await self.submit_many([raw], source=source, caller=caller)
        result = results[0]
        if isinstance(result, InvalidEvent):
            raise result
        return result

    async def submit_many(
        self,
        raws: Sequence[bytes | str | Mapping[str, Any]],
        *,
        source: str,
        caller: str | None = None,
        settled: dict[int, InvalidEvent] | None = None,
        turn: Turn | None = None,
        again: Collection[int] = (),
    ) -> list[IntakeResult | InvalidEvent]:
        """Accept many events in one transaction (for throughput); each gets its own outcome.

        ``caller``: who sent them, as the front door established it; kept with any of them
        that is refused (``keep_rejected``). ``settled``: filled, by index, with each refused
        event as soon as it is kept (in a commit of its own): when the batch's commit fails
        after that, a caller that tries the others again must not keep those a second time.

        ``turn`` (``Intake.turn``): the batch is validated and mapped at once, but checked
        against its ZD numbers' history and committed only once the batches of earlier turns
        have committed, and published once they have published; it passes each ticket on
        once its step is done (its messages written to the transport, before their confirms
        are awaited). A ticket whose step failed is the caller's to pass on (after trying
        again, for instance).

        ``again``: the indexes of events that may have been committed before by an engine
        that died before publishing their messages (an AMQP redelivery, a try again). Those
        that turn out duplicates have their still-queued messages published again, before
        the batch's new ones: a cancel redelivered behind its referral went out first."""
        done = asyncio.Event()
        self._in_flight.add(done)  # routed on the catalog of now, until its commit
        try:
            return await self._submit_many(
                raws, source=source, caller=caller, settled=settled, turn=turn, again=again
            )
        finally:
            self._in_flight.discard(done)
            done.set()

    async def _submit_many(
        self,
        raws: Sequence[bytes | str | Mapping[str, Any]],
        *,
        source: str,
        caller: str | None,
        settled: dict[int, InvalidEvent] | None,
        turn: Turn | None,
        again: Collection[int],
    ) -> list[IntakeResult | InvalidEvent]:
        # The latest birth date an event may give: once per batch, not a clock read per event.
        # A day of slack: the sender's "today" may be ahead of the engine's zone.
        born_by = self._clock.now().astimezone(self._zone).date() + timedelta(days=1)
        async with self._preparing:
            outcomes = await self._prepare_apart(raws, source, caller, born_by, settled)
            if outcomes is None:
                outcomes = await self._prepare_here(raws, source, caller, born_by, settled)

        prepared = [o for o in outcomes if isinstance(o, Prepared)]
        batch = [(p.record, p.messages) for p in prepared]
        # Does each event fit its ZD number's history? One read for the batch, by the store as
        # it accepts it (zd_sequence.BatchCheck).
        if turn is None:  # with the batches of concurrent calls (integrator.group_commit)
            accepted = await self._group.accept(batch)
        else:
            await turn.commit.wait()  # never under ``_preparing``: the batch before may need it
            accepted = await accepted_alone(self._store, batch)
            turn.commit.pass_on()  # the next batch's commit overlaps this one's publish
        zd = accepted.zd
        is_new = dict(zip((id(p) for p in prepared), accepted.new, strict=True))

        results: list[IntakeResult | InvalidEvent | None] = []
        to_publish: list[OutboundMessage] = []
        publishing: list[int] = []  # the results (by index) whose messages are published
        duplicates: list[int] = []  # answered once the new ones' messages are published
        for index, outcome in enumerate(outcomes):
            if not isinstance(outcome, Prepared):
                results.append(outcome)
            elif is_new[id(outcome)]:
                outbound = self._outbound(outcome)
                if outbound:
                    to_publish.extend(outbound)
                    publishing.append(index)
                found = zd.report(outcome.record, source, self._count_zd, answered=self._answered)
                routed = outcome.routed
                if found:  # as its messages are stored (``ZdCheck.noted``), and a repeat shows
                    routed = tuple(replace(m, warnings=m.warnings + found) for m in routed)
                if outcome.warnings and outcome.warnings[0] == CREATED_LATER:
                    # An AMQP event has no answer: this line is its warning, as for ZD findings.
                    self._said_in_answer(
                        "event created_at is in the future",
                        event_id=outcome.record.id,
                        rule=CREATED_AT_IN_FUTURE,
                        source=source,
                    )
                results.append(
                    IntakeResult(
                        outcome.record.id,
                        outcome.record.zd_number,
                        False,
                        routed,
                        outcome.warnings + found,
                    )
                )
                log.info(
                    "event accepted",
                    event_id=outcome.record.id,
                    zd_number=outcome.record.zd_number,
                    source=source,
                    messages=len(outcome.routed),
                )
            else:
                duplicates.append(index)
                results.append(None)
        self._count("accepted", sum(1 for p in prepared if is_new[id(p)]))
        published = await self._publish_accepted(
            to_publish,
            len(publishing),
            None if turn is None else turn.publish,
            [
                o.record.id
                for i in duplicates
                if i in again and isinstance(o := outcomes[i], Prepared)
            ],
        )
        for index in duplicates:
            duplicate = outcomes[index]
            assert isinstance(duplicate, Prepared)
            self._count("duplicate")
            results[index] = await self._duplicate(duplicate.record, raws[index], source, caller)
        if not published:
            for index in publishing:  # their answers say so: they are accepted all the same
                result = results[index]
                assert isinstance(result, IntakeResult)
                results[index] = replace(result, warnings=(*result.warnings, DELIVERY_AWAY))
        return [result for result in results if result is not None]

    async def _publish_accepted(
        self,
        messages: list[OutboundMessage],
        events: int,
        turn: Ticket | None,
        republish_for: list[str],
    ) -> bool:
        """Hand a batch's committed messages to delivery; False when the broker is away.

        ``turn``: waited for first, and passed on once they are written, before their confirms
        are awaited: the next batch's publish overlaps the wait, and comes after them all the
        same. ``republish_for``: events whose still-queued messages go again first.
        """
        if turn is not None:
            await turn.wait()
        if republish_for:
            await self._republish_queued(republish_for)
        written = None if turn is None else turn.pass_on
        if messages and self._transport is not None:
            # Committed: accepted whatever the broker does now (integrator.transport.committed).
            sent = await publish_committed(
                self._transport, messages, what="events", counts={"events": events}, written=written
            )
        else:
            sent = True
        if written is not None:
            written()  # nothing to write, or a broker away: nothing of theirs to wait for
        return sent

    async def _republish_queued(self, event_ids: list[str]) -> None:
        """Publish again the still-queued messages of these events, committed before (by an
        engine that may have died before publishing them). Copies are harmless (delivery
        checks a re-published message against the store); a failure here is left to
        recovery, which re-publishes every pending message at a start or take-over."""
        if self._transport is None:
            return
        try:
            queued = [
                outbound_message(m)
                for event_id in event_ids
                for m in await self._store.list_messages(
                    MessageFilter(event_id=event_id, status="queued")
                )
            ]
            if queued:
                await self._transport.republish(queued)
        except Exception as exc:
            log.warning(
                "could not re-publish the queued messages of duplicate events; recovery will",
                events=len(event_ids),
                error_type=type(exc).__name__,
            )

    async def _prepare_here(
        self,
        raws: Sequence[bytes | str | Mapping[str, Any]],
        source: str,
        caller: str | None,
        born_by: date,
        settled: dict[int, InvalidEvent] | None,
    ) -> list[InvalidEvent | Prepared]:
        """The batch prepared on the loop, a few events at a time, letting delivery run
        between them; each refused event is kept (and noted in ``settled``) as it is found."""
        outcomes: list[InvalidEvent | Prepared] = []
        for start in range(0, len(raws), YIELD_EVERY):
            if start:
                await asyncio.sleep(0)  # let delivery run between events of a large batch
            # A few events validated, then the same few prepared: each step's code and
            # tables stay in the CPU's caches for the few, and the parsed models are
            # dropped before the next few, so their memory is reused while still cached.
            chunk = [
                await self._validate(raw, source, caller, born_by)
                for raw in raws[start : start + YIELD_EVERY]
            ]
            if settled is not None:
                settled.update(
                    (start + at, item)
                    for at, item in enumerate(chunk)
                    if isinstance(item, InvalidEvent)
                )
            # Each event its own clock reading, in the order they came, as they are prepared.
            ready = iter(
                prepare_all(
                    [
                        (item, self._clock.now(), self._serving(item.provider.id))
                        for item in chunk
                        if not isinstance(item, InvalidEvent)
                    ],
                    source,
                    self._settings,
                    self._zone,
                    caller=caller,
                )
            )
            outcomes.extend(
                item if isinstance(item, InvalidEvent) else next(ready) for item in chunk
            )
            del chunk
        return outcomes

    async def _prepare_apart(
        self,
        raws: Sequence[bytes | str | Mapping[str, Any]],
        source: str,
        caller: str | None,
        born_by: date,
        settled: dict[int, InvalidEvent] | None,
    ) -> list[InvalidEvent | Prepared] | None:
        """The batch prepared in the process beside the engine (``integrator.prepare_process``);
        None when it is not (no process, a batch too small or too large, the process ended
        under it). Each event refused there is kept as rejected here, as on the loop, and
        noted in ``settled`` as soon as it is kept."""
        if self._process is None or not worth_it(raws):
            return None
        # As the loop routes: what serves each provider now, less what a removal stopped.
        routes = {provider: self._serving(provider) for provider in self._catalog.providers}
        done = await self._process.prepare(
            raws, source, self._clock.now(), born_by, routes, caller=caller
        )
        if done is None:
            return None
        outcomes: list[InvalidEvent | Prepared] = []
        for at, (raw, outcome) in enumerate(zip(raws, done, strict=True)):
            if isinstance(outcome, EventValidationError):
                rejected_id = await self.keep_rejected(
                    _raw_bytes(raw), source, outcome.errors, caller=caller
                )
                refused = InvalidEvent(outcome, rejected_id=rejected_id)
                if settled is not None:
                    settled[at] = refused
                outcomes.append(refused)
            else:
                outcomes.append(outcome)
        return outcomes

    async def _validate(
        self,
        raw: bytes | str | Mapping[str, Any],
        source: str,
        caller: str | None,
        born_by: date,
    ) -> InvalidEvent | Event:
        if isinstance(raw, bytes) and len(raw) > EVENT_BODY_LIMIT:
            # Never parsed: a batch holding it is too large for the prepare process too.
            return await self.keep_too_large(len(raw), source, caller=caller)
        try:
            return validated(raw, born_by)
        except EventValidationError as exc:
            rejected_id = await self.keep_rejected(
                _raw_bytes(raw), source, exc.errors, caller=caller
            )
            return InvalidEvent(exc, rejected_id=rejected_id)

    async def keep_too_large(self, size: int, source: str, *, caller: str | None) -> InvalidEvent:
        """Keep an event body of ``size`` bytes, above ``EVENT_BODY_LIMIT``, as rejected input
        without its bytes, as the API keeps one it answered with 413.

        Its whole size is known (an AMQP delivery, a file to ``integrator submit``), and it is
        neither parsed nor searched for keys: parsing such a body took the engine from 129 MB
        to 570 MB, for an event that could only be refused, and the AMQP intake takes batches
        of them."""
        error = over_limit(size)
        rejected_id = await self.keep_rejected(
            b"", source, [error], keys=RejectedKeys(), caller=caller
        )
        return InvalidEvent(EventValidationError([error]), rejected_id=rejected_id)

    async def keep_rejected(
        self,
        raw: bytes,
        source: str,
        errors: Sequence[FieldError],
        *,
        keys: RejectedKeys | None = None,
        caller: str | None = None,
        counted: bool = True,
    ) -> str:
        """Keep refused input as a rejected event, with the rules it broke; returns its id.

        ``counted=False``: not counted as ``rejected``, for input counted otherwise already
        (a changed copy of an accepted event is a ``duplicate``).

        The one way rejected input is kept, so each refusal leaves the same trace: the store's
        row (the bytes sealed), a log line and the ``rejected`` count of ``integrator_events``.
        Intake calls it for a body that broke a rule; the HTTP API for a submission it refused
        before intake could read it (too large, not JSON: ``integrator.http.refused_intake``),
        with ``raw`` empty when the body was not kept. ``keys`` default to what can be read of
        ``raw`` (its ZD number, provider, BSN hash). ``caller`` is who sent it, kept with the
        record and named in the log line: always what the front door established, never a name
        the input gives: the API's authenticated identity as the audit log names it
        (``token:<name>``), the server's CLI ``local:<user>``, RabbitMQ its channel (``amqp``:
        the broker names no sender the engine can trust). None only where nobody said.
        """
        found_by = self.rejected_keys(raw) if keys is None else keys
        rejected_id = await self._store.reject_event(
            raw, source, [asdict(error) for error in errors], found_by, caller=caller
        )
        self._said_in_answer(
            "event rejected",
            source=source,
            rejected_id=rejected_id,
            zd_number=found_by.zd_number,
            errors=len(errors),
            fields=[e.path for e in errors],
            rules=[e.rule for e in errors],
            **({"caller": caller} if caller is not None else {}),
        )
        if counted:
            self._count("rejected")
        return rejected_id

    def _said_in_answer(self, event: str, **fields: Any) -> None:
        """A warning about one event that its answer says too: at info where the caller shows
        that answer to the person in this process (``answered``)."""
        (log.info if self._answered else log.warning)(event, **fields)

    def _count(self, outcome: EventOutcome, events: int = 1) -> None:
        # Once per batch for the accepted: a label lookup and a locked increment per event
        # cost more than the rest of counting.
        if self._metrics is not None and events:
            self._metrics.events.labels(outcome).inc(events)

    def _count_zd(self, rule: str) -> None:
        if self._metrics is not None:
            self._metrics.zd_warnings.labels(rule).inc()

    def _serving(self, provider_id: str) -> list[DestinationConfig]:
        """The destinations in service that an event of ``provider_id`` is routed to: looked
        up once per provider until the catalog or ``stop_routing`` changes them, not per event
        (a walk over every destination)."""
        serving = self._routes.get(provider_id)
        if serving is None:
            unrouted = self._unrouted
            serving = [d for d in self._catalog.serving(provider_id) if d.id not in unrouted]
            self._routes[provider_id] = serving
        return serving

    def render(
        self,
        event: Event,
        destination: DestinationConfig,
        configured: str,
        now: datetime,
        *,
        control_id: str | None = None,
    ) -> NewMessage:
        """The message ``destination`` gets for ``event`` (``preparing.render``)."""
        return render(
            event, destination, configured, now, self._settings, self._zone, control_id=control_id
        )

    async def release_held(self, destination_ids: Iterable[str] | None = None) -> int:
        """Map held messages (stored without HL7) whose destination now has a supported version;
        queue them.

        Called when destinations change (an operator moved one off a retired version), and at
        the engine's start (the file may have been edited while no engine ran). A
        released message keeps the control id reserved when it was held: it never went out. It
        keeps its creation time too, and its ``max_age`` counts from the release (the store
        keeps when), since it could not be delivered while held (docs/product.md §3).

        Each message is committed as it is released, and every ``RELEASE_CHUNK`` of them are
        published right away, before the next is mapped: not all at the end, which would leave
        every message a killed engine had released waiting for recovery.
        """
        async with self.releasing:
            return await self._release_held(destination_ids)

    async def _release_held(self, destination_ids: Iterable[str] | None) -> int:
        targets = self.catalog.destinations
        ids = (
            list(targets)
            if destination_ids is None
            else [d for d in destination_ids if d in targets]
        )
        released = 0
        chunk: list[OutboundMessage] = []
        for destination_id in ids:
            destination = targets[destination_id]
            held = await self._store.list_messages(
                MessageFilter(destination_id=destination_id, status="held"), limit=100_000
            )
            # An event type whose first message stays held keeps the rest held too (the same
            # version decides them all): they are not read and mapped in vain, at every start.
            still_held: set[str] = set()
            for message in sorted(held, key=lambda m: m.seq):
                if message.event_type in still_held:
                    continue
                outbound = await self._release(message, destination, still_held)
                if outbound is None:
                    continue
                chunk.append(outbound)
                if len(chunk) >= RELEASE_CHUNK:
                    released += await self._publish_released(chunk)
                    chunk = []
        released += await self._publish_released(chunk)
        if released:
            log.info("held messages released", messages=released)
        return released

    async def release_now(self, message_id: str, destination_id: str) -> OutboundMessage | None:
        """Map the held message ``message_id`` again, as ``release_held`` does, and queue it in
        the store without publishing it: for a fifo runner that holds it at the head of its
        queue and sends it there and then (``delivery.RetiredHold.remap``). Published to the
        tail, a referral mapped before its version's sunset went out after the cancel made
        after it, which the hospital then received first. None when it stays held. The caller
        holds ``releasing`` from the hold on."""
        destination = self.catalog.destinations.get(destination_id)
        message = await self._store.get_message(message_id, payload=False)
        if destination is None or message is None or message.status != "held":
            return None
        return await self._release(message, destination, set())

    async def _release(
        self, message: MessageRecord, destination: DestinationConfig, still_held: set[str]
    ) -> OutboundMessage | None:
        """``message`` (held) mapped again for ``destination`` and queued in the store, as it
        goes out; None when it stays held (its event type then in ``still_held``: the same
        version decides the others) or cannot be read."""
        stored = await self._store.get_event(message.event_id)
        if stored is None:
            return None
        try:
            event = parse_event(stored.payload)
        except EventValidationError as exc:
            # Accepted before a rule it breaks was added (the nil UUID as its id, say): it
            # stays held, and the others go on. It failed the engine's start before.
            rules = rules_broken(exc)
            log.warning(
                "held message not released",
                message_id=message.id,
                event_id=message.event_id,
                rules=rules,
            )
            # Said on the message too, once: paths and rule names, never a value.
            await self._store.note_held(message.id, NOT_RELEASED(rules=", ".join(rules)))
            return None
        configured = destination.messages.get(event.type)
        if configured is None:
            return None
        now = self._clock.now()
        remapped = self.render(event, destination, configured, now, control_id=message.control_id)
        if remapped.status == "held":
            still_held.add(event.type)
            return None
        released_at = await self._store.release_held(
            message.id,
            version=remapped.version,
            message_type=remapped.message_type,
            payload=remapped.payload,
            warnings=remapped.warnings + zd_warnings(message.warnings),
        )
        if released_at is None:
            return None
        return OutboundMessage(
            message_id=message.id,
            destination_id=destination.id,
            control_id=message.control_id,
            payload=remapped.payload,
            created_at=message.created_at,
            released_at=released_at,  # its max_age counts from here
        )

    async def _publish_released(self, chunk: list[OutboundMessage]) -> int:
        """Hand a chunk of released (committed) messages to delivery; how many there were.

        A broker away must not fail the destination change that released them: they are
        stored as queued and go out when it is back (``publish_committed``).

        Published as copies, which their receiver checks against the store first
        (``Transport.republish``): a fifo runner of another engine on the store may have
        mapped the same held message again and sent it at the head meanwhile
        (``Engine._remap_retired``), and this one, reaching the queue's tail, must then owe
        nothing. Releases are rare (a destination moved, a resume past a sunset), so the check
        costs little.
        """
        if chunk and self._transport is not None:
            await publish_committed(self._transport, chunk, what="release", republish=True)
        return len(chunk)

    def _outbound(self, prepared: Prepared) -> list[OutboundMessage]:
        return [
            OutboundMessage(
                message_id=m.id,
                destination_id=m.destination_id,
                control_id=m.control_id,
                payload=m.payload,
                created_at=prepared.record.received_at,
            )
            for m in prepared.messages
            if m.status == "queued"
        ]

    async def _duplicate(
        self,
        record: EventRecord,
        raw: bytes | str | Mapping[str, Any],
        source: str,
        caller: str | None,
    ) -> IntakeResult:
        """The same event_id again: accepted once; answer with what the first one produced.

        The answer is the stored event's, keys and messages alike: a copy with another ZD
        number would otherwise be answered with that number beside the stored event's messages,
        and an upstream system that records the answer would link the wrong referral to them.
        ``record`` (this copy) only serves to name the fields that differ.

        A copy that differs is kept as rejected input too (rule ``changed_duplicate``, naming
        the fields): over RabbitMQ nobody reads the answer's warning, and a corrected referral
        (a BSN fixed upstream) left only a log line; support finds it in ``rejected list``.
        """
        existing = await self._store.list_messages(MessageFilter(event_id=record.id))
        routed = tuple(
            RoutedMessage(m.id, m.destination_id, m.version, m.control_id, m.status, m.warnings)
            for m in sorted(existing, key=lambda m: m.seq)
        )
        warnings = ["duplicate event_id: accepted once already; nothing new was sent"]
        stored = await self._store.get_event(record.id)
        changed = self._changed_fields(stored, record)
        if changed:
            self._said_in_answer(
                "duplicate event differs from the one accepted",
                event_id=record.id,
                fields=len(changed),  # how many, not which values
            )
            rule = "changed_duplicate"
            kept = await self.keep_rejected(
                _raw_bytes(raw),
                source,
                [FieldError(path, rule, message_for(rule)) for path in changed],
                caller=caller,
                counted=False,
            )
            warnings.append(
                f"{rule}: this copy differs from the one accepted in {described(changed)}; "
                "the change was not taken: a changed event needs an event_id of its own "
                f"(this copy is kept as rejected input {kept})"
            )
        else:
            kept = None
            log.info("duplicate event ignored", event_id=record.id)
        # Gone only if deleted since this batch found it stored: then this copy's is all there is.
        keys = stored if stored is not None else record
        return IntakeResult(
            keys.id,
            keys.zd_number,
            True,
            routed,
            tuple(warnings),
            changed=kept is not None,
            rejected_id=kept,
        )

    @staticmethod
    def _changed_fields(stored: EventRecord | None, record: EventRecord) -> list[str]:
        """Where this copy of an accepted event differs from the stored one, by field name.

        Nothing to compare once retention emptied the stored payload.
        """
        if stored is None or stored.pruned_at is not None:
            return []
        new = json.loads(record.payload) if isinstance(record.payload, str) else record.payload
        return differing_fields(stored.payload, new)


def _raw_bytes(raw: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8")
