"""Destination management for operators: the one model behind the CLI and the HTTP API.

The files in ``INTEGRATOR_DESTINATIONS_DIR`` are authoritative. Every change made here validates
the new definition exactly as the engine would (file format, known and not-retired versions),
writes the file atomically, and records a revision in the store (who, when, why, the diff and
the whole definition, so any revision can be rolled back). A running engine picks the file up
at once when the change came through its API, and within seconds otherwise (it watches the
directory; SIGHUP forces a reload). Hand edits of the files are recorded as revisions by the
engine when it loads them, with actor ``file``.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from destinations.ack import classify_ack, parse_ack
from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    destination_from_mapping,
    destination_from_yaml,
    dump_destination,
    load_destination_files,
)
from destinations.errors import DeliveryError
from integrator.catalog import Catalog, build_catalog, version_warnings
from integrator.delivery import mllp_client
from integrator.errors import ConfigurationError, PermanentError
from integrator.ids import new_control_id
from integrator.intake import mapping_context
from integrator.settings import Settings
from integrator.store import Conflict, MessageFilter, Store
from integrator.testmessage import synthetic_event
from mappings import MappingError, map_event

PENDING = ("queued", "sending", "retrying", "held")


class UnknownDestination(PermanentError):
    exit_code = 2

    def __init__(self, destination_id: str) -> None:
        super().__init__(f"no destination with id {destination_id!r}")


@dataclass(frozen=True)
class Change:
    destination_id: str
    action: str
    revision: int
    config: DestinationConfig | None
    warnings: tuple[str, ...] = ()
    diff: str = ""


@dataclass(frozen=True)
class TestResult:
    destination_id: str
    version: str
    control_id: str
    round_trip_ms: float
    ack_code: str | None
    outcome: str
    ack: str | None
    error: str | None


class DestinationAdmin:
    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        today: Callable[[], date],
        now: Callable[[], datetime],
        applied: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._dir = settings.destinations_dir
        self._today = today
        self._now = now
        self._applied = applied

    # -- reading -----------------------------------------------------------------------------
    async def catalog(self) -> Catalog:
        """The destination files, checked; definitions already in service may be past sunset."""
        loaded, errors = load_destination_files(self._dir)
        in_service = {config.id for _, config in loaded if await self._in_service(config)}
        return build_catalog(loaded, today=self._today(), errors=errors, in_service=in_service)

    async def _in_service(self, config: DestinationConfig) -> bool:
        revisions = await self._store.list_destination_revisions(config.id)
        return bool(revisions) and revisions[-1].config == _definition(config)

    async def get(self, destination_id: str) -> tuple[DestinationConfig, str]:
        catalog = await self.catalog()
        config = catalog.destinations.get(destination_id)
        if config is None:
            raise UnknownDestination(destination_id)
        return config, catalog.sources[destination_id]

    async def summaries(self) -> list[dict[str, Any]]:
        catalog = await self.catalog()
        rows = []
        for config in catalog.destinations.values():
            counts = await self._store.count_by_status(config.id)
            rows.append(
                {
                    "id": config.id,
                    "name": config.name,
                    "cluster": config.cluster,
                    "providers": list(config.providers),
                    "address": f"{config.host}:{config.port}",
                    "messages": dict(config.messages),
                    "enabled": config.enabled,
                    "file": catalog.sources[config.id],
                    "counts": counts,
                }
            )
        return rows

    async def history(self, destination_id: str) -> list[dict[str, Any]]:
        revisions = await self._store.list_destination_revisions(destination_id)
        if not revisions and destination_id not in (await self.catalog()).destinations:
            raise UnknownDestination(destination_id)
        return [
            {
                "revision": r.revision,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "reason": r.reason,
                "diff": r.diff,
            }
            for r in revisions
        ]

    # -- changing ----------------------------------------------------------------------------
    async def add(
        self, definition: str | Mapping[str, Any], *, actor: str, reason: str | None = None
    ) -> Change:
        config = self._validate(definition, source="(new destination)")
        if config.id in (await self.catalog()).destinations:
            raise ConfigurationError(
                f"destination {config.id!r} exists already; use update to change it"
            )
        path = self._dir / f"{config.id}.yaml"
        if path.exists():
            raise ConfigurationError(f"{path}: a file with that name exists already")
        return await self._write(config, path, "", actor=actor, action="add", reason=reason)

    async def update(
        self,
        destination_id: str,
        assignments: Sequence[str],
        *,
        actor: str,
        reason: str | None = None,
        action: str = "update",
    ) -> Change:
        current, source = await self.get(destination_id)
        data = _definition(current)
        for assignment in assignments:
            key, value = _parse_assignment(assignment)
            if key == "id":
                raise ConfigurationError("id: cannot be changed; add a new destination instead")
            _assign(data, key, value)
        config = self._validate(data, source=source, current=current)
        return await self._write(
            config,
            Path(source),
            dump_destination(current),
            actor=actor,
            action=action,
            reason=reason,
        )

    async def replace(
        self,
        destination_id: str,
        definition: Mapping[str, Any],
        *,
        actor: str,
        reason: str | None = None,
    ) -> Change:
        """Replace the whole definition (HTTP PUT); the id in it must match."""
        current, source = await self.get(destination_id)
        config = self._validate(definition, source=source, current=current)
        if config.id != destination_id:
            raise ConfigurationError("id: cannot be changed; add a new destination instead")
        return await self._write(
            config,
            Path(source),
            dump_destination(current),
            actor=actor,
            action="update",
            reason=reason,
        )

    async def set_enabled(
        self, destination_id: str, enabled: bool, *, actor: str, reason: str | None = None
    ) -> Change:
        return await self.update(
            destination_id,
            [f"enabled={'true' if enabled else 'false'}"],
            actor=actor,
            reason=reason,
            action="resume" if enabled else "pause",
        )

    async def remove(
        self, destination_id: str, *, actor: str, force: bool = False, reason: str | None = None
    ) -> Change:
        current, source = await self.get(destination_id)
        waiting = [
            m
            for status in PENDING
            for m in await self._store.list_messages(
                MessageFilter(destination_id=destination_id, status=status), limit=1_000_000
            )
        ]
        if waiting and not force:
            raise ConfigurationError(
                f"destination {destination_id!r} still has {len(waiting)} message(s) waiting; "
                "deliver them first, or remove with --force to dead-letter them"
            )
        why = f"destination removed by {actor}" + (f": {reason}" if reason else "")
        for message in waiting:
            await self._store.set_status(message.id, "dead", last_error=why)
        await asyncio.to_thread(Path(source).unlink)
        diff = _diff(dump_destination(current), "")
        revision = await self._store.add_destination_revision(
            destination_id, actor=actor, action="remove", config=None, diff=diff, reason=reason
        )
        await self._store.add_audit(
            actor,
            "destination.remove",
            destination_id,
            reason=reason,
            details={"revision": revision, "dead_lettered": len(waiting)},
        )
        await self._notify()
        return Change(destination_id, "remove", revision, None, diff=diff)

    async def rollback(
        self, destination_id: str, revision: int, *, actor: str, reason: str | None = None
    ) -> Change:
        entry = await self._store.get_destination_revision(destination_id, revision)
        if entry is None:
            raise ConfigurationError(f"destination {destination_id!r} has no revision {revision}")
        if entry.config is None:
            raise ConfigurationError(
                f"revision {revision} of {destination_id!r} is its removal; pick another"
            )
        config = self._validate(entry.config, source=f"revision {revision}")
        existing = await self.catalog()
        source = existing.sources.get(destination_id, str(self._dir / f"{destination_id}.yaml"))
        before = (
            dump_destination(existing.destinations[destination_id])
            if destination_id in existing.destinations
            else ""
        )
        return await self._write(
            config,
            Path(source),
            before,
            actor=actor,
            action=f"rollback to {revision}",
            reason=reason,
        )

    async def record_file_changes(self, catalog: Catalog) -> int:
        """Record definitions that differ from their last revision (hand edits) as revisions."""
        recorded = 0
        for config in catalog.destinations.values():
            revisions = await self._store.list_destination_revisions(config.id)
            last = revisions[-1].config if revisions else None
            now = _definition(config)
            if last == now:
                continue
            before = dump_destination(destination_from_mapping(last, source="")) if last else ""
            try:
                number = await self._store.add_destination_revision_if_changed(
                    config.id,
                    actor="file",
                    action="file",
                    config=now,
                    diff=_diff(before, dump_destination(config)),
                )
            except Conflict:
                # Another engine read the same file at the same moment and recorded it first.
                continue
            if number is not None:
                recorded += 1
        return recorded

    # -- testing -----------------------------------------------------------------------------
    async def test(self, destination_id: str, event_type: str | None = None) -> TestResult:
        """Send one test message (MSH-11 ``T``) on its own connection; the queue is untouched."""
        config, _ = await self.get(destination_id)
        kind = event_type or next(iter(config.messages))
        version = config.messages.get(kind)  # type: ignore[call-overload]
        if version is None:
            raise ConfigurationError(f"destination {destination_id!r} takes no {kind} messages")
        control_id = new_control_id()
        now = self._now()
        context = mapping_context(self._settings, config, control_id, now, processing_id="T")
        try:
            mapped = map_event(version, synthetic_event(kind, now), context)
        except MappingError as exc:
            raise ConfigurationError(f"cannot build a {version} test message: {exc}") from None
        client = mllp_client(config)
        started = time.perf_counter()
        ack_code = ack_text = error = None
        try:
            raw = await client.send(mapped.data)
            ack = parse_ack(raw)
            ack_code = ack.code
            ack_text = raw.decode("utf-8", "replace")
            outcome = classify_ack(
                ack, control_id, on_error=config.retry.on_error, on_reject=config.retry.on_reject
            ).name.lower()
        except DeliveryError as exc:
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            await client.close()
        elapsed = (time.perf_counter() - started) * 1000
        await self._store.add_audit(
            "integrator",
            "destination.test",
            destination_id,
            details={"control_id": control_id, "outcome": outcome, "ack_code": ack_code},
        )
        return TestResult(
            destination_id, version, control_id, elapsed, ack_code, outcome, ack_text, error
        )

    # -- internals ---------------------------------------------------------------------------
    def _validate(
        self,
        definition: str | Mapping[str, Any],
        *,
        source: str,
        current: DestinationConfig | None = None,
    ) -> DestinationConfig:
        """Validate as the engine would; keeping the versions of ``current`` is not a switch."""
        try:
            if isinstance(definition, str):
                config = destination_from_yaml(definition, source=source)
            else:
                config = destination_from_mapping(definition, source=source)
            keeps_versions = current is not None and current.messages == config.messages
            version_warnings(config, today=self._today(), source=source, in_service=keeps_versions)
        except DestinationFileError as exc:
            raise ConfigurationError(str(exc)) from None
        return config

    async def _write(
        self,
        config: DestinationConfig,
        path: Path,
        before: str,
        *,
        actor: str,
        action: str,
        reason: str | None,
    ) -> Change:
        text = dump_destination(config)
        warnings = tuple(
            version_warnings(config, today=self._today(), source=str(path), in_service=True)
        )
        if not config.providers:
            warnings += (f"destination {config.id!r} serves no providers: it receives nothing",)
        waiting = await self._unrouted_waiting(config)
        warnings += tuple(
            f"{count} unrouted event(s) wait for provider {provider!r}, now served by this "
            f"destination: route them with `integrator events route --provider {provider} "
            '--reason "..."`'
            for provider, count in sorted(waiting.items())
        )
        self._dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        diff = _diff(before, text)
        revision = await self._store.add_destination_revision(
            config.id,
            actor=actor,
            action=action,
            config=_definition(config),
            diff=diff,
            reason=reason,
        )
        await self._store.add_audit(
            actor,
            f"destination.{action.split()[0]}",
            config.id,
            reason=reason,
            details={"revision": revision},
        )
        await self._notify()
        return Change(config.id, action, revision, config, warnings, diff)

    async def _unrouted_waiting(self, changed: DestinationConfig) -> dict[str, int]:
        """Per provider this destination serves: the unrouted events of the types it takes.

        Those were stored while no destination served them, and nothing sends them by itself
        (``integrator.events_routing``): the operator who made the change is told to route them.
        """
        if not changed.providers or not changed.messages:
            return {}
        return await self._store.count_unrouted_events(
            provider_ids=list(changed.providers), event_types=list(changed.messages)
        )

    async def _notify(self) -> None:
        if self._applied is not None:
            await self._applied()


def _definition(config: DestinationConfig) -> dict[str, Any]:
    loaded = yaml.safe_load(dump_destination(config))
    assert isinstance(loaded, dict)
    return loaded


def _diff(before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile="before",
            tofile="after",
        )
    )


def _parse_assignment(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigurationError(f"--set {text!r}: write KEY=VALUE, e.g. port=2576")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigurationError(f"--set {key}: the value is not valid YAML") from None
    return key.strip(), value


def _assign(data: dict[str, Any], dotted: str, value: Any) -> None:
    """``retry.max_attempts=5`` sets a nested key; ``tls=null`` clears a section."""
    *parents, last = dotted.split(".")
    target = data
    for part in parents:
        child = target.get(part)
        if child is None:
            child = target[part] = {}
        if not isinstance(child, dict):
            raise ConfigurationError(f"--set {dotted}: {part} is not a section")
        target = child
    target[last] = value
