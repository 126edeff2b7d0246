"""Access control on the HTTP API (docs/access.md): every route, tokens, roles and clusters.

The world: destination ``noord`` in cluster CARD and ``lab`` in cluster LAB, each with one
delivered referral of the same patient (so a BSN search finds one in each cluster). Tokens are
made in the engine's store as ``integrator tokens create`` makes them.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.access import AccessService, Grant, Permission, Role
from integrator.access.permissions import FOR_ALL_CLUSTERS_ONLY, MATRIX
from integrator.access.routes import EVERY_CLUSTER, ROUTE_PERMISSIONS
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.app import EngineApp, build_app
from integrator.http.auth import UNAUTHENTICATED, IdentityDep
from integrator.http.scope import ScopeDep
from integrator.presenters import iso_time
from integrator.stated_reason import stated
from integrator.store import AuditFilter
from tests.http.support import EVERY_ROLE, MAKER, bearer, finished, make_token, token_for
from tests.integrator.support import destination, settings_for

BSN = "999990019"  # the sample referral's patient
OPEN = {(method, path) for method in ("GET", "HEAD") for path in ("/healthz", "/readyz")}
UNKNOWN = str(uuid.uuid4())
REASON = "X-Integrator-Reason"


@dataclass
class World:
    engine: Engine
    app: EngineApp
    card_message: str
    card_event: str
    lab_message: str
    lab_event: str
    everything: str  # a token with every role for all clusters
    card_person: str  # the id of a person invited with a grant in CARD only
    card_token: str  # the id of a token with a grant in CARD only

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        sent = {**(bearer(token) if token else {}), **headers}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://api", headers=sent
        )

    async def token(self, *grants: Grant, name: str | None = None) -> str:
        return await token_for(self.engine, *grants, name=name)


def in_cluster(cluster: str, *roles: Role) -> list[Grant]:
    """``roles`` for ``cluster``; by default every role that may be given for one cluster."""
    every = tuple(role for role in Role if role not in FOR_ALL_CLUSTERS_ONLY)
    return [Grant(role, cluster) for role in (roles or every)]


async def submitted(engine: Engine, sample: dict[str, Any], provider: str) -> tuple[str, str]:
    data = copy.deepcopy(sample)
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = provider
    result = await engine.intake.submit(json.dumps(data), source="cli")
    assert await engine.wait_settled(timeout=10)
    [message] = result.messages
    return message.message_id, result.event_id


@pytest.fixture
async def world(tmp_path: Path, referral_data: dict[str, Any]) -> AsyncIterator[World]:
    async with MllpReceiver() as receiver:
        settings = settings_for(tmp_path)
        settings.destinations_dir.mkdir()
        for dest_id, cluster, provider in (
            ("noord", "CARD", "ziekenhuis-noord"),
            ("lab", "LAB", "lab-west"),
        ):
            config = destination(dest_id, receiver.port, providers=[provider], cluster=cluster)
            (settings.destinations_dir / f"{dest_id}.yaml").write_text(dump_destination(config))
        engine = Engine(settings)
        await engine.start()
        try:
            card_message, card_event = await submitted(engine, referral_data, "ziekenhuis-noord")
            lab_message, lab_event = await submitted(engine, referral_data, "lab-west")
            card_person = await engine.access.invite(
                MAKER, "carla@example.nl", [Grant(Role.VIEWER, "CARD")]
            )
            card_token = await engine.access.create_token(
                MAKER, "card-viewer", [Grant(Role.VIEWER, "CARD")]
            )
            yield World(
                engine,
                create_app(engine),
                card_message,
                card_event,
                lab_message,
                lab_event,
                await token_for(engine, name="everything"),
                card_person.person_id,
                card_token.id,
            )
        finally:
            await engine.stop()


def routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def filled(world: World, path: str, job_id: str = UNKNOWN) -> str:
    """The path with plausible ids of CARD's things in it."""
    values = {
        "message_id": world.card_message,
        "event_id": world.card_event,
        "destination_id": "noord",
        "job_id": job_id,
        "revision": "1",
        "person_id": world.card_person,
        "role": "viewer",
        "token_id": world.card_token,
        "rejected_id": UNKNOWN,  # rejected input lies in no cluster: every-cluster routes
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m[1]], path)


def unknown_path(path: str) -> str:
    """The path with ids nothing has."""
    fixed = {"revision": "1", "role": "viewer"}
    return re.sub(r"\{(\w+)\}", lambda m: fixed.get(m[1], UNKNOWN), path)


def lacking(permission: Permission) -> Role:
    """A role without ``permission``."""
    return next(role for role in Role if permission not in MATRIX[role])


# -- authentication --------------------------------------------------------------------------


async def test_every_route_refuses_a_request_without_a_valid_token_except_the_probes(
    world: World,
) -> None:
    revoked = await world.engine.access.create_token(MAKER, "revoked", list(EVERY_ROLE))
    await world.engine.access.revoke_token(MAKER, revoked.id)
    # Made by a clock two hours behind, valid for one: expired an hour ago.
    earlier = ManualClock(world.engine.clock.now() - timedelta(hours=2))
    expired = await AccessService(world.engine.store, earlier).create_token(
        MAKER, "expired", list(EVERY_ROLE), expires_in=timedelta(hours=1)
    )
    wrong = [
        {},
        bearer("itg_" + "x" * 43),  # the shape of a token, but no such token
        bearer("not-a-token"),
        bearer(revoked.token),
        bearer(expired.token),
        {"authorization": f"Basic {revoked.token}"},
        {"authorization": "Bearer"},
        {"x-integrator-actor": "admin"},  # a name is no identity
    ]
    served = routes(world.app.app)
    assert len(served) == len(ROUTE_PERMISSIONS) - 3  # all but the docs pages and document
    async with world.client() as anonymous:
        for method, path in served:
            url = filled(world, path)
            for headers in wrong:
                answer = await anonymous.request(method, url, headers=headers)
                if (method, path) in OPEN:
                    assert answer.status_code == 200, (method, path)
                    continue
                # One answer for every kind of wrong: it never tells which.
                assert answer.status_code == 401, (method, path, headers, answer.text)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json() == {"detail": UNAUTHENTICATED}
    # Nothing was done on the way: no resend, no change, no test message, no view. (The engine's
    # start audited the destination files it found, with actor ``file``.)
    entries = await world.engine.store.list_audit(limit=1000)
    assert {a.action for a in entries} == {
        "person.invite",
        "token.create",
        "token.revoke",
        "destination.file",
    }
    assert {a.actor for a in entries if a.action == "destination.file"} == {"file"}
    assert (world.engine.settings.destinations_dir / "noord.yaml").exists()


async def test_a_token_without_the_role_gets_403_on_every_route(world: World) -> None:
    tokens = {role: await world.token(Grant(role), name=f"only-{role.value}") for role in Role}
    for method, path in routes(world.app.app):
        permission = ROUTE_PERMISSIONS[(method, path)]
        if not isinstance(permission, Permission):
            continue
        role = lacking(permission)
        async with world.client(tokens[role]) as client:
            answer = await client.request(method, filled(world, path))
        assert answer.status_code == 403, (method, path, role, answer.text)
        assert permission.value in answer.json()["detail"]
    assert (world.engine.settings.destinations_dir / "noord.yaml").exists()


async def test_who_asks_is_checked_before_a_malformed_body_is_read_on_every_route(
    world: World,
) -> None:
    """FastAPI reads a typed model's body before the app's dependency: without a token, a
    malformed body was a 422 on those routes, telling a stranger what the route takes."""
    tokens = {role: await world.token(Grant(role), name=f"body-{role.value}") for role in Role}
    malformed = {"content-type": "application/json"}
    with_body = [(m, p) for m, p in routes(world.app.app) if m in ("POST", "PUT", "PATCH")]
    assert len(with_body) > 10
    async with world.client() as anonymous:
        for method, path in with_body:
            url = filled(world, path)
            answer = await anonymous.request(method, url, content=b"{not json", headers=malformed)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json() == {"detail": UNAUTHENTICATED}
            permission = ROUTE_PERMISSIONS[(method, path)]
            assert isinstance(permission, Permission)
            token = tokens[lacking(permission)]
            answer = await anonymous.request(
                method, url, content=b"{not json", headers={**malformed, **bearer(token)}
            )
            assert answer.status_code == 403, (method, path, answer.text)
    async with world.client(world.everything) as client:  # and with the right token: a 422
        answer = await client.post(
            f"/api/v1/messages/{world.card_message}/resend", content=b"{not", headers=malformed
        )
        assert answer.status_code == 422, answer.text


async def test_routes_about_every_cluster_need_the_permission_for_all_clusters(
    world: World,
) -> None:
    lab_only = await world.token(*in_cluster("LAB"))
    for method, path in sorted(EVERY_CLUSTER):
        async with world.client(lab_only) as client:
            answer = await client.request(method, filled(world, path), json={})
        assert answer.status_code == 403, (method, path)
        assert "for all clusters" in answer.json()["detail"]
    async with world.client(await world.token(Grant(Role.METRICS))) as scraper:
        metrics = await scraper.get("/metrics")
        assert metrics.status_code == 200 and "integrator_" in metrics.text
        assert (await scraper.get("/api/v1/messages")).status_code == 403


async def test_a_route_missing_from_the_table_is_refused_even_with_every_role(
    world: World,
) -> None:
    # On an application of its own: the process's shared one must not gain a route.
    world.app = EngineApp(build_app(), world.engine)

    @world.app.app.get("/api/v1/undeclared")
    async def undeclared() -> list[str]:
        return ["leak"]

    async with world.client(world.everything) as client:
        answer = await client.get("/api/v1/undeclared")
    assert answer.status_code == 403 and "leak" not in answer.text


async def test_a_route_asking_who_calls_checks_the_token_itself_in_an_app_without_the_rule(
    world: World,
) -> None:
    # ``authorize`` is the app's dependency; a route taking ``IdentityDep`` or ``ScopeDep``
    # runs it too where it has not run, so it refuses alike in an app without that rule.
    bare = FastAPI()

    @bare.get("/api/v1/messages")
    async def scoped(scope: ScopeDep) -> list[str]:
        return [scope.actor, scope.permission.value]

    @bare.post("/api/v1/events")
    async def who(identity: IdentityDep) -> str:
        return identity.display

    world.app = EngineApp(bare, world.engine)
    viewer = await world.token(Grant(Role.VIEWER), name="viewer")
    async with world.client() as client:
        assert (await client.get("/api/v1/messages")).status_code == 401
        assert (await client.post("/api/v1/events")).status_code == 401
    async with world.client(viewer) as client:
        assert (await client.get("/api/v1/messages")).json() == ["token:viewer", "messages.read"]
        refused = await client.post("/api/v1/events")
        assert refused.status_code == 403 and "events.submit" in refused.json()["detail"]


async def test_a_request_authenticates_its_token_once_whatever_its_route_asks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    authenticate = world.engine.access.authenticate_token

    async def counted(token: str) -> Any:
        reads.append(token)
        return await authenticate(token)

    monkeypatch.setattr(world.engine.access, "authenticate_token", counted)
    async with world.client(world.everything) as client:
        # the identity (the audit's actor) and the scope: both after the app's authorize
        answer = await client.get(f"/api/v1/messages/{world.card_message}")
        assert answer.status_code == 200
        assert (await client.get("/api/v1/tokens")).status_code == 200
        # a body read for a typed model: checked before it is read, and not again after
        answer = await client.post(
            f"/api/v1/messages/{world.card_message}/resend", json={"reason": "GP called"}
        )
        assert answer.status_code == 201, answer.text
    assert reads == [world.everything] * 3


async def test_the_openapi_document_says_which_token_each_route_needs(world: World) -> None:
    document = world.app.app.openapi()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path in routes(world.app.app):
        operation = document["paths"][path][method.lower()]
        permission = ROUTE_PERMISSIONS[(method, path)]
        if not isinstance(permission, Permission):
            assert "security" not in operation
        else:
            assert operation["security"] == [{"bearer": []}]
            assert f"`{permission.value}`" in operation["description"]


# -- clusters ---------------------------------------------------------------------------------


async def test_outside_its_clusters_a_token_sees_nothing_and_each_thing_is_unknown(
    world: World,
) -> None:
    engine = world.engine
    await engine.store.set_status(world.card_message, "dead", last_error="gone")
    await engine.store.set_status(world.lab_message, "dead", last_error="gone")
    async with world.client(world.everything) as admin:
        started = await admin.post(
            "/api/v1/resend", json={"reason": "card job", "message_ids": [world.card_message]}
        )
        assert started.status_code == 202, started.text
        card_job = started.json()["id"]
        # Done, not only settled: a job begun late wrote its ``message.resend`` entry among
        # those counted below as the refused requests' (a loaded run).
        await finished(admin, started)
        assert await engine.wait_settled(timeout=10)
        assert (await admin.get(f"/api/v1/jobs/{card_job}")).status_code == 200

    lab_only = await world.token(*in_cluster("LAB"), name="lab-support")
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/messages/{message_id}/resend"): {"reason": "x"},
        ("POST", "/api/v1/deadletters/{message_id}/discard"): {"reason": "x"},
        ("PUT", "/api/v1/destinations/{destination_id}"): {"id": "noord"},
        ("PATCH", "/api/v1/destinations/{destination_id}"): {"port": 1},
    }
    audit_before = len(await engine.store.list_audit(limit=1000))
    async with world.client(lab_only) as lab:
        # Each route about one of CARD's things answers as for an unknown id.
        for method, path in routes(world.app.app):
            if "{" not in path or (method, path) in EVERY_CLUSTER:
                continue  # an every-cluster route is about nothing of CARD's (403, tested above)
            body = bodies.get((method, path))
            foreign = await lab.request(
                method, filled(world, path, card_job), json=body if body else None
            )
            unknown = await lab.request(method, unknown_path(path), json=body if body else None)
            assert foreign.status_code == unknown.status_code == 404, (method, path)
            assert foreign.json()["detail"].replace("noord", UNKNOWN) == unknown.json()["detail"]

        # Listings leave CARD's destinations and messages out.
        messages = (await lab.get("/api/v1/messages")).json()
        assert [m["id"] for m in messages] == [world.lab_message]
        found = (await lab.post("/api/v1/messages/search", json={"bsn": BSN})).json()
        assert [m["id"] for m in found] == [world.lab_message]
        # CARD's destination is answered as one that does not exist: refused alike, naming
        # only the destinations the token can see.
        for listing in ("/api/v1/messages", "/api/v1/deadletters"):
            foreign = await lab.get(listing, params={"destination": "noord"})
            unknown = await lab.get(listing, params={"destination": "nosuch"})
            assert foreign.status_code == unknown.status_code == 422, (listing, foreign.text)
            assert foreign.json() == unknown.json() and "noord" not in foreign.text
        events = (await lab.get("/api/v1/events")).json()
        assert [e["id"] for e in events] == [world.lab_event]
        by_bsn = (await lab.post("/api/v1/events/search", json={"bsn": BSN})).json()
        assert [e["id"] for e in by_bsn] == [world.lab_event]
        letters = (await lab.get("/api/v1/deadletters", params={"all": "true"})).json()
        assert [d["id"] for d in letters] == [world.lab_message]
        assert [d["id"] for d in (await lab.get("/api/v1/destinations")).json()] == ["lab"]
        users = {v["name"]: v["destinations"] for v in (await lab.get("/api/v1/versions")).json()}
        assert users["ref-v2"] == ["lab"]
        # Its own cluster's things are there.
        assert (await lab.get(f"/api/v1/messages/{world.lab_message}")).status_code == 200
        assert (await lab.get(f"/api/v1/events/{world.lab_event}")).status_code == 200
        assert (await lab.get("/api/v1/destinations/lab")).status_code == 200

    async with world.client(world.everything) as admin:
        letters = (await admin.get("/api/v1/deadletters", params={"all": "true"})).json()
        assert {d["id"] for d in letters} == {world.card_message, world.lab_message}
        listed = {d["id"] for d in (await admin.get("/api/v1/destinations")).json()}
        assert listed == {"noord", "lab"}
    # The refused requests changed nothing and recorded no view: only the LAB views did.
    after = await engine.store.list_audit(limit=1000)
    new = after[: len(after) - audit_before]
    assert {a.action for a in new} == {"patient_data.view"}
    assert all(a.target != world.card_message and a.target != world.card_event for a in new)
    assert (engine.settings.destinations_dir / "noord.yaml").exists()
    assert engine.catalog.destinations["noord"].port != 1


async def test_a_reports_token_exports_its_clusters_messages_and_events_as_csv_audited_first(
    world: World,
) -> None:
    reports_lab = await world.token(Grant(Role.REPORTS, "LAB"), name="lab-reports")
    async with world.client(reports_lab) as lab:
        done = await lab.get("/api/v1/messages.csv", params={"status": "delivered"})
        assert done.status_code == 200, done.text
        assert done.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(done.text)))
        assert [r["message_id"] for r in rows] == [world.lab_message]  # CARD's left out
        assert BSN not in done.text
        # Times in the engine's zone, in full: the same file the CLI and the console export.
        message = await world.engine.store.get_message(world.lab_message)
        assert message is not None
        assert rows[0]["created_at"] == iso_time(message.created_at, world.engine.settings.zone)
        assert not rows[0]["created_at"].endswith("+00:00")
        refused = await lab.get("/api/v1/messages.csv", params={"bsn": BSN})
        assert refused.status_code == 422 and BSN not in refused.text
        bad = await lab.get("/api/v1/messages.csv", params={"since": "yesterday"})
        assert bad.status_code == 422 and "since" in bad.text
        # CARD's destination is refused as one that does not exist, before any export.
        foreign = await lab.get("/api/v1/messages.csv", params={"destination": "noord"})
        unknown = await lab.get("/api/v1/messages.csv", params={"destination": "nosuch"})
        assert foreign.status_code == unknown.status_code == 422, foreign.text
        assert foreign.json() == unknown.json() and "noord" not in foreign.text
    [entry] = await world.engine.store.list_audit(AuditFilter(action="messages.export"))
    assert (entry.actor, entry.target) == ("token:lab-reports", "messages.csv")
    assert entry.details["terms"] == {"status": "delivered"}
    assert entry.details["rows"] == 1 and entry.details["source"]
    async with world.client(reports_lab) as lab:
        events = await lab.get("/api/v1/events.csv")
        assert events.status_code == 200, events.text
        rows = list(csv.DictReader(io.StringIO(events.text)))
        assert [r["event_id"] for r in rows] == [world.lab_event]  # CARD's left out
        assert events.headers["X-Total-Count"] == "1"  # counted within LAB too
        assert rows[0]["messages"] == "1" and BSN not in events.text
        event = await world.engine.store.get_event(world.lab_event)
        assert event is not None
        assert rows[0]["received_at"] == iso_time(event.received_at, world.engine.settings.zone)
        refused = await lab.get("/api/v1/events.csv", params={"bsn": BSN})
        assert refused.status_code == 422 and BSN not in refused.text
    [exported] = await world.engine.store.list_audit(AuditFilter(action="events.export"))
    assert (exported.actor, exported.target) == ("token:lab-reports", "events.csv")
    assert exported.details["rows"] == 1 and exported.details["source"]
    viewer = await world.token(Grant(Role.VIEWER), name="viewer")
    async with world.client(viewer) as reader:
        assert (await reader.get("/api/v1/messages.csv")).status_code == 403
        assert (await reader.get("/api/v1/events.csv")).status_code == 403


async def test_a_resend_token_discards_a_dead_letter_of_its_clusters_with_a_reason(
    world: World,
) -> None:
    engine = world.engine
    await engine.store.set_status(world.card_message, "dead", last_error="gone")
    await engine.store.set_status(world.lab_message, "dead", last_error="gone")
    lab_support = await world.token(*in_cluster("LAB", Role.RESEND), name="lab-discard")
    async with world.client(lab_support) as lab:
        path = f"/api/v1/deadletters/{world.lab_message}/discard"
        blank = await lab.post(path, json={"reason": "  "})
        assert blank.status_code == 422 and "reason" in blank.text
        foreign = await lab.post(
            f"/api/v1/deadletters/{world.card_message}/discard", json={"reason": "fax"}
        )
        assert foreign.status_code == 404
        done = await lab.post(path, json={"reason": "sent by fax"})
        assert done.status_code == 200, done.text
        assert done.json() == {
            "message_id": world.lab_message,
            "status": "cancelled",
            "dry_run": False,
            "discarded": [world.lab_message],
            "resend_chain": [],
            "stays_open": [],
        }
        again = await lab.post(path, json={"reason": "sent by fax"})
        assert again.status_code == 409, again.text  # done already: nothing changed
        assert again.json()["detail"].startswith(
            f"dead letter {world.lab_message} was already resolved: discarded by "
            "token:lab-discard at "
        )
    assert (await engine.store.get_message(world.lab_message)).status == "cancelled"  # type: ignore[union-attr]
    assert (await engine.store.get_message(world.card_message)).status == "dead"  # type: ignore[union-attr]
    [entry] = await engine.store.list_audit(AuditFilter(action="deadletter.discard"))
    assert (entry.actor, entry.target, entry.reason) == (
        "token:lab-discard",
        world.lab_message,
        "sent by fax",
    )
    assert entry.details["source"]


async def test_resend_stays_within_the_clusters_also_with_to(world: World) -> None:
    engine = world.engine
    lab_support = await world.token(*in_cluster("LAB", Role.RESEND), name="lab-resend")
    async with world.client(lab_support) as lab:
        own = await lab.post(f"/api/v1/messages/{world.lab_message}/resend", json={"reason": "r"})
        assert own.status_code == 201, own.text
        foreign = await lab.post(
            f"/api/v1/messages/{world.card_message}/resend", json={"reason": "r"}
        )
        assert foreign.status_code == 404
        assert foreign.json() == {"detail": "no message with that id"}
        # To a destination in another cluster: as if it were not configured.
        for url, body in (
            (f"/api/v1/messages/{world.lab_message}/resend", {"reason": "r"}),
            ("/api/v1/resend", {"reason": "r", "message_ids": [world.lab_message]}),
            (
                "/api/v1/resend",
                {"reason": "r", "message_ids": [world.lab_message], "dry_run": True},
            ),
        ):
            to_card = await lab.post(url, json={**body, "to": "noord", "mode": "remap"})
            to_nowhere = await lab.post(url, json={**body, "to": "nowhere", "mode": "remap"})
            assert to_card.status_code == to_nowhere.status_code == 422, to_card.text
            # The same answer, naming the field and the rule, not the destination sent.
            assert to_card.json() == to_nowhere.json()
            assert to_card.json()["detail"] == "to: no configured destination has this id"
        named = await lab.post(
            "/api/v1/resend", json={"reason": "r", "message_ids": [world.card_message]}
        )
        assert named.status_code == 404
        assert named.json() == {"detail": "message_ids: no message has one of these ids"}
        # A filter finds only LAB's messages: CARD's one is not even considered.
        broad = await lab.post(
            "/api/v1/resend",
            json={"reason": "r", "filter": {"zd_number": "ZD100000001"}, "dry_run": True},
        )
        assert [r["original_id"] for r in broad.json()["results"]] == [world.lab_message]
    assert await engine.wait_settled(timeout=10)
    _, card_resends = await engine.store.list_resends(world.card_message)
    _, lab_resends = await engine.store.list_resends(world.lab_message)
    assert card_resends == [] and len(lab_resends) == 1

    # With the role in CARD too, the resend to noord goes.
    both = await world.token(
        *in_cluster("LAB", Role.RESEND), *in_cluster("CARD", Role.RESEND), name="both"
    )
    async with world.client(both) as support:
        moved = await support.post(
            f"/api/v1/messages/{world.lab_message}/resend",
            json={"reason": "moved", "to": "noord", "mode": "remap"},
        )
        assert moved.status_code == 201, moved.text
        assert moved.json()["destination"] == "noord"


async def test_destinations_change_only_within_the_clusters(world: World) -> None:
    engine = world.engine
    files = engine.settings.destinations_dir
    operator = await world.token(
        Grant(Role.DESTINATIONS, "LAB"), Grant(Role.VIEWER, "CARD"), name="lab-ops"
    )
    async with world.client(world.everything) as admin:
        shown = (await admin.get("/api/v1/destinations/lab")).json()["definition"]
    async with world.client(operator) as ops:
        # Seen (viewer in CARD) but not to be changed there: 403, not 404.
        assert (await ops.get("/api/v1/destinations/noord")).status_code == 200
        paused = await ops.post("/api/v1/destinations/noord/pause")
        assert paused.status_code == 403 and "CARD" in paused.json()["detail"]
        # Moving its own destination into a cluster it has no say in: 403, nothing written.
        before = (files / "lab.yaml").read_text()
        moved = await ops.patch("/api/v1/destinations/lab", json={"cluster": "CARD"})
        assert moved.status_code == 403 and "cluster CARD" in moved.json()["detail"]
        replaced = await ops.put("/api/v1/destinations/lab", json={**shown, "cluster": None})
        assert replaced.status_code == 403
        assert (files / "lab.yaml").read_text() == before
        assert engine.catalog.destinations["lab"].cluster == "LAB"
        # Adding: only into its own cluster.
        new = yaml.safe_load(dump_destination(destination("west", 2599, providers=["west"])))
        refused = await ops.post("/api/v1/destinations", json={**new, "cluster": "CARD"})
        assert refused.status_code == 403 and not (files / "west.yaml").exists()
        added = await ops.post("/api/v1/destinations", json={**new, "cluster": "LAB"})
        assert added.status_code == 201, added.text
        changed = await ops.patch("/api/v1/destinations/lab", json={"port": 2598})
        assert changed.status_code == 200, changed.text
    assert engine.catalog.destinations["lab"].port == 2598
    history = await engine.store.list_destination_revisions("west")
    assert [r.actor for r in history] == ["token:lab-ops"]


# -- the audit trail ---------------------------------------------------------------------------


async def test_the_audit_records_the_token_whatever_the_actor_header_says(world: World) -> None:
    engine = world.engine
    support = await world.token(Grant(Role.RESEND), Grant(Role.DESTINATIONS), name="helpdesk")
    async with world.client(support, **{"x-integrator-actor": "mallory"}) as client:
        resent = await client.post(
            f"/api/v1/messages/{world.card_message}/resend", json={"reason": "GP called"}
        )
        assert resent.status_code == 201, resent.text
        paused = await client.post(
            "/api/v1/destinations/lab/pause", headers={"x-integrator-reason": "maintenance"}
        )
        assert paused.status_code == 200, paused.text
    _, [resend] = await engine.store.list_resends(world.card_message)
    assert resend.actor == "token:helpdesk"
    [resent_entry] = [
        a for a in await engine.store.list_audit(limit=1000) if a.action == "message.resend"
    ]
    assert resent_entry.details["source"] == "127.0.0.1"
    entries = await engine.store.list_audit(limit=1000)
    # Made by the test's setup, and by the engine's start (the destination files it found).
    made_by_tests = {"token.create", "person.invite", "destination.file"}
    assert {a.actor for a in entries if a.action not in made_by_tests} == {"token:helpdesk"}
    [pause] = [a for a in entries if a.action == "destination.pause"]
    assert (pause.target, pause.reason) == ("lab", "maintenance")
    assert pause.details["source"] == "127.0.0.1"  # from where, as the server saw it
    assert "mallory" not in repr(entries)


async def test_every_view_of_patient_data_is_audited_with_the_bsn_hash_never_the_bsn(
    world: World,
) -> None:
    engine = world.engine
    hashed = engine.settings.bsn_hash(BSN)
    support = await world.token(Grant(Role.RESEND), name="support")
    async with world.client(support) as client:
        for answer in (
            await client.get(f"/api/v1/messages/{world.card_message}"),
            await client.get(f"/api/v1/events/{world.card_event}"),
            await client.post("/api/v1/messages/search", json={"bsn": BSN}),
            await client.post("/api/v1/events/search", json={"bsn": BSN}),
            # A resend's dry run by BSN lists the patient's ZD numbers and destinations.
            await client.post(
                "/api/v1/resend",
                json={"reason": "check", "filter": {"bsn": BSN}, "dry_run": True},
            ),
            # Not views of a patient: a search without BSN, summaries, an unknown id.
            await client.post("/api/v1/messages/search", json={"zd_number": "ZD100000001"}),
            await client.get("/api/v1/messages"),
        ):
            assert answer.status_code == 200, answer.text
        assert (await client.get(f"/api/v1/messages/{UNKNOWN}")).status_code == 404
    async with world.client(world.everything) as auditor:
        trail = await auditor.get("/api/v1/audit", params={"limit": 1000})
    views = [a for a in trail.json() if a["action"] == "patient_data.view"]
    assert [(v["actor"], v["target"], v["details"]["view"]) for v in reversed(views)] == [
        ("token:support", world.card_message, "message"),
        ("token:support", world.card_event, "event"),
        ("token:support", "messages.search", "messages.search"),
        ("token:support", "events.search", "events.search"),
        ("token:support", "messages.search", "messages.search"),
    ]
    assert all(v["details"]["bsn_hash"] == hashed for v in views)
    assert [v["details"].get("found") for v in reversed(views)] == [None, None, 2, 2, 2]
    # Why: none was stated, but the resend's selection was made for the resend's reason.
    assert [v["reason"] for v in reversed(views)] == [None, None, None, None, "check"]
    # From where: the client's address as the server saw it.
    assert {v["details"]["source"] for v in views} == {"127.0.0.1"}
    assert BSN not in trail.text and "Berg" not in trail.text


async def test_the_why_of_a_view_or_an_export_is_the_reason_header_of_its_request(
    world: World, referral_data: dict[str, Any]
) -> None:
    """docs/product.md §8: every view of patient data and every export says why. The API
    takes it in the header a change gives its reason in; a request without one records none,
    whatever the request before it said; one that breaks a reason's rules is refused before
    anything is read, and an event submission never reads it."""
    why = "huisarts belde over de verwijzing: één vraag"
    support = await world.token(Grant(Role.RESEND), Grant(Role.REPORTS), name="support")
    async with world.client(support) as client:
        said = {REASON.encode(): why.encode()}
        # In the caller's own task (as this client calls the app), the reason ends with its
        # request: nothing the caller does next is explained by it.
        await client.get(f"/api/v1/messages/{UNKNOWN}", headers=said)
        assert stated() is None
        for answer in (
            await client.get(f"/api/v1/messages/{world.card_message}", headers=said),
            await client.get(f"/api/v1/events/{world.card_event}"),  # none: none recorded
            await client.post("/api/v1/messages/search", json={"bsn": BSN}, headers=said),
            await client.get("/api/v1/messages.csv", headers={REASON: "maandrapport"}),
        ):
            assert answer.status_code == 200, answer.text
        # Refused at the door, naming the header and the rule; nothing read, nothing recorded.
        bsn = await client.get(
            f"/api/v1/messages/{world.card_message}",
            headers={REASON.encode(): f"patiënt {BSN}".encode()},
        )
        long = await client.get(f"/api/v1/events/{world.card_event}", headers={REASON: "x" * 1001})
        twice = await client.get(
            f"/api/v1/messages/{world.card_message}",
            headers=[(REASON, "een"), (REASON, "twee")],
        )
        blank = await client.get(
            f"/api/v1/events/{world.card_event}", headers={REASON: "   "}
        )  # says nothing: recorded as none
        assert blank.status_code == 200, blank.text
    for refused in (bsn, long, twice):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["header", REASON], refused.text
        assert BSN not in refused.text and "Berg" not in refused.text
    assert "looks like a BSN" in bsn.text and "1000 characters" in long.text
    trail = await world.engine.store.list_audit(limit=1000)
    views = [(a.action, a.target, a.reason) for a in reversed(trail) if a.actor == "token:support"]
    assert views == [
        ("patient_data.view", world.card_message, why),
        ("patient_data.view", world.card_event, None),
        ("patient_data.view", "messages.search", why),
        ("messages.export", "messages.csv", "maandrapport"),
        ("patient_data.view", world.card_event, None),
    ]
    # A resend's reason that writes out a BSN is refused, and is not the why of its view.
    async with world.client(support) as client:
        resend = await client.post(
            "/api/v1/resend",
            json={"reason": f"patient {BSN}", "filter": {"bsn": BSN}, "dry_run": True},
        )
    assert resend.status_code == 422, resend.text
    trail = await world.engine.store.list_audit(limit=1000)
    assert BSN not in repr(trail)
    # An upstream system's header never costs an event.
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    intake = await world.token(Grant(Role.INTAKE))
    async with world.client(intake) as upstream:
        sent = await upstream.post("/api/v1/events", json=event, headers={REASON: BSN})
        assert sent.status_code == 202, sent.text
        event["event_id"] = str(uuid.uuid4())  # a proxy that adds the header again
        sent = await upstream.post(
            "/api/v1/events", json=event, headers=[(REASON, "een"), (REASON, "twee")]
        )
        assert sent.status_code == 202, sent.text


# -- what a body may be -----------------------------------------------------------------------


async def test_a_body_that_is_not_declared_json_is_refused_with_415(
    world: World, referral_data: dict[str, Any]
) -> None:
    engine = world.engine
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    raw = json.dumps(event)
    intake = await world.token(Grant(Role.INTAKE))
    async with world.client(intake) as upstream:
        # What a web page can make a browser send anywhere without asking first.
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"content-type": content_type} if content_type else {}
            answer = await upstream.post("/api/v1/events", content=raw, headers=headers)
            assert answer.status_code == 415, content_type
        assert await engine.store.get_event(event["event_id"]) is None
        accepted = await upstream.post(
            "/api/v1/events", content=raw, headers={"content-type": "application/json"}
        )
        assert accepted.status_code == 202, accepted.text
    async with world.client(world.everything) as client:
        for method, url in (
            ("POST", "/api/v1/messages/search"),
            ("POST", "/api/v1/resend"),
            ("POST", "/api/v1/destinations"),
            ("PATCH", "/api/v1/destinations/lab"),
        ):
            answer = await client.request(
                method, url, content=b'{"bsn": "999990019"}', headers={"content-type": "text/plain"}
            )
            assert answer.status_code == 415, url
            assert BSN not in answer.text
    async with world.client() as anonymous:  # who is asking comes first
        answer = await anonymous.post(
            "/api/v1/events", content=raw, headers={"content-type": "text/plain"}
        )
        assert answer.status_code == 401


async def test_a_token_made_by_another_service_works_with_the_engine(world: World) -> None:
    # The CLI makes tokens with its own AccessService on the same store.
    token = await make_token(AccessService(world.engine.store, world.engine.clock))
    async with world.client(token) as client:
        assert (await client.get("/api/v1/messages")).status_code == 200
