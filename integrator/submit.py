"""``integrator submit``: hand event files to the running engine, or to the store when none runs.

Through the running engine (its HTTP API) the messages go out at once; without one, the events
are validated, mapped and committed to the store exactly as the engine would, and the engine
sends them when it next starts. Either way the answer has the same shape. The store way refuses
while an engine runs on that store but does not answer where the CLI looks
(``integrator.presence``), checked on the store it opens anyway.

A file above ``EVENT_BODY_LIMIT`` is not read (``read_files``: it was parsed whole, several
times its size in memory, to be refused): into the store it is kept as rejected input without
its bytes (``Intake.keep_too_large``); through the engine it is declared by its size alone,
which the API refuses with 413 before it reads a byte, keeping it as it keeps every such
submission (``integrator.declared_size``). Either way it is said as a refused file (exit 2),
the others submitted as usual.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from integrator.access.permissions import Role
from integrator.clock import Clock, SystemClock
from integrator.declared_size import NoAnswer, declared_status
from integrator.engine_api import check_allowed, engine_client, engine_url
from integrator.errors import InvalidEvent
from integrator.intake import Intake, IntakeResult
from integrator.operators import DestinationAdmin
from integrator.presence import refuse_if_engine_present
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store_for import open_store, require_store
from schemas.refused import EVENT_BODY_LIMIT, over_limit

__all__ = [
    "EventFile",
    "SubmitOutcome",
    "TooLarge",
    "engine_url",
    "read_files",
    "submit_to_store",
    "submit_via_http",
]


@dataclass(frozen=True)
class TooLarge:
    """A file of ``size`` bytes, above ``EVENT_BODY_LIMIT``: not read (``read_event_file``)."""

    size: int


EventFile = tuple[str, bytes | TooLarge]
"""A file as given (its name) and what it holds, or that it is too large to be an event."""


@dataclass(frozen=True)
class SubmitOutcome:
    """One file's fate: accepted; refused as bad input (kept as rejected input); or not taken
    at all (``failed``: the engine answered an error of its own, or could not be reached), which
    is said for that file while the others are still submitted."""

    source: str
    accepted: dict[str, Any] | None = None
    errors: list[dict[str, str]] | None = None
    rejected_id: str | None = None
    failed: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.accepted is not None:
            return {"file": self.source, "accepted": True, **self.accepted}
        shown: dict[str, Any] = {
            "file": self.source,
            "accepted": False,
            "errors": self.errors or [],
            "rejected_id": self.rejected_id,
        }
        if self.failed is not None:
            shown["failed"] = self.failed
        return shown


async def submit_via_http(settings: Settings, files: Sequence[EventFile]) -> list[SubmitOutcome]:
    """Submit through the running engine's API, with the token of ``INTEGRATOR_TOKEN``."""
    outcomes = []
    async with engine_client(settings, timeout=30.0) as client:
        for name, raw in files:
            if isinstance(raw, TooLarge):
                outcomes.append(await _declared(settings, name, raw))
                continue
            try:
                response = await client.post(
                    "/api/v1/events", content=raw, headers={"content-type": "application/json"}
                )
            except httpx.TransportError as exc:
                outcomes.append(
                    SubmitOutcome(
                        name, failed=f"the engine did not answer: {type(exc).__name__}: {exc}"
                    )
                )
                continue
            check_allowed(response, Role.INTAKE)
            if response.status_code == 202:
                outcomes.append(SubmitOutcome(name, accepted=response.json()))
            elif response.status_code == 422:
                body = response.json()
                outcomes.append(
                    SubmitOutcome(name, errors=body["errors"], rejected_id=body.get("rejected_id"))
                )
            else:
                outcomes.append(SubmitOutcome(name, failed=_engine_error(response)))
    return outcomes


async def _declared(settings: Settings, name: str, raw: TooLarge) -> SubmitOutcome:
    """A file too large, declared to the engine by its size (``integrator.declared_size``):
    refused with 413 before the engine reads a byte, and kept by it when the token may submit
    events (its answer names no id). Said as the rule the engine keeps it with."""
    try:
        status, rejected_id = await declared_status(settings, raw.size, timeout=30.0)
    except (OSError, TimeoutError, NoAnswer) as exc:
        return SubmitOutcome(name, failed=f"the engine did not answer: {type(exc).__name__}")
    if status != 413:
        return SubmitOutcome(name, failed=f"the engine answered HTTP {status}; not submitted")
    if rejected_id is None:
        # The 413 comes before the token is looked at; the engine keeps the submission only
        # for a token that may submit events, and says under which id when it does.
        return SubmitOutcome(
            name,
            failed=f"refused unread: it is {raw.size} bytes, more than the {EVENT_BODY_LIMIT} "
            "bytes an event may be; nothing was kept, as INTEGRATOR_TOKEN is no token with "
            "the intake role (with one, the engine keeps it as rejected input)",
        )
    return SubmitOutcome(name, errors=[asdict(over_limit(raw.size))], rejected_id=rejected_id)


def _engine_error(response: httpx.Response) -> str:
    """The engine's own words for an answer that is neither taken nor refused input (a 503
    while its store is away, a 413 for a body too large): its ``detail``, which names no
    patient data, and the status."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    said = f": {detail}" if isinstance(detail, str) else ""
    return f"the engine answered HTTP {response.status_code}{said}; not submitted"


async def submit_to_store(
    settings: Settings,
    files: Sequence[EventFile],
    *,
    caller: str,
    clock: Clock | None = None,
) -> list[SubmitOutcome]:
    """Validate, map and commit ``files`` as the engine would; ``caller`` is who runs the
    command (``local:<user>``), kept with any file that is refused."""
    clock = clock or SystemClock()
    # Only into a store that is there: run elsewhere than the engine's directory, a new, empty
    # store (and its key file) was made, the referral "submitted" into it, and no engine ever
    # read it. ``NoStore`` names where it looked, before anything is made.
    await require_store(resolve_search_key(settings, create=False))
    settings = resolve_search_key(settings, create=True)  # this writes: hashes BSNs at intake
    store = await open_store(settings, clock=clock.now)  # another key than the store's: exit 2
    try:
        # The caller found no engine answering; one running elsewhere on this store refuses
        # (``presence.EngineElsewhere``), before anything is written, on the store opened here.
        await refuse_if_engine_present(settings, store)
        today = clock.now().astimezone(settings.zone).date()
        # The engine's catalog: a destination whose file is refused still gets its messages.
        admin = DestinationAdmin(store=store, settings=settings, today=lambda: today, now=clock.now)
        intake = Intake(
            store=store,
            transport=None,
            catalog=await admin.catalog(),
            settings=settings,
            clock=clock,
            answered=True,  # the command shows each answer: its warnings are said once
        )
        results = await _submitted(intake, [raw for _, raw in files], caller)
    finally:
        await store.close()
    outcomes = []
    for (name, _), result in zip(files, results, strict=True):
        if isinstance(result, InvalidEvent):
            outcomes.append(
                SubmitOutcome(name, errors=result.to_json(), rejected_id=result.rejected_id)
            )
        else:
            outcomes.append(SubmitOutcome(name, accepted=result.to_json()))
    return outcomes


async def _submitted(
    intake: Intake, raws: Sequence[bytes | TooLarge], caller: str
) -> list[IntakeResult | InvalidEvent]:
    """``raws`` through intake, in one batch, those too large kept as refused beside it (a
    refused event has no place in a ZD number's history, so the batch's order is kept)."""
    events = [raw for raw in raws if isinstance(raw, bytes)]
    taken = iter(await intake.submit_many(events, source="cli", caller=caller) if events else [])
    return [
        next(taken)
        if isinstance(raw, bytes)
        else await intake.keep_too_large(raw.size, "cli", caller=caller)
        for raw in raws
    ]


def read_files(paths: Sequence[Path]) -> list[EventFile]:
    return [(str(path), read_event_file(path)) for path in paths]


def read_event_file(path: Path) -> bytes | TooLarge:
    """What ``path`` holds; ``TooLarge``, unread, when its size is above ``EVENT_BODY_LIMIT``.

    A file that is no regular file (a pipe, ``/dev/stdin``) has no size to look at: it is read
    up to the limit and one byte, and one that holds more is taken to be that large."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        raw = b"" if size > EVENT_BODY_LIMIT else file.read(EVENT_BODY_LIMIT + 1)
    if max(size, len(raw)) > EVENT_BODY_LIMIT:
        return TooLarge(max(size, len(raw)))
    return raw
