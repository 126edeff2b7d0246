"""A destination's detail says since when it is paused and when it was last resumed
(``paused_at``, ``resumed_at``), as the engine saw it change: a message's ``max_age`` counts from
that resume at the earliest. Paused and resumed as in operation, through the API, the engine
applying each change as it does when it notices the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.presenters import iso_time
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for

T0 = datetime(2026, 11, 20, 9, 15, 0, 124456, tzinfo=UTC)


async def test_the_detail_says_since_when_paused_and_when_last_resumed(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    async with MllpReceiver() as receiver:
        config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
        engine = Engine(settings, clock=clock)
        await engine.start()
        try:
            async with api_client(engine) as api:
                never = (await api.get("/api/v1/destinations/noord")).json()

                clock.advance(timedelta(hours=1))
                paused_at = clock.now()
                why = {"X-Integrator-Reason": "maintenance"}
                assert (await api.post("/api/v1/destinations/noord/pause", headers=why)).is_success
                await engine.reload_destinations()
                paused = (await api.get("/api/v1/destinations/noord")).json()

                clock.advance(timedelta(days=2))
                resumed_at = clock.now()
                why = {"X-Integrator-Reason": "back up"}
                resume = await api.post("/api/v1/destinations/noord/resume", headers=why)
                assert resume.is_success
                await engine.reload_destinations()
                resumed = (await api.get("/api/v1/destinations/noord")).json()
        finally:
            await engine.stop()
    assert never["state"] == "active"
    assert (never["paused_at"], never["resumed_at"]) == (None, None)
    assert paused["state"] == "paused"
    assert (paused["paused_at"], paused["resumed_at"]) == (iso_time(paused_at), None)
    # Who paused it and why, from the change that did (the API's caller: an admin token).
    by = paused["paused_by"]
    assert (by["action"], by["reason"], by["at"]) == ("pause", "maintenance", iso_time(paused_at))
    assert by["actor"].startswith("token:") and by["revision"] == paused["revision"]
    assert never["paused_by"] is None and resumed["paused_by"] is None
    assert resumed["state"] == "active"
    # The store forgets the pause at its resume: the resume is what max_age counts from.
    assert (resumed["paused_at"], resumed["resumed_at"]) == (None, iso_time(resumed_at))
