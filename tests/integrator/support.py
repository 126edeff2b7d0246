"""Helpers for engine tests: destinations pointed at local receivers, settings in a tmp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from destinations.config import DestinationConfig, destination_from_mapping, dump_destination
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.engine import Engine
from integrator.settings import Settings
from integrator.transport.embedded import EmbeddedTransport


def destination(
    dest_id: str, port: int, *, providers: list[str], **overrides: Any
) -> DestinationConfig:
    data: dict[str, Any] = {
        "id": dest_id,
        "name": dest_id.replace("-", " ").title(),
        "cluster": "CARD",
        "providers": providers,
        "host": "127.0.0.1",
        "port": port,
        "messages": {"referral": "ref-v2", "diagnostic_request": "orm-v3"},
        "receiving_application": "HIS",
        "receiving_facility": dest_id.upper()[:10],
        "connect_timeout": "1s",
        "ack_timeout": "2s",
        "retry": {
            "initial": "50ms",
            "multiplier": 2,
            "max_delay": "200ms",
            "max_attempts": 5,
            "max_age": "1h",
        },
    }
    data.update(overrides)
    return destination_from_mapping(data, source=f"{dest_id}.yaml")


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/store.db",
        "destinations_dir": tmp_path / "destinations",
        "http_port": 0,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def engine_on_destinations(
    settings: Settings, *configs: DestinationConfig
) -> AsyncIterator[Engine]:
    """An engine started on ``settings``, its destinations directory made with a file for each
    of ``configs``; stopped at the end."""
    settings.destinations_dir.mkdir()
    for config in configs:
        (settings.destinations_dir / f"{config.id}.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


@asynccontextmanager
async def engine_giving_up_at_once(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    """An engine started on its destination file ``noord`` aimed at ``receiver`` (already
    started), one attempt only: for tests of what one answer leaves in logs and listings."""
    config = destination(
        "noord",
        receiver.port,
        providers=["ziekenhuis-noord"],
        retry={"initial": "50ms", "max_attempts": 1, "max_age": "1h"},
    )
    async with engine_on_destinations(settings_for(tmp_path), config) as engine:
        yield engine


class RecordingTransport(EmbeddedTransport):
    """The real embedded transport that also notes each publish in ``events``: what a test
    reads to see that a chunk was published right after its commit."""

    def __init__(self, events: list[tuple[str, int]]) -> None:
        super().__init__()
        self.events = events

    async def publish(
        self, messages: Sequence[OutboundMessage], *, written: Callable[[], None] | None = None
    ) -> None:
        self.events.append(("published", len(messages)))
        await super().publish(messages, written=written)
