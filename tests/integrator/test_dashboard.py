"""The dashboard's figures (``integrator.dashboard``), from a real engine and receivers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from deadletter import (
    ResendRequest,
    count_open_dead_letters,
    discard,
    list_dead_letters,
    select_dead_letters,
)
from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.clock import ManualClock
from integrator.dashboard import destination_tiles, unrouted_events
from integrator.engine import Engine
from integrator.resending import resend_in_engine
from integrator.scrape import refresh_metrics
from integrator.store import AttemptRecord, MessageFilter
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message
from tests.store.helpers import statements_sent

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

    # Failed counts those that died, resolved since or not: a discard settles the dead letter
    # (the tile's dead letters drop) but the message still failed within the hour.
    [dead] = await engine.store.list_messages(MessageFilter(destination_id="zuid"))
    await discard(engine.store, dead.id, actor="local:test", reason="sent by post")
    settled = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    assert (settled["zuid"].failed_last_hour, settled["zuid"].dead) == (1, 0)

    engine.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    later = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    assert later["noord"].delivered_last_hour == 0 and later["zuid"].failed_last_hour == 0


async def test_tiles_are_only_of_the_clusters_asked_for(engine: Engine) -> None:
    tiles = await destination_tiles(engine, lambda cluster: cluster == "LAB")
    assert [t.id for t in tiles] == ["zuid"]


async def test_a_refresh_counts_only_what_waits_of_the_clusters_asked_for(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """Every open dashboard asks every 5 s: its counts by status are of the destinations the
    person may see only, and of their waiting and held messages only, found by status in the
    ``(destination_id, status, seq)`` index, not counted through every delivered message."""
    await engine.intake.submit(json.dumps(referral_data), source="cli")
    assert await engine.wait_settled(timeout=10)
    with statements_sent(engine.store) as statements:
        [tile] = await destination_tiles(engine, lambda cluster: cluster == "LAB")
    assert tile.id == "zuid" and tile.waiting == 0
    [(sql, params)] = [
        (sql, p)
        for sql, p in statements
        if "GROUP BY messages.destination_id, messages.status" in sql
    ]
    async with engine.store._engine.connect() as conn:
        plan = "\n".join(
            str(row[-1]) for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        )
    assert "(destination_id=? AND status=?)" in plan, plan
    assert "noord" not in params and "delivered" not in params, params


async def test_a_last_attempt_without_an_ack_shows_the_ack_before_it(engine: Engine) -> None:
    """The last ACK is the newest message's last answered attempt: a timeout after an AE
    leaves the AE as the last ACK, and the timeout as the last attempt."""
    message = make_message(destination_id="zuid")
    await engine.store.accept_event(make_event(), [message])
    for number, ack_code, error in ((1, "AE", "ACK AE"), (2, None, "timed out after 30 s")):
        started = NOW + timedelta(seconds=number)
        attempt = AttemptRecord(message.id, number, started, 5.0, "retry", ack_code, error=error)
        await engine.store.record_attempt(attempt, status="retrying", last_error=error)
    tiles = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    zuid = tiles["zuid"]
    assert (zuid.last_ack_code, zuid.last_ack_at) == ("AE", NOW + timedelta(seconds=1))
    assert zuid.last_attempt is not None and zuid.last_attempt.ack_code is None
    assert zuid.last_attempt.at == NOW + timedelta(seconds=2)
    [made] = await engine.store.get_messages([message.id])
    assert zuid.waiting == 1 and zuid.oldest_waiting_at == made.created_at
    assert tiles["noord"].last_attempt is None and tiles["noord"].oldest_waiting_at is None


async def test_a_refresh_reads_as_much_for_forty_tiles_as_for_one(tmp_path: Path) -> None:
    """Every read of a refresh is one statement for all its tiles: asked a tile at a time,
    40 destinations were 120 statements more at every refresh of every open dashboard."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    for n in range(40):
        config = destination(
            f"d{n:02}", 9, providers=[f"ziekenhuis-{n}"], cluster=f"C{n:02}", enabled=False
        )
        (settings.destinations_dir / f"d{n:02}.yaml").write_text(dump_destination(config))
    engine = Engine(settings, clock=ManualClock(NOW))
    await engine.start()
    try:
        # Quiet first: the start's prune and queueing send statements of their own.
        await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
        assert await engine.wait_settled(timeout=10)
        sent = []
        for visible in (lambda cluster: cluster == "C07", lambda cluster: True):
            with statements_sent(engine.store) as statements:
                tiles = await destination_tiles(engine, visible)
            sent.append((len(tiles), len(statements)))
    finally:
        await engine.stop()
    [(one, read_for_one), (forty, read_for_forty)] = sent
    assert (one, forty) == (1, 40)
    assert read_for_forty == read_for_one, sent


async def test_unrouted_events_are_counted(engine: Engine, referral_data: dict[str, Any]) -> None:
    assert await unrouted_events(engine) == 0
    referral_data["provider"]["id"] = "nobody-serves-this"
    await engine.intake.submit(json.dumps(referral_data), source="cli")
    assert await unrouted_events(engine) == 1


async def test_a_tile_counts_only_the_open_dead_letters_as_the_list_the_metric_and_the_api_do(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """Three referrals die at zuid (AR): one is resent to noord and delivered there (resolved),
    one is discarded (cancelled), one stays open. The tile says 1, as the dead letters list,
    ``integrator_dead_letters`` and ``GET /api/v1/destinations`` say (one count for all of
    them: ``count_open_dead_letters``)."""
    for n in range(3):
        data = {**referral_data, "event_id": str(uuid.uuid4()), "zd_number": f"ZD60000000{n}"}
        await engine.intake.submit(json.dumps(data), source="cli")
    assert await engine.wait_settled(timeout=10)
    dead = await engine.store.list_messages(MessageFilter(destination_id="zuid", status="dead"))
    assert len(dead) == 3
    resent, discarded, still_open = dead

    request = ResendRequest(reason="fax came back", actor="test", to="noord")
    selection = await select_dead_letters(engine.store, message_ids=[resent.id])
    [result] = await resend_in_engine(engine, selection, request)
    assert result.message is not None
    await discard(engine.store, discarded.id, actor="test", reason="sent by hand")
    assert await engine.wait_settled(timeout=10)
    delivered = await engine.store.get_message(result.message.id)
    assert delivered is not None and delivered.status == "delivered"

    listed = await list_dead_letters(engine.store, destination_id="zuid")
    assert [letter.message.id for letter in listed] == [still_open.id]
    assert await count_open_dead_letters(engine.store) == {"zuid": 1}
    tiles = {t.id: t for t in await destination_tiles(engine, lambda cluster: True)}
    assert (tiles["zuid"].dead, tiles["noord"].dead) == (1, 0)
    assert (await engine.store.count_by_status("zuid"))["dead"] == 2  # the resolved one stays

    await refresh_metrics(engine)
    scraped = generate_latest(engine.metrics.registry).decode()
    assert 'integrator_dead_letters{destination="zuid"} 1.0' in scraped
    async with api_client(engine) as api:
        rows = {r["id"]: r for r in (await api.get("/api/v1/destinations")).json()}
    assert (rows["zuid"]["dead_letters"], rows["zuid"]["counts"]["dead"]) == (1, 2)
    assert rows["noord"]["dead_letters"] == 0
