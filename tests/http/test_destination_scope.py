"""A destinations manager held to some clusters stays within them, also through ``providers``.

An event goes to every destination that serves its provider, whatever its cluster; so a
destination in LAB that takes on a provider a CARD destination serves would receive CARD's
referrals, patients and all, at a host its manager chooses. docs/access.md: such a change is
refused (403) for anyone held to some clusters, without naming the other destination or its
cluster, and nothing is written, recorded or audited; a caller with all clusters may, and is
warned as before. The world: ``noord`` in CARD serving ``ziekenhuis-noord`` (the fixture) and
``lab`` in LAB serving ``lab-west``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import Trace, add_lab_cluster, api_client, token_for, trace
from tests.integrator.support import destination

ELSEWHERE = (
    "providers: provider 'ziekenhuis-noord' is served by a destination outside your clusters; "
    "ask someone with access to all clusters"
)


@dataclass
class Clients:
    everything: httpx.AsyncClient  # every role for all clusters
    lab: httpx.AsyncClient  # destinations for LAB only


@pytest.fixture
async def clients(engine: Engine) -> AsyncIterator[Clients]:
    await add_lab_cluster(engine)
    lab_token = await token_for(engine, Grant(Role.DESTINATIONS, "LAB"), name="lab-ops")
    async with api_client(engine) as everything, api_client(engine, lab_token) as lab:
        yield Clients(everything, lab)


def new_destination(dest_id: str, providers: list[str], cluster: str = "LAB") -> dict[str, Any]:
    config = destination(dest_id, 2600, providers=providers, cluster=cluster)
    loaded: dict[str, Any] = yaml.safe_load(dump_destination(config))
    return loaded


def refused_quietly(answer: httpx.Response) -> None:
    """403 naming the provider only: not the other destination, nor its cluster."""
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert detail == ELSEWHERE
    assert "'noord'" not in detail and "CARD" not in detail


async def test_adding_a_provider_another_cluster_serves_is_refused_and_leaves_no_trace(
    engine: Engine, clients: Clients
) -> None:
    untouched = await trace(engine, "hosp-zy")
    added = await clients.lab.post(
        "/api/v1/destinations", json=new_destination("hosp-zy", ["ziekenhuis-noord"])
    )
    refused_quietly(added)
    assert await trace(engine, "hosp-zy") == untouched == Trace(None, 0, 0)
    assert "hosp-zy" not in engine.catalog.destinations
    # Hidden in a list among its own providers, or added later: the same.
    mixed = new_destination("hosp-zy", ["lab-oost", "ziekenhuis-noord"])
    refused_quietly(await clients.lab.post("/api/v1/destinations", json=mixed))
    assert await trace(engine, "hosp-zy") == untouched
    # All clusters: made, and warned naming the other, as before.
    made = await clients.everything.post(
        "/api/v1/destinations", json=new_destination("hosp-zy", ["ziekenhuis-noord"])
    )
    assert made.status_code == 201, made.text
    assert any("is also served by 'noord'" in w for w in made.json()["warnings"])


async def test_patch_put_and_rollback_to_another_clusters_provider_are_refused(
    engine: Engine, clients: Clients
) -> None:
    before = await trace(engine, "lab")
    patched = await clients.lab.patch(
        "/api/v1/destinations/lab", json={"providers": ["lab-west", "ziekenhuis-noord"]}
    )
    refused_quietly(patched)
    shown = (await clients.lab.get("/api/v1/destinations/lab")).json()
    replaced = await clients.lab.put(
        "/api/v1/destinations/lab",
        json={**shown["definition"], "providers": ["ziekenhuis-noord"]},
    )
    refused_quietly(replaced)
    assert await trace(engine, "lab") == before
    assert engine.catalog.destinations["lab"].providers == ("lab-west",)
    # A revision that served it (made by someone with all clusters, then undone) cannot be
    # restored from LAB alone: a rollback would give the provider back.
    shared = await clients.everything.patch(
        "/api/v1/destinations/lab", json={"providers": ["lab-west", "ziekenhuis-noord"]}
    )
    assert shared.status_code == 200, shared.text
    undone = await clients.everything.patch(
        "/api/v1/destinations/lab", json={"providers": ["lab-west"]}
    )
    assert undone.status_code == 200, undone.text
    before = await trace(engine, "lab")
    rolled = await clients.lab.post(
        f"/api/v1/destinations/lab/rollback/{shared.json()['revision']}"
    )
    refused_quietly(rolled)
    assert await trace(engine, "lab") == before
    restored = await clients.everything.post(
        f"/api/v1/destinations/lab/rollback/{shared.json()['revision']}"
    )
    assert restored.status_code == 200, restored.text
    assert "ziekenhuis-noord" in engine.catalog.destinations["lab"].providers


async def test_a_provider_given_by_someone_with_all_clusters_stays_workable_and_unnamed(
    engine: Engine, clients: Clients
) -> None:
    """LAB's destination serving a CARD provider because an all-clusters operator said so:
    its LAB manager still pauses it, moves its port and drops the provider, and is never told
    which destination outside LAB serves it too."""
    given = await clients.everything.patch(
        "/api/v1/destinations/lab", json={"providers": ["lab-west", "ziekenhuis-noord"]}
    )
    assert given.status_code == 200, given.text
    assert any("is also served by 'noord'" in w for w in given.json()["warnings"])
    moved = await clients.lab.patch("/api/v1/destinations/lab", json={"port": 2598})
    assert moved.status_code == 200, moved.text
    assert not [w for w in moved.json()["warnings"] if "also served" in w]
    assert "'noord'" not in moved.text
    paused = await clients.lab.post("/api/v1/destinations/lab/pause")
    assert paused.status_code == 200, paused.text
    dropped = await clients.lab.patch("/api/v1/destinations/lab", json={"providers": ["lab-west"]})
    assert dropped.status_code == 200, dropped.text
    assert engine.catalog.destinations["lab"].providers == ("lab-west",)


async def test_a_limited_caller_is_warned_of_shared_providers_in_its_own_clusters(
    clients: Clients,
) -> None:
    copy = await clients.lab.post(
        "/api/v1/destinations", json=new_destination("lab-copy", ["lab-west"])
    )
    assert copy.status_code == 201, copy.text
    [warning] = [w for w in copy.json()["warnings"] if "also served" in w]
    assert "provider 'lab-west' is also served by 'lab'" in warning


async def test_an_id_of_another_cluster_is_refused_alike_in_service_or_removed(
    engine: Engine, clients: Clients
) -> None:
    """Ids are global, so refusing one says it is taken; nothing more: not whether it is in
    service, nor its cluster. An id of its own cluster still says it exists already."""
    gone = await clients.everything.post(
        "/api/v1/destinations", json=new_destination("old-card", ["old-card"], cluster="CARD")
    )
    assert gone.status_code == 201, gone.text
    removed = await clients.everything.delete("/api/v1/destinations/old-card")
    assert removed.status_code == 200, removed.text
    answers = {}
    for dest_id in ("noord", "old-card"):
        before = await trace(engine, dest_id)
        answer = await clients.lab.post(
            "/api/v1/destinations", json=new_destination(dest_id, ["lab-oost"])
        )
        assert answer.status_code == 403, answer.text
        answers[dest_id] = answer.json()["detail"].replace(repr(dest_id), "ID")
        assert await trace(engine, dest_id) == before
    assert (
        answers["noord"]
        == answers["old-card"]
        == (
            "id: you may not use the id ID: it is, or was, a destination outside your clusters; "
            "choose another id, or ask someone with access to all clusters"
        )
    )
    assert "CARD" not in answers["noord"] and "exists" not in answers["noord"]
    # What a GET of it answers, as for any id outside LAB: unknown.
    assert (await clients.lab.get("/api/v1/destinations/noord")).status_code == 404
    own = await clients.lab.post("/api/v1/destinations", json=new_destination("lab", ["lab-oost"]))
    assert own.status_code == 422 and "exists already" in own.json()["detail"]
    # All clusters: the id of a removed destination is theirs to use again, in its cluster
    # only (its messages lie there; docs/access.md).
    elsewhere = await clients.everything.post(
        "/api/v1/destinations", json=new_destination("old-card", ["lab-oost"])
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert "id: destination 'old-card' was removed from cluster CARD" in elsewhere.text
    again = await clients.everything.post(
        "/api/v1/destinations", json=new_destination("old-card", ["lab-oost"], cluster="CARD")
    )
    assert again.status_code == 201, again.text


async def test_a_refused_change_names_the_body_s_keys_not_the_servers_file(
    engine: Engine, clients: Clients
) -> None:
    """The answer named where the engine keeps its files (``/srv/…/lab.yaml: port: …``) to any
    API caller, and then the file alone (``lab.yaml: port: …``), which the caller never named
    and the change left as it was: it names the keys of the body, and a key the body left as
    it was that one in it breaks as not in it. A ``reason`` put in the body is told where it
    goes."""
    refused = await clients.everything.patch(
        "/api/v1/destinations/lab", json={"port": "abc", "prot": 1, "reason": "moved"}
    )
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("port: "), detail
    assert "prot: unknown key" in detail and "reason: unknown key" in detail, detail
    assert detail.endswith("; a change's reason goes in the X-Integrator-Reason header"), detail
    assert "lab.yaml" not in detail and str(engine.settings.destinations_dir) not in detail
    broken = await clients.everything.patch("/api/v1/destinations/lab", json={"connections": 2})
    assert broken.status_code == 422, broken.text
    assert broken.json()["detail"].startswith("ordering (not in the body): must be rotate")
    # PUT: the whole definition is the body.
    shown = await clients.everything.get("/api/v1/destinations/lab")
    definition = {**shown.json()["definition"], "port": 70000}
    put = await clients.everything.put("/api/v1/destinations/lab", json=definition)
    assert put.status_code == 422, put.text
    assert put.json()["detail"].startswith("port: must be"), put.text
