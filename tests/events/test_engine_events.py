"""Unrouted events with a running engine: the API, routing into delivery, the metric."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hl7
import httpx
import pytest
from structlog.testing import capture_logs

import integrator.engine
import integrator.events_routing
from destinations.config import DestinationConfig
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.events_routing import (
    RouteRequest,
    UnroutedGauge,
    route_in_engine,
    select_events,
)
from integrator.http import create_app
from integrator.metrics import Metrics
from integrator.preparing import UNROUTED
from integrator.store.records import ROUTE_ACTION
from tests.http.support import bearer, finished, token_for
from tests.integrator.support import RecordingTransport, destination, settings_for

BSN = "999990019"  # the sample referral's patient
BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 retires on 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)


async def start_engine(
    tmp_path: Path, *configs: DestinationConfig, clock: ManualClock | None = None
) -> Engine:
    engine = Engine(settings_for(tmp_path), catalog=catalog(*configs, clock=clock), clock=clock)
    await engine.start()
    return engine


def catalog(*configs: DestinationConfig, clock: ManualClock | None = None) -> Any:
    today = (clock.now() if clock else datetime.now(UTC)).date()
    return build_catalog(
        ((f"{c.id}.yaml", c) for c in configs), today=today, in_service={c.id for c in configs}
    )


def event(data: dict[str, Any], **changes: Any) -> str:
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    for key, value in changes.items():
        if key == "provider":
            copied["provider"]["id"] = value
        else:
            copied[key] = value
    return json.dumps(copied)


async def submit(engine: Engine, raw: str) -> str:
    result = await engine.intake.submit(raw, source="http")
    return result.event_id


@pytest.fixture
async def client_for() -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    async def make(engine: Engine, name: str | None = None) -> httpx.AsyncClient:
        """A client with a token (named ``name``) holding every role for all clusters."""
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(engine)),
            base_url="http://engine",
            headers=bearer(await token_for(engine, name=name)),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def msh(payload: bytes, field: int) -> str:
    return str(hl7.parse(payload.decode("utf-8")).segment("MSH")[field])


async def test_an_unrouted_event_is_routed_through_the_api_once_a_destination_serves_it(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any], client_for: Any
) -> None:
    engine = await start_engine(tmp_path)  # no destination serves ziekenhuis-noord yet
    client = await client_for(engine, "anna")
    try:
        result = await engine.intake.submit(event(referral_data), source="http")
        assert result.messages == ()
        assert [w for w in result.warnings if "unrouted" in w] == [UNROUTED]  # no id quoted
        await engine.unrouted.refresh()
        metrics = (await client.get("/metrics")).text
        # No destination names the provider yet: its id is upstream's, not a label.
        assert 'integrator_unrouted_events{provider="other"} 1.0' in metrics

        listed = (await client.get("/api/v1/events", params={"unrouted": "true"})).json()
        assert [(e["id"], e["messages"], e["unrouted"]) for e in listed] == [
            (result.event_id, 0, True)
        ]
        await engine.apply_catalog(
            catalog(destination("noord", receiver.port, providers=["ziekenhuis-noord"]))
        )
        await engine.unrouted.refresh()
        metrics = (await client.get("/metrics")).text
        assert 'integrator_unrouted_events{provider="ziekenhuis-noord"} 1.0' in metrics

        body = {"provider": "ziekenhuis-noord", "reason": "noord connected"}
        dry = await client.post("/api/v1/events/route", json={**body, "dry_run": True})
        assert dry.status_code == 200, dry.text
        [would] = dry.json()["routed"]
        assert [m["destination"] for m in would["messages"]] == ["noord"]
        assert await engine.store.count_unrouted_events() == {"ziekenhuis-noord": 1}

        job = await finished(
            client,
            await client.post("/api/v1/events/route", json=body),
        )
        [routed] = job["results"]
        assert routed["routed"] and routed["event_id"] == result.event_id
        [message] = routed["messages"]
        assert await engine.wait_settled(timeout=10)
        [got] = receiver.received
        assert msh(got, 9) == "REF^I12^REF_I12" and msh(got, 10) == message["control_id"]
        stored = await engine.store.get_message(message["message_id"])
        assert stored is not None and stored.status == "delivered"

        [entry] = await engine.store.list_audit(target=result.event_id)
        assert (entry.action, entry.actor, entry.reason) == (
            ROUTE_ACTION,
            "token:anna",
            body["reason"],
        )
        assert entry.details["route_id"] == job["id"]
        assert entry.details["source"] == "127.0.0.1"  # from where, as the server saw it
        metrics = (await client.get("/metrics")).text
        assert 'integrator_unrouted_events{provider="ziekenhuis-noord"}' not in metrics

        detail = (await client.get(f"/api/v1/events/{result.event_id}")).json()
        assert detail["unrouted"] is False and detail["patient_bsn"] == BSN
        assert [m["id"] for m in detail["messages"]] == [message["message_id"]]
        assert [r["actor"] for r in detail["routings"]] == ["token:anna"]

        again = await finished(
            client,
            await client.post(
                "/api/v1/events/route", json={"event_ids": [result.event_id], "reason": "again"}
            ),
        )
        [skipped] = again["results"]
        assert not skipped["routed"]
        assert skipped["note"] == "already has a message for noord; not sent again"
        # No second routing entry; the one other entry is the view of the event above.
        assert [a.action for a in await engine.store.list_audit(target=result.event_id)] == [
            "patient_data.view",
            ROUTE_ACTION,
        ]
        assert await engine.wait_settled(timeout=10)
        assert len(receiver.received) == 1
    finally:
        await engine.stop()


def without_ids(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A routing's results without what each run makes new: message ids and MSH-10s."""
    out = copy.deepcopy(results)
    for result in out:
        for message in result["messages"]:
            del message["message_id"], message["control_id"]
    return out


async def test_a_dry_run_reports_exactly_what_the_real_run_does(
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
    client_for: Any,
) -> None:
    async with MllpReceiver() as noord, MllpReceiver() as zuid:
        engine = await start_engine(
            tmp_path, destination("zuid", zuid.port, providers=["ziekenhuis-zuid"])
        )
        client = await client_for(engine)
        try:
            unrouted = await submit(engine, event(referral_data))
            unserved = await submit(engine, event(diagnostic_request_data))  # lab-west
            routed = await submit(engine, event(referral_data, provider="ziekenhuis-zuid"))
            lab = await submit(engine, event(diagnostic_request_data, provider="ziekenhuis-noord"))
            await engine.apply_catalog(
                catalog(
                    destination(
                        "zuid", zuid.port, providers=["ziekenhuis-zuid", "ziekenhuis-noord"]
                    ),
                    destination(
                        "noord",
                        noord.port,
                        providers=["ziekenhuis-noord"],
                        messages={"referral": "ref-v2"},
                    ),
                )
            )
            body = {"event_ids": [lab, routed, unserved, unrouted], "reason": "moved"}
            dry = await client.post("/api/v1/events/route", json={**body, "dry_run": True})
            assert dry.status_code == 200, dry.text
            real = await finished(client, await client.post("/api/v1/events/route", json=body))
            planned = [*dry.json()["routed"], *dry.json()["skipped"]]

            assert without_ids(sorted(planned, key=lambda r: r["event_id"])) == without_ids(
                sorted(real["results"], key=lambda r: r["event_id"])
            )
            by_event = {r["event_id"]: r for r in real["results"]}
            assert [m["destination"] for m in by_event[unrouted]["messages"]] == ["zuid", "noord"]
            assert by_event[unrouted]["note"] is None
            assert by_event[unserved]["note"] == "no destination serves provider 'lab-west' yet"
            assert by_event[routed]["note"] == "already has a message for zuid; not sent again"
            assert [m["destination"] for m in by_event[lab]["messages"]] == ["zuid"]
            assert by_event[lab]["note"] == (
                "destination 'noord' takes no diagnostic_request messages"
            )
            assert [r["event_id"] for r in real["results"]] == [unrouted, unserved, routed, lab]
            assert await engine.wait_settled(timeout=10)
            assert len(noord.received) == 1 and len(zuid.received) == 3

            # A provider nobody serves and no event names is a typo: refused with the served
            # ones, not "nothing to route". One only an unrouted event names (lab-west) is
            # what routing is for; one a destination serves may have nothing waiting.
            select = {"reason": "x", "dry_run": True}
            typo = await client.post(
                "/api/v1/events/route", json={**select, "provider": "ziekenhuis-zud"}
            )
            assert typo.status_code == 422, typo.text
            assert typo.json()["detail"] == (
                "provider: no destination serves that provider, and no stored event names it; "
                "served: ziekenhuis-noord, ziekenhuis-zuid"
            )
            waiting = await client.post(
                "/api/v1/events/route", json={**select, "provider": "lab-west"}
            )
            assert [r["event_id"] for r in waiting.json()["skipped"]] == [unserved]
            served = await client.post(
                "/api/v1/events/route", json={**select, "provider": "ziekenhuis-zuid"}
            )
            assert served.status_code == 200 and served.json()["total"] == 0
        finally:
            await engine.stop()


async def test_a_cancel_routes_like_a_new_event_and_queues_behind_it(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(tmp_path)
    try:
        new = await submit(engine, event(referral_data))
        cancel = await submit(engine, event(referral_data, action="cancel"))
        await engine.apply_catalog(
            catalog(destination("noord", receiver.port, providers=["ziekenhuis-noord"]))
        )
        request = RouteRequest(
            reason="noord connected", actor="anna", provider="ziekenhuis-noord"
        ).checked(engine.settings)
        selected = await select_events(engine.store, engine.settings, request)
        assert selected == [new, cancel]
        results = await route_in_engine(engine, selected, request)
        assert all(r.routed for r in results)
        assert await engine.wait_settled(timeout=10)
        assert [msh(m, 9) for m in receiver.received] == ["REF^I12^REF_I12", "REF^I14^REF_I12"]
    finally:
        await engine.stop()


async def test_routing_maps_with_todays_version_under_the_sunset_rules(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(BEFORE_SUNSET)
    engine = await start_engine(tmp_path, clock=clock)
    try:
        event_id = await submit(engine, event(referral_data))
        clock.set(AFTER_SUNSET)
        on_v1 = {"referral": "ref-v1"}
        await engine.apply_catalog(
            catalog(
                destination("oud", receiver.port, providers=["ziekenhuis-noord"], messages=on_v1),
                destination(
                    "nieuw",
                    receiver.port,
                    providers=["ziekenhuis-noord"],
                    messages=on_v1,
                    auto_upgrade=True,
                ),
                clock=clock,
            )
        )
        request = RouteRequest(reason="r", actor="a", event_ids=(event_id,)).checked(
            engine.settings
        )
        [result] = await route_in_engine(engine, [event_id], request)
        made = {m.destination_id: m for m in result.messages}
        assert made["oud"].status == "held" and made["oud"].payload == b""
        assert any("retired" in w and "ref-v2" in w for w in made["oud"].warnings)
        assert made["nieuw"].status == "queued" and made["nieuw"].version == "ref-v2"
        assert await engine.wait_settled(timeout=10)
        [got] = receiver.received
        assert msh(got, 12) == "2.5.1"
        held = await engine.store.get_message(made["oud"].id)
        assert held is not None and held.status == "held"
    finally:
        await engine.stop()


async def test_bad_requests_are_refused_naming_the_field_and_change_nothing(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any], client_for: Any
) -> None:
    engine = await start_engine(
        tmp_path, destination("noord", receiver.port, providers=["lab-elders"])
    )
    client = await client_for(engine)
    urls: list[str] = []
    client.event_hooks["request"] = [lambda request: _remember(urls, request)]
    try:
        with capture_logs() as logs:
            event_id = await submit(engine, event(referral_data))
            unknown = str(uuid.uuid4())
            refusals = [
                ({"provider": "ziekenhuis-noord", "reason": "  "}, "reason: required"),
                ({"reason": "r"}, "selection: say which events"),
                (
                    {"reason": "r", "event_ids": [event_id], "provider": "ziekenhuis-noord"},
                    "selection: name event ids or a provider, not both",
                ),
                ({"reason": "r", "event_ids": [event_id], "since": "2026-01-01"}, "since: only"),
                ({"reason": "r", "event_ids": [unknown]}, f"event_ids: no event with id {unknown}"),
                (
                    {"reason": "r", "event_ids": [BSN]},
                    "event_ids: no event has that id (9 digits, not repeated here",
                ),
                ({"reason": "r", "event_ids": ["x" + BSN]}, "event_ids: id 1 is not an event id"),
                (
                    {"reason": "r", "provider": "ziekenhuis-noord", "until": "tomorrow"},
                    "until: not an ISO date",
                ),
            ]
            for body, expected in refusals:
                answer = await client.post("/api/v1/events/route", json=body)
                assert answer.status_code == 422, (body, answer.text)
                assert answer.json()["detail"].startswith(expected), (body, answer.text)
                assert BSN not in answer.text
            # Left out, as any required body field: the validation shape, naming it.
            without = await client.post("/api/v1/events/route", json={"provider": "x"})
            assert without.status_code == 422
            assert [e["loc"] for e in without.json()["detail"]] == [["body", "reason"]]
            unknown_key = await client.post(
                "/api/v1/events/route", json={"reason": "r", "provider": "x", "to": "noord"}
            )
            assert unknown_key.status_code == 422
            # The reason's bound is every body's (integrator.reasons), a dry run's too.
            too_long = "Jan van der Berg " + "x" * (1001 - len("Jan van der Berg "))
            for dry_run in (True, False):
                long = await client.post(
                    "/api/v1/events/route",
                    json={"provider": "ziekenhuis-noord", "reason": too_long, "dry_run": dry_run},
                )
                assert long.status_code == 422, long.text
                [error] = long.json()["detail"]
                assert error["loc"] == ["body", "reason"] and error["type"] == "string_too_long"
                assert "Jan" not in long.text and "xxxx" not in long.text

            in_url = await client.get("/api/v1/events", params={"bsn": BSN})
            assert in_url.status_code == 422 and in_url.json()["detail"].startswith("bsn: never")
            bad_type = await client.get("/api/v1/events", params={"event_type": "letter"})
            assert bad_type.status_code == 422
            assert bad_type.json()["detail"].startswith("event_type: not an event type; one of")
            short = await client.post("/api/v1/events/search", json={"bsn": "12"})
            assert short.status_code == 422 and short.json()["detail"].startswith("bsn: ")
            missing = await client.get(f"/api/v1/events/{unknown}")
            assert missing.status_code == 404

            found = await client.post("/api/v1/events/search", json={"bsn": BSN})
            assert [e["id"] for e in found.json()] == [event_id]
            other = await client.post("/api/v1/events/search", json={"bsn": "999990020"})
            assert other.json() == []

        assert await engine.store.count_unrouted_events() == {"ziekenhuis-noord": 1}
        assert await engine.store.list_audit(target=event_id) == []
        assert receiver.received == []
        assert sum(BSN in url for url in urls) == 1  # only the refused GET that put it there
        assert BSN not in repr(logs) and "Berg" not in repr(logs)
    finally:
        await engine.stop()


async def _remember(urls: list[str], request: httpx.Request) -> None:
    urls.append(str(request.url))


async def test_the_gauge_counts_from_the_store_on_its_own(
    tmp_path: Path, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    engine = await start_engine(tmp_path)
    metrics = Metrics()
    gauge = UnroutedGauge(
        metrics, configured=lambda: frozenset({"ziekenhuis-noord", "lab-west"}), interval=0.05
    )
    gauge.start(engine.store)
    try:
        await submit(engine, event(referral_data))
        await submit(engine, event(referral_data))
        await submit(engine, event(diagnostic_request_data))

        async def counted() -> bool:
            text = metrics.render().decode()
            return (
                'integrator_unrouted_events{provider="ziekenhuis-noord"} 2.0' in text
                and 'integrator_unrouted_events{provider="lab-west"} 1.0' in text
            )

        for _ in range(200):
            if await counted():
                break
            await asyncio.sleep(0.05)
        assert await counted()
    finally:
        await gauge.stop()
        await engine.stop()


async def test_one_event_names_its_zd_warnings_and_who_serves_its_provider_now(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any], client_for: Any
) -> None:
    """Before routing an unrouted event, support sees where it would go and what is odd about
    it: a cancel of nothing has no message to carry the warning, so the event itself says it."""
    engine = await start_engine(tmp_path)  # no destination serves ziekenhuis-noord yet
    client = await client_for(engine)
    try:
        cancel = await submit(engine, event(referral_data, action="cancel"))
        detail = (await client.get(f"/api/v1/events/{cancel}")).json()
        assert detail["unrouted"] is True and detail["serving"] == []
        [warning] = detail["zd_warnings"]
        assert warning.startswith("cancel_without_new: ")

        await engine.apply_catalog(
            catalog(destination("noord", receiver.port, providers=["ziekenhuis-noord"]))
        )
        fitting = await submit(engine, event(referral_data, zd_number="ZD100000002"))
        detail = (await client.get(f"/api/v1/events/{cancel}")).json()
        assert detail["serving"] == ["noord"]
        detail = (await client.get(f"/api/v1/events/{fitting}")).json()
        assert detail["unrouted"] is False and detail["zd_warnings"] == []
    finally:
        await engine.stop()


async def test_routing_publishes_each_chunk_right_after_its_commit(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine killed mid-job leaves at most one chunk stored and not published."""
    events: list[tuple[str, int]] = []
    monkeypatch.setattr(integrator.events_routing, "CHUNK", 2)
    monkeypatch.setattr(
        integrator.engine, "create_transport", lambda _s: RecordingTransport(events)
    )
    engine = await start_engine(tmp_path)
    try:
        for _ in range(3):
            await submit(engine, event(referral_data))
        await engine.apply_catalog(
            catalog(destination("noord", receiver.port, providers=["ziekenhuis-noord"]))
        )
        request = RouteRequest(
            reason="noord connected", actor="anna", provider="ziekenhuis-noord"
        ).checked(engine.settings)
        selected = await select_events(engine.store, engine.settings, request)
        assert len(selected) == 3
        events.clear()
        results = await route_in_engine(
            engine,
            selected,
            request,
            progress=lambda done, _total: events.append(("committed", done)),
        )
        assert all(r.routed for r in results)
        assert events == [("published", 2), ("committed", 2), ("published", 1), ("committed", 3)]
        assert await engine.wait_settled(timeout=10)
        assert len(receiver.received) == 3
    finally:
        await engine.stop()
