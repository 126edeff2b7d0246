"""A removed destination's messages and dead letters stay with the cluster it was last in.

``destinations remove --force`` makes the waiting messages dead letters, and its result page
says support can resend them to another destination or discard them. Its definition gone, the
destination lay in no cluster, so only people with all clusters saw any of it: support of its
own cluster found no dead letter, a 404 for the message, "no messages" by ZD number, and a
destination filter refused as "no message in this store went to one". Now its last recorded
definition says its cluster (``Catalog.removed``, ``integrator.clusters``), through every
door: the console, the API, the dashboard. Someone of another cluster still sees none of it,
and is refused the filter in words that say nothing of what lies outside their clusters. Added
again in another cluster, the id takes its earlier messages there.

On SQLite and PostgreSQL: the removed destinations' clusters are one read of the history.

The world: ``oost`` in CARD, paused, so a referral for its provider waits for it; ``zuid`` in
LAB. ``oost`` is removed with force: the referral is a dead letter.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.console.test_saved_searches import signed_in
from tests.http.support import api_client, token_for
from tests.integrator.support import destination, settings_for
from tests.services import scratch_database

ZD = "ZD100000001"


@dataclass
class World:
    engine: Engine
    dead: str  # the message the removal made a dead letter


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        extra = {}
        if request.param == "postgresql":
            _, url = await stack.enter_async_context(scratch_database())
            extra["database_url"] = url
        settings = settings_for(tmp_path, search_key="a-console-test-search-key", **extra)
        settings.destinations_dir.mkdir()
        for config in (
            destination("oost", 2599, providers=["ziekenhuis-noord"], enabled=False),
            destination("zuid", 2599, providers=["lab-zuid"], cluster="LAB"),
        ):
            path = settings.destinations_dir / f"{config.id}.yaml"
            path.write_text(dump_destination(config), encoding="utf-8")
        engine = Engine(settings)
        await engine.start()
        stack.push_async_callback(engine.stop)
        event = load_sample("referral")
        event["event_id"] = str(uuid.uuid4())
        [message] = (await engine.intake.submit(json.dumps(event), source="http")).messages
        change = await engine.admin.remove(
            "oost", actor="person:olga@example.org", force=True, reason="left the platform"
        )
        assert change.dead_lettered == 1
        yield World(engine, message.message_id)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def test_support_of_its_cluster_keeps_its_messages_and_dead_letters(world: World) -> None:
    engine, dead = world.engine, world.dead
    assert "oost" not in engine.catalog.destinations
    assert engine.catalog.removed == {"oost": "CARD"}
    async with signed_in(engine, "carla@example.org", Grant(Role.RESEND, "CARD")) as carla:
        letters = await carla.get("/deadletters")
        assert letters.status_code == 200, letters.text
        assert f"/messages/{dead}" in letters.text
        assert '<option value="oost"' in letters.text  # the filter offers it
        shown = await carla.get(f"/messages/{dead}")
        assert shown.status_code == 200, shown.text
        found = await carla.get(f"/messages?zd_number={ZD}")
        assert f"/messages/{dead}" in found.text
        assert '<option value="oost"' in found.text
        narrowed = await carla.get("/messages?destination=oost")
        assert narrowed.status_code == 200, narrowed.text
        assert f"/messages/{dead}" in narrowed.text
        only = await carla.get("/deadletters?destination=oost")
        assert only.status_code == 200, only.text
        assert f"/messages/{dead}" in only.text
        # The dashboard has no tile for it, and names its open dead letter, linked.
        dashboard = await carla.get("/")
        assert 'id="removed-dead-oost" href="/deadletters?destination=oost"' in dashboard.text
        assert "Dead letters of removed destinations: oost: 1" in _text(dashboard.text)
        assert "tile-oost" not in dashboard.text

    token = await token_for(engine, Grant(Role.RESEND, "CARD"))
    async with api_client(engine, token) as api:
        listed = await api.get("/api/v1/messages", params={"zd_number": ZD})
        assert [m["id"] for m in listed.json()] == [dead]
        filtered = await api.get("/api/v1/messages", params={"destination": "oost"})
        assert filtered.status_code == 200, filtered.text
        assert [m["id"] for m in filtered.json()] == [dead]
        letters_api = await api.get("/api/v1/deadletters")
        assert dead in letters_api.text
        assert (await api.get(f"/api/v1/messages/{dead}")).status_code == 200
        # What the removal promised: support may close it (or resend it elsewhere).
        closed = await api.post(
            f"/api/v1/deadletters/{dead}/discard", json={"reason": "sent by hand to the new HIS"}
        )
        assert closed.status_code == 200, closed.text
    message = await engine.store.get_message(dead)
    assert message is not None and message.status == "cancelled"


async def test_another_clusters_support_still_sees_none_of_it(world: World) -> None:
    engine, dead = world.engine, world.dead
    async with signed_in(engine, "lars@example.org", Grant(Role.RESEND, "LAB")) as lars:
        assert (await lars.get(f"/messages/{dead}")).status_code == 404
        letters = await lars.get("/deadletters")
        assert dead not in letters.text and '<option value="oost"' not in letters.text
        found = await lars.get(f"/messages?zd_number={ZD}")
        assert dead not in found.text
        refused = await lars.get("/messages?destination=oost")
        assert refused.status_code == 422, refused.text
        said = _text(refused.text)
        # True for them, and the same as for an id nobody ever had: nothing of CARD is told.
        assert (
            "no destination you may see has that id, and no message you may see went to one" in said
        )
        assert "in this store" not in said
        never = _text((await lars.get("/messages?destination=west")).text)
        assert said.replace("oost", "west") == never
        dashboard = await lars.get("/")
        assert "removed-dead-oost" not in dashboard.text
    token = await token_for(engine, Grant(Role.RESEND, "LAB"))
    async with api_client(engine, token) as api:
        assert (await api.get(f"/api/v1/messages/{dead}")).status_code == 404
        assert (await api.get("/api/v1/messages", params={"zd_number": ZD})).json() == []
        assert dead not in (await api.get("/api/v1/deadletters")).text
        refused_api = await api.get("/api/v1/messages", params={"destination": "oost"})
        assert refused_api.status_code == 422, refused_api.text
        assert "no destination you may see has that id" in refused_api.text
    # Who sees every cluster is told the store's truth, as before.
    async with signed_in(engine, "alex@example.org", Grant(Role.RESEND)) as alex:
        assert (await alex.get(f"/messages/{dead}")).status_code == 200
        unknown = _text((await alex.get("/messages?destination=west")).text)
        assert "no destination has that id, and no message in this store went to one" in unknown


async def test_added_again_in_another_cluster_its_messages_go_with_it(world: World) -> None:
    engine, dead = world.engine, world.dead
    async with (
        signed_in(engine, "lars@example.org", Grant(Role.RESEND, "LAB")) as lars,
        signed_in(engine, "carla@example.org", Grant(Role.RESEND, "CARD")) as carla,
    ):
        assert (await carla.get(f"/messages/{dead}")).status_code == 200
        assert (await lars.get(f"/messages/{dead}")).status_code == 404
        # Someone with all clusters adds the id again, in LAB.
        again = destination(
            "oost", 2599, providers=["ziekenhuis-noord"], cluster="LAB", enabled=False
        )
        path = engine.settings.destinations_dir / "oost.yaml"
        path.write_text(dump_destination(again), encoding="utf-8")
        await engine.reload_destinations()
        assert engine.catalog.removed == {}
        assert (await lars.get(f"/messages/{dead}")).status_code == 200
        assert (await carla.get(f"/messages/{dead}")).status_code == 404
