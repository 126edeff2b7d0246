"""Resends wired to the engine's parts: the mapping, the transport, the store, the HTTP API.

``deadletter.resend`` decides what a resend is; this module supplies the engine's mapping
(``Intake``, with the sunset rules of ``integrator.deprecation``) and delivers the result:
through the running engine (queued rows are published to the transport at once), or, when no
engine runs, as queued rows in the store that the engine sends at its next start. The CLI uses
the engine's HTTP API when it answers, like ``integrator submit``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from deadletter import (
    Renderer,
    ResendRefused,
    ResendRequest,
    ResendResult,
    Selection,
    TargetNotConfigured,
    UnknownMessageId,
    resend,
)
from destinations.worker import OutboundMessage
from integrator.access.permissions import Role
from integrator.catalog import Catalog
from integrator.clock import Clock, SystemClock
from integrator.deprecation import HELD_RETIRED
from integrator.engine import Engine
from integrator.engine_api import EngineAnswer, check_allowed, engine_client, follow_job
from integrator.intake import Intake
from integrator.refusal import Note
from integrator.settings import Settings
from integrator.store import MessageRecord, NewMessage, ResendGuard, Store
from integrator.transport.committed import RESEND_AWAY
from integrator.zd_sequence import zd_warnings
from schemas import EventValidationError, parse_event

Progress = Callable[[int, int], None]
"""``progress(done, total)``."""


def resend_paused(destination_id: str) -> Note:
    """The note of a resend (or a dry run's) to a paused destination: stored, and sent only
    once it is resumed. Without it a resend there answered a plain "resent", and support told
    the GP it had gone out while it waited behind the pause."""
    return Note(
        f"{destination_id} is paused: the resent message waits and is sent when the "
        "destination is resumed",
        "delivery.paused.resend",
        destination=destination_id,
    )


def paused_noted(results: list[ResendResult], catalog: Catalog) -> list[ResendResult]:
    """``results`` with ``resend_paused`` on each one that goes (or would go) to a destination
    that is paused now; one with a note of its own (the broker away) keeps it: that one says
    it is stored and sent later too."""
    paused = catalog.destinations.keys() - catalog.delivering
    if not paused:
        return results
    return [
        dataclasses.replace(r, note=resend_paused(r.destination_id))
        if r.goes_out and r.note is None and r.destination_id in paused
        else r
        for r in results
    ]


class IntakeRenderer:
    """Remaps through the engine's intake mapping, as intake maps a new message: a retired
    version maps with its successor under ``auto_upgrade`` and is not resent without it."""

    def __init__(self, intake: Intake, store: Store, clock: Clock) -> None:
        self._intake = intake
        self._store = store
        self._clock = clock

    def is_configured(self, destination_id: str) -> bool:
        return destination_id in self._intake.catalog.destinations

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        stored = await self._store.get_event(original.event_id)
        if stored is None:
            return Note(
                "the stored event is missing; resend it as it was sent (mode original)",
                "resend.skip.event_missing",
            )
        try:
            event = parse_event(stored.payload)
        except EventValidationError:
            return Note(
                "the stored event no longer passes validation; resend it as it was sent "
                "(mode original)",
                "resend.skip.event_invalid",
            )
        if not takes_event_type(self._intake.catalog, destination_id, event.type):
            return Note(
                f"destination {destination_id} takes no {event.type} messages",
                "resend.skip.event_type_not_taken",
                destination=destination_id,
                event_type=event.type,
            )
        destination = self._intake.catalog.destinations[destination_id]
        configured = destination.messages[event.type]
        # Mapped as a new message of this destination is (product.md §3): on a retired version
        # the successor only with auto_upgrade. Without it the hospital gets nothing in the
        # successor's format until the destination is moved, a resend neither; and no held
        # copy is made, which would go out later, unasked, when the destination is moved.
        message = self._intake.render(event, destination, configured, self._clock.now())
        if message.status == "held":
            return _held_remap(message, destination_id)
        # As a released held message: the new mapping's own notes, and the original's warnings
        # about the event (its ZD number's history), which a new mapping does not change.
        kept = zd_warnings(original.warnings)
        return dataclasses.replace(message, warnings=message.warnings + kept) if kept else message


def takes_event_type(catalog: Catalog, destination_id: str, event_type: str) -> bool:
    """Whether a remap to ``destination_id`` can map an event of ``event_type``: the
    destination is configured and chooses a message version for that type. A remap to one
    that does not is skipped (``resend.skip.event_type_not_taken``), so a form offers only
    those that do (``message_service.resend_targets``)."""
    destination = catalog.destinations.get(destination_id)
    return destination is not None and event_type in destination.messages


def _held_remap(message: NewMessage, destination_id: str) -> str:
    """Why a remap that its destination would hold is not resent. Said as a skip, not in the
    held note's words (``release it``): no message is held, so none is released later."""
    if not message.warnings:
        return "cannot be mapped"
    values = HELD_RETIRED.read(message.warnings[0])
    if values is None:  # retired with no supported successor: the note says so
        return Note(
            "; ".join(message.warnings), "resend.skip.remap_held", warnings=message.warnings
        )
    text = (
        f"not resent: message version {values['version']} is retired since {values['sunset']} "
        f"and destination {destination_id} has no auto_upgrade, so its messages are held, "
        f"not sent in {values['successor']}; move the destination to {values['successor']}, "
        "then resend"
    )
    return Note(text, "resend.skip.remap_held", warnings=[text])


def outbound(results: Sequence[ResendResult], clock: Clock) -> list[OutboundMessage]:
    now = clock.now()
    return [
        OutboundMessage(
            message_id=r.message.id,
            destination_id=r.message.destination_id,
            control_id=r.message.control_id,
            payload=r.message.payload,
            created_at=now,
        )
        for r in results
        if r.message is not None
    ]


def engine_renderer(engine: Engine) -> Renderer:
    return IntakeRenderer(engine.intake, engine.store, engine.clock)


async def resend_in_engine(
    engine: Engine,
    selection: Selection | Sequence[MessageRecord],
    request: ResendRequest,
    *,
    progress: Progress | None = None,
    dry_run: bool = False,
    guards: Mapping[str, ResendGuard] | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> list[ResendResult]:
    """Resend with the running engine: each chunk published for delivery right after its commit.

    Per chunk rather than once at the end: an engine killed in the middle of a long job then
    leaves at most one chunk stored and not published (the recovery leader publishes it at its
    next take-over), not the whole job's resends.

    With the broker away the resends are stored all the same and go out when it is back; each
    resent result of a chunk that could not be published has ``RESEND_AWAY`` as its ``note``
    (a resent result has no other note). ``guards``: ``deadletter.resend``'s.

    ``allowed`` is asked after each chunk: False, and no further chunk is resent (the results
    so far are returned, fewer than the selection). A job asks whether whoever started it may
    still resend: a batch runs for minutes, and a token revoked meanwhile must stop it.
    """
    renderer = engine_renderer(engine)
    total = len(selection)
    away: set[str] = set()
    refused: list[bool] = []

    async def publish(chunk: Sequence[ResendResult]) -> None:
        sent = outbound(chunk, engine.clock)
        if not await engine.publish(sent, what="resend", resent=len(sent)):
            away.update(m.message_id for m in sent)
        if allowed is not None and not await allowed():
            refused.append(True)

    results = await resend(
        engine.store,
        selection,
        request,
        renderer,
        progress=(lambda done: progress(done, total)) if progress else None,
        committed=publish,
        dry_run=dry_run,
        zone=engine.settings.zone,
        guards=guards,
        stop=(lambda: bool(refused)) if allowed is not None else None,
    )
    if away:
        # Stored, not yet handed to the broker: each such message says so, and that resending
        # it again is not needed (it would make a second copy at the hospital).
        results = [
            dataclasses.replace(r, note=RESEND_AWAY)
            if r.message is not None and r.message.id in away
            else r
            for r in results
        ]
    return paused_noted(results, engine.catalog)


async def resend_in_store(
    settings: Settings,
    store: Store,
    selection: Selection | Sequence[MessageRecord],
    request: ResendRequest,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
    dry_run: bool = False,
    stop: Callable[[], bool] | None = None,
) -> list[ResendResult]:
    """No engine runs: store the resends as queued; the engine sends them when it starts.

    Also the CLI's dry run, engine or not: the decisions need only the store and the
    destinations, and a dry run must not depend on whether the engine answers. ``stop``: asked
    between chunks (``deadletter.resend``); fewer results than the selection when it said so.
    """
    from integrator.operators import DestinationAdmin

    clock = clock or SystemClock()
    today = clock.now().astimezone(settings.zone).date()
    admin = DestinationAdmin(store=store, settings=settings, today=lambda: today, now=clock.now)
    catalog = await admin.catalog()
    intake = Intake(store=store, transport=None, catalog=catalog, settings=settings, clock=clock)
    total = len(selection)
    results = await resend(
        store,
        selection,
        request,
        IntakeRenderer(intake, store, clock),
        progress=(lambda done: progress(done, total)) if progress else None,
        dry_run=dry_run,
        stop=stop,
        zone=settings.zone,
    )
    return paused_noted(results, catalog)


async def resend_via_http(
    settings: Settings,
    selection: Selection,
    request: ResendRequest,
    *,
    progress: Progress | None = None,
    dry_run: bool = False,
    poll: float = 0.1,
    on_job: Callable[[str], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> EngineAnswer:
    """Ask the running engine to resend this selection as a job; follow its progress.
    ``on_job`` hears the job's id as soon as the engine started it: where a person finds the
    batch again if this command's terminal goes away (``GET /api/v1/jobs/{id}``).

    The ids go with those that were named, so the engine applies the same rules to the same
    selection as a dry run here did. ``dry_run`` asks the engine for its plan instead: the
    same call, so the same token check (refused alike: ``EngineRefused``) and the same
    cluster rules as the real run, and nothing is sent.
    """
    body = {
        "message_ids": [m.id for m in selection],
        "named_ids": sorted(selection.named),
        "reason": request.reason,
        "mode": request.mode,
        "to": request.to,
        "dry_run": dry_run,
    }
    async with engine_client(settings, timeout=60.0) as client:
        response = await client.post("/api/v1/resend", json=body)
        _raise_for(response, request)
        answer: dict[str, Any] = response.json()
        actor = str(answer.get("actor") or request.actor)
        if dry_run:
            return EngineAnswer(results=list(answer["results"]), actor=actor)
        if on_job is not None:
            on_job(str(answer["id"]))
        results = await follow_job(
            client,
            answer,
            check=_raise_for,
            progress=progress,
            what="resend",
            poll=poll,
            stop=stop,
        )
        return EngineAnswer(results=results, actor=actor)


def _raise_for(response: httpx.Response, request: ResendRequest | None = None) -> None:
    """The engine's refusal as the refusal the store's way would raise, so the command line
    says it the same way either way: the API's answer names no value it was sent, and the
    value the command line may name (a target) is ``request``'s, which it typed."""
    if response.status_code < 300:
        return
    check_allowed(response, Role.RESEND)
    detail = _detail(response)
    if response.status_code == 404:
        raise UnknownMessageId()  # ids the CLI found itself, outside the token's clusters
    if response.status_code == 422:
        target = request.to if request is not None else None
        if target is not None and detail == f"to: {TargetNotConfigured.RULE}":
            raise TargetNotConfigured(target)
        raise ResendRefused(detail)
    raise RuntimeError(f"the engine answered HTTP {response.status_code}: {detail}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else str(detail)
