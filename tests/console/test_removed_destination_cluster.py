"""A removed destination's messages and dead letters stay with the cluster it was last in.

``destinations remove --force`` makes the waiting messages dead letters, and its result page
says support can resend them to another destination or discard them. Its definition gone, the
destination lay in no cluster, so only people with all clusters saw any of it: support of its
own cluster found no dead letter, a 404 for the message, "no messages" by ZD number, and a
destination filter refused as "no message in this store went to one". Now its last recorded
definition says its cluster (``Catalog.removed``, ``integrator.clusters``), through every
door: the console, the API, the dashboard. Someone of another cluster still sees none of it,
and is refused the filter in words that say nothing of what lies outside their clusters. Added
again, the id comes back only in that cluster, through every door and by hand (a file that
puts it elsewhere is refused at the reload), so its messages never reach another cluster.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.operators import DefinitionRefused
from integrator.removed_destinations import Removal, elsewhere_than_removed
from tests.conftest import load_sample
from tests.console.test_saved_searches import post, signed_in
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


def _definition(cluster: str | None) -> dict[str, Any]:
    """``oost`` as it was, in ``cluster``: what an operator adds again."""
    again = destination(
        "oost", 2599, providers=["ziekenhuis-noord"], cluster=cluster, enabled=False
    )
    loaded: dict[str, Any] = yaml.safe_load(dump_destination(again))
    return loaded


async def _untouched(engine: Engine) -> None:
    """Nothing recorded, no file: the history still ends in the removal, in CARD."""
    last = (await engine.store.list_destination_revisions("oost"))[-1]
    assert last.config is None and last.action == "remove"
    assert not (engine.settings.destinations_dir / "oost.yaml").exists()
    assert (await engine.admin.catalog()).removed == {"oost": "CARD"}


async def test_added_again_in_another_cluster_is_refused_naming_the_id_and_the_way_out(
    world: World,
) -> None:
    """The service, for everyone (also who holds all clusters, also the command line): the
    id of a destination removed from CARD comes back only in CARD, so its messages, patient
    data sent to CARD's receiver, never reach LAB's people. In CARD it comes back."""
    engine, dead = world.engine, world.dead
    for cluster, said in (
        (
            "LAB",
            "(new destination): id: destination 'oost' was removed from cluster CARD, and its "
            "messages stay in that cluster: add it again in cluster CARD, or choose another id",
        ),
        (
            None,
            "(new destination): id: destination 'oost' was removed from cluster CARD, and its "
            "messages stay in that cluster: add it again in cluster CARD, or choose another id",
        ),
    ):
        with pytest.raises(DefinitionRefused) as refused:
            await engine.admin.add(_definition(cluster), actor="local:root")
        assert str(refused.value) == said
        [problem] = refused.value.problems
        assert (problem.key, problem.code) == ("id", "id_of_removed")
        assert problem.values == {"id": "oost", "cluster": "CARD"}
        await _untouched(engine)
    # A rollback of the removed destination is held to the same rule: its revision is CARD's.
    back = await engine.admin.rollback("oost", 1, actor="local:root")
    assert back.config is not None and back.config.cluster == "CARD"
    async with signed_in(engine, "carla@example.org", Grant(Role.RESEND, "CARD")) as carla:
        assert (await carla.get(f"/messages/{dead}")).status_code == 200


async def test_a_destination_in_service_may_still_move_to_another_cluster(world: World) -> None:
    """Moving a destination in service is a change of its own, made on purpose by who may
    change both clusters (warned of when nobody holds the new one): it stays allowed, and its
    messages go with it, as docs/access.md says."""
    engine = world.engine
    moved = await engine.admin.update("zuid", ["cluster=CARD"], actor="local:root")
    assert moved.config is not None and moved.config.cluster == "CARD"


async def test_the_api_refuses_it_and_says_nothing_of_card_to_who_cannot_see_it(
    world: World,
) -> None:
    engine = world.engine
    both = await token_for(
        engine, Grant(Role.DESTINATIONS, "CARD"), Grant(Role.DESTINATIONS, "LAB"), name="both"
    )
    lab = await token_for(engine, Grant(Role.DESTINATIONS, "LAB"), name="lab-only")
    async with api_client(engine) as everything, api_client(engine, both) as card_and_lab:
        for api in (everything, card_and_lab):
            answer = await api.post("/api/v1/destinations", json=_definition("LAB"))
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"] == (
                "(new destination): id: destination 'oost' was removed from cluster CARD, and "
                "its messages stay in that cluster: add it again in cluster CARD, or choose "
                "another id"
            )
            await _untouched(engine)
    async with api_client(engine, lab) as lab_only:
        answer = await lab_only.post("/api/v1/destinations", json=_definition("LAB"))
        assert answer.status_code == 403, answer.text
        assert "CARD" not in answer.text and "removed" not in answer.text
        await _untouched(engine)
    async with api_client(engine, both) as card_and_lab:
        again = await card_and_lab.post("/api/v1/destinations", json=_definition("CARD"))
        assert again.status_code == 201, again.text


async def test_the_console_says_it_beside_the_id_in_dutch(world: World) -> None:
    engine = world.engine
    form = {
        "id": "oost",
        "name": "Oost",
        "cluster": "LAB",
        "providers": "ziekenhuis-noord",
        "host": "127.0.0.1",
        "port": "2599",
        "connections": "1",
        "messages.referral": "ref-v2",
        "ack_mode": "original",
        "reason": "back again",
    }
    grants = (Grant(Role.DESTINATIONS),)
    async with signed_in(engine, "ada@example.org", *grants, lang="nl") as ada:
        answer = await post(ada, "/destinations-new", form)
    assert answer.status_code == 422, answer.text
    beside = re.findall(r'<p class="field-error" id="id-error"[^>]*>(.*?)</p>', answer.text, re.S)
    assert [html.unescape(b) for b in beside] == [
        "id: bestemming 'oost' is verwijderd uit cluster CARD, en de berichten ervan blijven in "
        "dat cluster: voeg haar opnieuw toe in cluster CARD, of kies een ander id"
    ]
    await _untouched(engine)


async def test_a_file_that_adds_it_again_in_another_cluster_is_refused_at_the_reload(
    world: World,
) -> None:
    """By hand: the file is refused with its file and ``id`` named, the id stays out of
    service and in CARD (its messages with CARD's support, not LAB's), nothing is recorded;
    a new file beside it is taken into service by the same reload. Put in CARD, it loads."""
    engine, dead = world.engine, world.dead
    directory = engine.settings.destinations_dir
    (directory / "oost.yaml").write_text(
        dump_destination(
            destination("oost", 2599, providers=["ziekenhuis-noord"], cluster="LAB", enabled=False)
        ),
        encoding="utf-8",
    )
    (directory / "west.yaml").write_text(
        dump_destination(destination("west", 2599, providers=["lab-west"], cluster="LAB")),
        encoding="utf-8",
    )
    catalog = await engine.reload_destinations()
    assert "west" in catalog.destinations
    assert "oost" not in catalog.destinations
    broken = catalog.broken["oost"]
    assert Path(broken.file).name == "oost.yaml" and broken.revision is None
    assert (broken.problem.key, broken.problem.code) == ("id", "id_of_removed")
    assert str(broken.problem) == (
        f"{directory / 'oost.yaml'}: id: destination 'oost' was removed from cluster CARD, and "
        "its messages stay in that cluster: add it again in cluster CARD, or choose another id"
    )
    assert engine.catalog.removed == {"oost": "CARD"}
    last = (await engine.store.list_destination_revisions("oost"))[-1]
    assert last.config is None
    async with (
        signed_in(engine, "lars@example.org", Grant(Role.RESEND, "LAB")) as lars,
        signed_in(engine, "carla@example.org", Grant(Role.RESEND, "CARD")) as carla,
    ):
        assert (await lars.get(f"/messages/{dead}")).status_code == 404
        assert (await carla.get(f"/messages/{dead}")).status_code == 200
    (directory / "oost.yaml").write_text(
        dump_destination(
            destination("oost", 2599, providers=["ziekenhuis-noord"], cluster="CARD", enabled=False)
        ),
        encoding="utf-8",
    )
    catalog = await engine.reload_destinations()
    assert catalog.destinations["oost"].cluster == "CARD" and "oost" not in catalog.broken


def test_an_id_removed_from_no_cluster_comes_back_only_without_one() -> None:
    """Its messages were for all-cluster grants only: put in a cluster, they would reach that
    cluster's people."""
    removal = Removal("oud", 2, datetime.now(UTC), "local:root", None, None)
    assert elsewhere_than_removed(removal, None, "oud.yaml") is None
    refusal = elsewhere_than_removed(removal, "LAB", "oud.yaml")
    assert refusal is not None
    assert (refusal.key, refusal.code) == ("id", "id_of_removed_no_cluster")
    assert str(refusal) == (
        "oud.yaml: id: destination 'oud' was removed while in no cluster, and its messages stay "
        "there, for all-cluster grants only: add it again without a cluster, or choose another id"
    )
    assert elsewhere_than_removed(None, "LAB", "oud.yaml") is None  # never removed
