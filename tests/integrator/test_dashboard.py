"""The dashboard's figures (``integrator.dashboard``), from a real engine and receivers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.clock import ManualClock
from integrator.dashboard import destination_tiles, unrouted_events
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    async with MllpReceiver() as up, MllpReceiver(ack_code="AR") as refusing:
        for dest_id, port, cluster, messages in (
            ("noord", up.port, "CARD", {"referral": "ref-v1"}),
            ("zuid", refusing.port, "LAB", {"referral": "ref-v2"}),
        ):
            config = destination(
                dest_id,
                port,
                providers=["ziekenhuis-noord"],
                cluster=cluster,
                messages=messages,
                retry={"initial": "10ms", "max_attempts": 1, "max_age": "1h"},
            )
            (settings.destinations_dir / f"{dest_id}.yaml").write_text(dump_destination(config))
        started = Engine(settings, clock=ManualClock(NOW))
        await started.start()
        yield started
        await started.stop()


async def test_tiles_show_the_last_hour_the_last_ack_and_a_coming_sunset(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await engine.intake.submit(json.dumps(referral_data), source="cli")
    assert await engine.wait_settled(timeout=10)
    tiles = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    noord, zuid = tiles["noord"], tiles["zuid"]
    assert (noord.state, noord.waiting, noord.oldest_waiting_at) == ("active", 0, None)
    assert (noord.delivered_last_hour, noord.failed_last_hour, noord.dead) == (1, 0, 0)
    assert noord.last_ack_code == "AA"
    assert (zuid.delivered_last_hour, zuid.failed_last_hour, zuid.dead) == (0, 1, 1)
    assert zuid.last_ack_code == "AR"
    [notice] = noord.notices
    assert (notice.version, notice.status, notice.successor) == ("ref-v1", "deprecated", "ref-v2")
    assert notice.days_left == (date(2027, 7, 1) - NOW.date()).days
    assert zuid.notices == ()

    engine.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    later = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    assert later["noord"].delivered_last_hour == 0 and later["zuid"].dead == 1


async def test_tiles_are_only_of_the_clusters_asked_for(engine: Engine) -> None:
    tiles = await destination_tiles(engine, lambda cluster: cluster == "LAB")
    assert [t.id for t in tiles] == ["zuid"]


async def test_unrouted_events_are_counted(engine: Engine, referral_data: dict[str, Any]) -> None:
    assert await unrouted_events(engine) == 0
    referral_data["provider"]["id"] = "nobody-serves-this"
    await engine.intake.submit(json.dumps(referral_data), source="cli")
    assert await unrouted_events(engine) == 1
