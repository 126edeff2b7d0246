"""Intake: a raw event becomes a stored event plus one mapped message per routed destination.

Order of work (DESIGN "Data flow"): validate; route; map each destination's message version;
write the event and all its messages in ONE transaction; only then publish to the transport.
Bad input is never dropped: it is stored as a rejected event with the field errors, and the caller
gets the same errors. An event that maps for no destination is still stored, with a warning, so
support can find it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from destinations.config import DestinationConfig
from destinations.worker import OutboundMessage
from integrator.catalog import Catalog
from integrator.clock import Clock
from integrator.errors import InvalidEvent
from integrator.ids import new_control_id, new_message_id
from integrator.logging import get_logger
from integrator.settings import Settings
from integrator.store import EventRecord, MessageFilter, NewMessage, Store
from integrator.transport import Transport
from mappings import MappingContext, MappingError, map_event
from schemas import DiagnosticRequest, EventValidationError, Referral, parse_event

log = get_logger("integrator.intake")

Event = Referral | DiagnosticRequest


@dataclass(frozen=True)
class RoutedMessage:
    message_id: str
    destination_id: str
    version: str
    control_id: str
    status: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntakeResult:
    event_id: str
    zd_number: str
    duplicate: bool
    messages: tuple[RoutedMessage, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "zd_number": self.zd_number,
            "duplicate": self.duplicate,
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


@dataclass(frozen=True)
class _Prepared:
    event: Event
    record: EventRecord
    messages: tuple[NewMessage, ...]
    routed: tuple[RoutedMessage, ...]
    warnings: tuple[str, ...]


class Intake:
    def __init__(
        self,
        *,
        store: Store,
        transport: Transport | None,
        catalog: Catalog,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._store = store
        self._transport = transport
        self.catalog = catalog
        self._settings = settings
        self._clock = clock

    def parse(self, raw: bytes | str | Mapping[str, Any]) -> Event:
        return parse_event(raw)

    async def submit(self, raw: bytes | str | Mapping[str, Any], *, source: str) -> IntakeResult:
        """Validate and accept one event; raises ``InvalidEvent`` after storing the rejection."""
        results = await self.submit_many([raw], source=source)
        result = results[0]
        if isinstance(result, InvalidEvent):
            raise result
        return result

    async def submit_many(
        self, raws: Sequence[bytes | str | Mapping[str, Any]], *, source: str
    ) -> list[IntakeResult | InvalidEvent]:
        """Accept many events in one transaction (for throughput); each gets its own outcome."""
        outcomes: list[IntakeResult | InvalidEvent | _Prepared] = []
        for raw in raws:
            try:
                event = parse_event(raw)
            except EventValidationError as exc:
                rejected_id = await self._store.reject_event(_raw_bytes(raw), source, exc.to_json())
                log.warning(
                    "event rejected",
                    source=source,
                    rejected_id=rejected_id,
                    errors=len(exc.errors),
                    fields=[e.path for e in exc.errors],
                )
                outcomes.append(InvalidEvent(exc, rejected_id=rejected_id))
                continue
            outcomes.append(self._prepare(event, source))

        prepared = [o for o in outcomes if isinstance(o, _Prepared)]
        accepted = (
            await self._store.accept_events([(p.record, p.messages) for p in prepared])
            if prepared
            else []
        )
        is_new = dict(zip((id(p) for p in prepared), accepted, strict=True))

        results: list[IntakeResult | InvalidEvent] = []
        to_publish: list[OutboundMessage] = []
        for outcome in outcomes:
            if not isinstance(outcome, _Prepared):
                results.append(outcome)
                continue
            if is_new[id(outcome)]:
                to_publish.extend(self._outbound(outcome))
                results.append(
                    IntakeResult(
                        str(outcome.event.event_id),
                        outcome.event.zd_number,
                        False,
                        outcome.routed,
                        outcome.warnings,
                    )
                )
                log.info(
                    "event accepted",
                    event_id=str(outcome.event.event_id),
                    zd_number=outcome.event.zd_number,
                    source=source,
                    messages=len(outcome.routed),
                )
            else:
                results.append(await self._duplicate(outcome.event))
        if to_publish and self._transport is not None:
            await self._transport.publish(to_publish)
        return results

    def _prepare(self, event: Event, source: str) -> _Prepared:
        now = self._clock.now()
        payload = event.model_dump(mode="json")
        record = EventRecord(
            id=str(event.event_id),
            type=event.type,
            action=event.action,
            zd_number=event.zd_number,
            provider_id=event.provider.id,
            received_at=now,
            source=source,
            payload=payload,
        )
        messages: list[NewMessage] = []
        routed: list[RoutedMessage] = []
        warnings: list[str] = []
        destinations = self.catalog.serving(event.provider.id)
        if not destinations:
            warnings.append(
                f"no destination serves provider {event.provider.id!r}; event stored only"
            )
        for destination in destinations:
            version = destination.messages.get(event.type)
            if version is None:
                warnings.append(
                    f"destination {destination.id!r} takes no {event.type} messages; "
                    "none sent there"
                )
                continue
            message = self._map(event, destination, version, now)
            messages.append(message)
            routed.append(
                RoutedMessage(
                    message.id,
                    destination.id,
                    version,
                    message.control_id,
                    message.status,
                    message.warnings,
                )
            )
        return _Prepared(event, record, tuple(messages), tuple(routed), tuple(warnings))

    def _map(
        self, event: Event, destination: DestinationConfig, version: str, now: datetime
    ) -> NewMessage:
        control_id = new_control_id()
        context = MappingContext(
            control_id=control_id,
            now=now.astimezone(self._settings.zone),
            sending_application=self._settings.sending_application,
            sending_facility=self._settings.sending_facility,
            receiving_application=destination.receiving_application,
            receiving_facility=destination.receiving_facility,
            ack_mode=destination.ack_mode,
            platform_authority=self._settings.platform_authority,
        )
        try:
            mapped = map_event(version, event, context)
        except MappingError as exc:
            # Never lost: the message is held with the reason until an operator acts.
            return NewMessage(
                id=new_message_id(),
                destination_id=destination.id,
                version=version,
                message_type="",
                control_id=control_id,
                payload=b"",
                status="held",
                warnings=(f"held: {exc}",),
            )
        return NewMessage(
            id=new_message_id(),
            destination_id=destination.id,
            version=version,
            message_type=mapped.message_type,
            control_id=control_id,
            payload=mapped.data,
            warnings=mapped.warnings,
        )

    def _outbound(self, prepared: _Prepared) -> list[OutboundMessage]:
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

    async def _duplicate(self, event: Event) -> IntakeResult:
        """The same event_id again: accepted once; answer with what the first one produced."""
        existing = await self._store.list_messages(MessageFilter(event_id=str(event.event_id)))
        routed = tuple(
            RoutedMessage(m.id, m.destination_id, m.version, m.control_id, m.status, m.warnings)
            for m in sorted(existing, key=lambda m: m.seq)
        )
        log.info("duplicate event ignored", event_id=str(event.event_id))
        return IntakeResult(
            str(event.event_id),
            event.zd_number,
            True,
            routed,
            ("duplicate event_id: accepted once already; nothing new was sent",),
        )


def _raw_bytes(raw: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8")
