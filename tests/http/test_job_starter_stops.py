"""A resend job stops when whoever started it may no longer resend: it runs for minutes after
the request was let through, and a token revoked meanwhile (it leaked) must not go on putting
patient messages on the wire under its name until the last one."""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import uuid
from typing import Any

import httpx
import pytest

from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from tests.http.conftest import BSN, submit
from tests.http.support import MAKER, bearer, serve_zuid_too, token_for


async def _two_messages(engine: Engine, referral_data: dict[str, Any]) -> list[str]:
    made = []
    for _ in range(2):
        data = copy.deepcopy(referral_data)
        data["event_id"] = str(uuid.uuid4())
        made.append(await submit(engine, data))
    return made


async def _ended(client: httpx.AsyncClient, job_id: str, everything: str) -> dict[str, Any]:
    for _ in range(200):
        answer = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(everything))
        job: dict[str, Any] = answer.json()
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not end")


async def _revoke_once(engine: Engine, name: str) -> None:
    """The leak is found while the job runs: the token ``name`` revoked (once)."""
    [made] = [t for t in await engine.access.list_tokens(MAKER) if t.name == name]
    if made.status != "revoked":
        await engine.access.revoke_token(MAKER, made.id, reason="leaked")


def _revoked_at_each_publish(engine: Engine, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``name`` revoked as the job's first chunk is published (between its first and second)."""
    publish = engine.publish

    async def revoked_then_published(messages: list[OutboundMessage], **kw: Any) -> bool:
        await _revoke_once(engine, name)
        return await publish(messages, **kw)

    monkeypatch.setattr(engine, "publish", revoked_then_published)


async def _job(
    app: EngineApp, url: str, body: dict[str, Any], token: str, everything: str
) -> dict[str, Any]:
    """The job ``body`` POSTed to ``url`` with ``token`` starts, as it ended (read by another)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        started = await client.post(url, json=body, headers=bearer(token))
        assert started.status_code == 202, started.text
        return await _ended(client, started.json()["id"], everything)


async def test_a_resend_job_stops_at_the_next_chunk_once_its_token_is_revoked(
    engine: Engine,
    app: EngineApp,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = await _two_messages(engine, referral_data)
    support = await token_for(engine, Grant(Role.RESEND), name="leaked-support")
    everything = await token_for(engine, name="colleague")
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 1)  # two chunks
    _revoked_at_each_publish(engine, "leaked-support", monkeypatch)
    body = {"message_ids": [first, second], "reason": "GP asked"}
    job = await _job(app, "/api/v1/resend", body, support, everything)

    assert job["state"] == "interrupted", job
    assert (job["done"], job["total"]) == (1, 2)
    assert job["error"].startswith("stopped after 1 of 2: whoever started this job")
    assert [r["outcome"] for r in job["results"]] == ["resent"]
    resent = [len((await engine.store.list_resends(m))[1]) for m in (first, second)]
    assert sorted(resent) == [0, 1]  # the second chunk was not resent under the revoked token
    assert BSN not in str(job)


async def test_a_resend_job_of_a_token_that_still_may_runs_to_its_end(
    engine: Engine,
    app: EngineApp,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = await _two_messages(engine, referral_data)
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 1)
    body = {"message_ids": [first, second], "reason": "GP asked"}
    job = await _job(app, "/api/v1/resend", body, support, support)
    assert (job["state"], job["done"], job["total"]) == ("done", 2, 2)


async def test_a_discard_job_stops_at_its_next_ask_once_its_token_is_revoked(
    engine: Engine,
    app: EngineApp,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    letters = await _two_messages(engine, referral_data)
    for letter in letters:
        await engine.store.set_status(letter, "dead")
    support = await token_for(engine, Grant(Role.RESEND), name="leaked-support")
    everything = await token_for(engine, name="colleague")
    module = importlib.import_module("deadletter.letters")
    monkeypatch.setattr(module, "ASK_EVERY", 1)  # asked before each dead letter after the first
    discard = module.discard

    async def revoked_after_the_first(*args: Any, **kw: Any) -> Any:
        done = await discard(*args, **kw)
        await _revoke_once(engine, "leaked-support")
        return done

    monkeypatch.setattr(module, "discard", revoked_after_the_first)
    body = {"message_ids": letters, "reason": "faxed"}
    job = await _job(app, "/api/v1/deadletters/discard", body, support, everything)

    assert job["state"] == "interrupted", job
    assert job["error"].startswith("stopped after 1 of 2: whoever started this job may no longer")
    assert [r["outcome"] for r in job["results"]] == ["discarded"]
    stored = [await engine.store.get_message(m) for m in letters]
    statuses = sorted(m.status for m in stored if m is not None)
    assert statuses == ["cancelled", "dead"]  # the second was not discarded under that token


async def test_a_routing_job_stops_at_its_next_chunk_once_its_token_is_revoked(
    engine: Engine,
    app: EngineApp,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = []
    for _ in range(2):  # for a provider no destination serves yet: unrouted
        data = copy.deepcopy(referral_data)
        data["event_id"] = str(uuid.uuid4())
        data["provider"]["id"] = "ziekenhuis-zuid"
        accepted = await engine.intake.submit(json.dumps(data), source="http")
        assert accepted.messages == ()
        events.append(accepted.event_id)
    await serve_zuid_too(engine, receiver.port)
    router = await token_for(engine, name="leaked-router")
    everything = await token_for(engine, name="colleague")
    monkeypatch.setattr(importlib.import_module("integrator.events_routing"), "CHUNK", 1)
    _revoked_at_each_publish(engine, "leaked-router", monkeypatch)
    body = {"event_ids": events, "reason": "zuid connected"}
    job = await _job(app, "/api/v1/events/route", body, router, everything)

    assert job["state"] == "interrupted", job
    assert job["error"].startswith("stopped after 1 of 2: whoever started this job may no longer")
    routed = await engine.store.routed_destinations(events)
    assert sorted(len(routed[e]) for e in events) == [0, 1]  # the second was not routed
