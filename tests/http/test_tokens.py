"""API tokens through the HTTP API (docs/access.md): made, listed, used, revoked, per cluster."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import MAKER, add_lab_cluster, api_client, token_for
from tests.integrator.support import destination


def grant(role: str, cluster: str | None = None) -> dict[str, Any]:
    return {"role": role, "cluster": cluster}


async def test_a_token_is_shown_once_works_and_stops_when_revoked(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    made = await api.post(
        "/api/v1/tokens",
        json={
            "name": "prometheus",
            "grants": [grant("metrics")],
            "expires_in_days": 30,
            "reason": "monitoring",
        },
    )
    assert made.status_code == 201, made.text
    shown = made.json()
    token = shown["token"]
    assert token.startswith("itg_") and shown["prefix"] == token[:12]
    async with api_client(engine, token) as scraper:
        assert (await scraper.get("/metrics")).status_code == 200
        listed = (await api.get("/api/v1/tokens")).json()
        [row] = [t for t in listed if t["id"] == shown["id"]]
        assert row["status"] == "active" and row["grants"] == [grant("metrics")]
        assert token not in (await api.get("/api/v1/tokens")).text  # never shown again
        revoked = await api.delete(
            f"/api/v1/tokens/{shown['id']}", headers={"x-integrator-reason": "replaced"}
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"
        assert (await scraper.get("/metrics")).status_code == 401
    # Repeated (a client whose first request timed out): the same answer, audited once.
    again = await api.delete(f"/api/v1/tokens/{shown['id']}")
    assert again.status_code == 200, again.text
    assert again.json() == revoked.json()
    entries = await engine.store.list_audit(limit=1000)
    [create] = [a for a in entries if a.action == "token.create" and a.target == "token:prometheus"]
    [revoke] = [a for a in entries if a.action == "token.revoke"]
    assert (create.reason, revoke.reason) == ("monitoring", "replaced")
    assert create.details["source"] == revoke.details["source"] == "127.0.0.1"
    assert create.actor == revoke.actor and create.actor.startswith("token:test-")
    assert token not in repr(entries)


async def test_an_admin_of_one_cluster_makes_and_sees_tokens_of_that_cluster_only(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    await add_lab_cluster(engine)
    card = (
        await api.post("/api/v1/tokens", json={"name": "card", "grants": [grant("viewer", "CARD")]})
    ).json()
    lab_admin = await token_for(engine, Grant(Role.ADMIN, "LAB"), name="lab-admin")
    before = len(await engine.store.list_audit(limit=1000))
    async with api_client(engine, lab_admin) as lab:
        names = {t["name"] for t in (await lab.get("/api/v1/tokens")).json()}
        assert "card" not in names and "lab-admin" in names
        foreign = await lab.delete(f"/api/v1/tokens/{card['id']}")
        unknown = await lab.delete(f"/api/v1/tokens/{uuid.uuid4()}")
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json() == unknown.json() == {"detail": "no token with that id"}
        into_card = await lab.post(
            "/api/v1/tokens", json={"name": "x", "grants": [grant("viewer", "CARD")]}
        )
        assert into_card.status_code == 403, into_card.text
        everywhere = await lab.post(
            "/api/v1/tokens", json={"name": "y", "grants": [grant("intake")]}
        )
        assert everywhere.status_code == 403
        assert len(await engine.store.list_audit(limit=1000)) == before
        own = await lab.post(
            "/api/v1/tokens", json={"name": "lab", "grants": [grant("viewer", "LAB")]}
        )
        assert own.status_code == 201, own.text
    async with api_client(engine, card["token"]) as viewer:
        assert (await viewer.post("/api/v1/events", json={})).status_code == 403  # reads only


async def test_bad_token_input_is_refused_naming_the_field_and_creates_nothing(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    assert (
        await api.post("/api/v1/tokens", json={"name": "taken", "grants": [grant("metrics")]})
    ).status_code == 201
    before = await engine.store.list_tokens()
    for body, loc in (
        ({"name": "bad name", "grants": [grant("metrics")]}, ["body", "name"]),
        ({"name": "x" * 101, "grants": [grant("metrics")]}, ["body", "name"]),
        ({"name": "ok", "grants": []}, ["body", "grants"]),
        ({"name": "ok", "grants": [grant("root")]}, ["body", "grants", 0, "role"]),
        (
            {"name": "ok", "grants": [grant("metrics")], "expires_in_days": 731},
            ["body", "expires_in_days"],
        ),
        (
            {"name": "ok", "grants": [grant("metrics")], "expires_in_days": 0},
            ["body", "expires_in_days"],
        ),
        # a key the API declares nowhere is not named: it could be data sent as a key
        ({"name": "ok", "grants": [grant("metrics")], "nickname": "x"}, ["body", "…"]),
    ):
        answer = await api.post("/api/v1/tokens", json=body)
        assert answer.status_code == 422, body
        assert [e["loc"] for e in answer.json()["detail"]] == [loc], answer.text
        assert "input" not in answer.json()["detail"][0]
    taken = await api.post("/api/v1/tokens", json={"name": "taken", "grants": [grant("metrics")]})
    assert taken.status_code == 409
    # Said without the name sent: no error echoes what the caller sent.
    assert taken.json() == {
        "detail": "name: a token with this name exists already (a revoked token keeps its "
        "name); choose another name"
    }
    not_an_id = await api.delete("/api/v1/tokens/abcd")
    assert not_an_id.status_code == 404  # names no token: as an unknown id
    assert not_an_id.json() == {"detail": "no token with that id"}
    assert await engine.store.list_tokens() == before


async def test_the_openapi_document_shows_the_maxima_of_people_and_token_bodies(
    api: httpx.AsyncClient,
) -> None:
    schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
    invite = schemas["InviteBody"]
    assert invite["additionalProperties"] is False
    assert invite["properties"]["email"]["maxLength"] == 121  # the audit trail names it
    assert invite["properties"]["grants"]["maxItems"] == 100
    token = schemas["TokenBody"]["properties"]
    assert (token["expires_in_days"]["minimum"], token["expires_in_days"]["maximum"]) == (1, 730)
    assert token["name"]["maxLength"] == 100 and "pattern" in token["name"]
    assert schemas["GrantBody"]["properties"]["role"]["$ref"].endswith("/Role")


async def test_a_revocation_reason_longer_than_allowed_is_refused(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    made = (
        await api.post("/api/v1/tokens", json={"name": "long", "grants": [grant("metrics")]})
    ).json()
    answer = await api.delete(
        f"/api/v1/tokens/{made['id']}", headers={"x-integrator-reason": "x" * 1001}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["header", "X-Integrator-Reason"]
    [token] = [t for t in await engine.access.list_tokens(MAKER) if t.name == "long"]
    assert token.status == "active"


async def test_a_cluster_admin_learns_no_other_cluster_from_a_refused_grant(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """An unknown cluster and another admin's are refused alike (403, before the cluster is
    looked up), for tokens and for people; only an admin of all clusters is told the
    clusters there are."""
    await add_lab_cluster(engine)  # LAB beside the fixture's CARD
    lab_admin = await token_for(engine, Grant(Role.ADMIN, "LAB"), name="lab-admin")
    before = len(await engine.store.list_audit(limit=1000))
    async with api_client(engine, lab_admin) as lab:
        answers = {}
        for cluster in ("NOPE", "CARD"):
            token = await lab.post(
                "/api/v1/tokens", json={"name": "c5", "grants": [grant("viewer", cluster)]}
            )
            person = await lab.post(
                "/api/v1/people",
                json={"email": "bert@example.nl", "grants": [grant("viewer", cluster)]},
            )
            answers[cluster] = (token.status_code, person.status_code)
            for answer in (token, person):
                assert "CARD" not in answer.text.replace(cluster, ""), answer.text
                assert "clusters there are" not in answer.text, answer.text
        assert answers == {"NOPE": (403, 403), "CARD": (403, 403)}
    assert len(await engine.store.list_audit(limit=1000)) == before
    everywhere = await api.post(
        "/api/v1/tokens", json={"name": "c5", "grants": [grant("viewer", "NOPE")]}
    )
    assert everywhere.status_code == 422, everywhere.text
    assert "the clusters there are: CARD, LAB" in everywhere.text


async def test_a_cluster_admin_is_told_only_their_own_clusters(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Their cluster's last destination moved to another cluster, an admin of LAB who gives a
    grant for LAB is told that no destination is in it, and not which clusters others have
    (CARD). (One removed would keep LAB known: its messages lie there, docs/access.md.)"""
    await add_lab_cluster(engine)
    lab_admin = await token_for(engine, Grant(Role.ADMIN, "LAB"), name="lab-admin")
    moved = engine.settings.destinations_dir / "lab.yaml"
    moved.write_text(moved.read_text().replace("cluster: LAB", "cluster: CARD"))
    assert "LAB" not in {
        c.cluster for c in (await engine.reload_destinations()).destinations.values()
    }
    async with api_client(engine, lab_admin) as lab:
        answer = await lab.post(
            "/api/v1/tokens", json={"name": "c6", "grants": [grant("viewer", "LAB")]}
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "cluster: no destination is in cluster LAB, nor in any other cluster you administer"
    )


async def test_an_admin_of_all_clusters_is_told_when_no_destination_names_a_cluster(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """With no destination in any cluster there is no list to give: a sentence says so."""
    config = destination("noord", 2599, providers=["ziekenhuis-noord"], cluster=None)
    (engine.settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    catalog = await engine.reload_destinations()
    assert catalog.destinations["noord"].cluster is None, catalog.errors
    answer = await api.post(
        "/api/v1/tokens", json={"name": "c7", "grants": [grant("viewer", "LAB")]}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "cluster: no destination is in cluster LAB; no destination names a cluster yet"
    )
