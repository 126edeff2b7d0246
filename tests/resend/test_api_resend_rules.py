"""The resend rules through the HTTP API, against a running engine and real MLLP receivers."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.http.support import api_client, finished, token_for
from tests.integrator.support import destination, settings_for

NOORD = "ziekenhuis-noord"
ZUID = "ziekenhuis-zuid"


@pytest.fixture
async def noord() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def zuid() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver() as receiver:
        yield receiver


async def start(tmp_path: Path, noord_port: int, zuid_port: int) -> Engine:
    configs = [
        destination(NOORD, noord_port, providers=[NOORD]),
        destination(ZUID, zuid_port, providers=["nobody"]),
    ]
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=date(2026, 11, 27))
    engine = Engine(settings_for(tmp_path), catalog=catalog)
    await engine.start()
    return engine


async def submitted(engine: Engine, referral: dict[str, Any], zd_number: str) -> str:
    data = copy.deepcopy(referral)
    data["event_id"] = str(uuid.uuid4())
    data["zd_number"] = zd_number
    result = await engine.intake.submit(json.dumps(data), source="cli")
    assert await engine.wait_settled(timeout=10)
    return result.messages[0].message_id


async def test_dry_run_answers_per_message_what_the_job_then_does(
    tmp_path: Path, noord: MllpReceiver, zuid: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start(tmp_path, noord.port, zuid.port)
    try:
        async with api_client(engine) as api:
            resent_before = await submitted(engine, referral_data, "ZD700000001")
            fresh = await submitted(engine, referral_data, "ZD700000002")
            one = await api.post(
                f"/api/v1/messages/{resent_before}/resend", json={"reason": "GP called"}
            )
            assert one.status_code == 201, one.text
            assert await engine.wait_settled(timeout=10)
            # Named: resent again although its first resend was delivered.
            again = await api.post(
                f"/api/v1/messages/{resent_before}/resend", json={"reason": "GP again"}
            )
            assert again.status_code == 201, again.text
            assert await engine.wait_settled(timeout=10)

            batch = {"reason": "HIS reset", "filter": {"destination": NOORD}}
            dry = await api.post("/api/v1/resend", json={**batch, "dry_run": True})
            assert dry.status_code == 200, dry.text
            promised = dry.json()
            assert (promised["total"], promised["resend"], promised["skip"]) == (2, 1, 1)
            by_id = {r["original_id"]: r for r in promised["results"]}
            assert by_id[fresh]["outcome"] == "would resend"
            assert by_id[resent_before]["outcome"] == "would skip"
            assert f"already resent to {NOORD}" in by_id[resent_before]["note"]
            assert len(noord.received) == 4  # a dry run sends nothing

            started = await api.post("/api/v1/resend", json=batch)
            assert started.status_code == 202, started.text
            job = await finished(api, started)
            done = {r["original_id"]: r for r in job["results"]}
            assert (done[fresh]["outcome"], done[resent_before]["outcome"]) == (
                "resent",
                "skipped",
            )
            assert done[resent_before]["note"] == by_id[resent_before]["note"]

            # Named by its ZD number in the filter: resent after all.
            named = await api.post(
                "/api/v1/resend",
                json={"reason": "GP called", "filter": {"zd_number": "ZD700000001"}},
            )
            job = await finished(api, named)
            assert [r["outcome"] for r in job["results"]] == ["resent"]
            assert await engine.wait_settled(timeout=10)
            assert len(noord.received) == 6
    finally:
        await engine.stop()


async def test_a_refused_batch_is_422_before_any_job_and_sends_nothing(
    tmp_path: Path, noord: MllpReceiver, zuid: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start(tmp_path, noord.port, zuid.port)
    try:
        async with api_client(engine) as api:
            message_id = await submitted(engine, referral_data, "ZD700000011")
            for body in (
                {"message_ids": [message_id], "mode": "original", "to": ZUID},
                {"message_ids": [message_id], "to": "nowhere"},
                {"filter": {"zd_number": "ZD700000011"}, "mode": "original", "to": ZUID},
            ):
                for dry_run in (False, True):
                    answer = await api.post(
                        "/api/v1/resend", json={"reason": "x", "dry_run": dry_run, **body}
                    )
                    assert answer.status_code == 422, (body, answer.text)
            _, children = await engine.store.list_resends(message_id)
            assert children == []
            assert [a.action for a in await engine.store.list_audit()] == ["token.create"]
            assert zuid.received == []

            queued = await engine.store.get_message(message_id)
            assert queued is not None
            await engine.store.set_status(message_id, "retrying")
            busy = await api.post(f"/api/v1/messages/{message_id}/resend", json={"reason": "x"})
            assert busy.status_code == 422
            assert "still being delivered (retrying)" in busy.json()["detail"]
            # What is wanted then is its next attempt now, not a second message: said.
            assert "at once with try-now" in busy.json()["detail"]
    finally:
        await engine.stop()


async def test_deadletters_hide_the_resolved_ones_unless_all(
    tmp_path: Path, zuid: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ack_code="AR") as rejecting:
        engine = await start(tmp_path, rejecting.port, zuid.port)
        try:
            async with api_client(engine) as api:
                dead = await submitted(engine, referral_data, "ZD700000021")
                [row] = (await api.get("/api/v1/deadletters")).json()
                assert (row["id"], row["state"], row["resolved_by"]) == (dead, "open", None)

                moved = await api.post(
                    f"/api/v1/messages/{dead}/resend", json={"reason": "moved", "to": ZUID}
                )
                assert moved.status_code == 201, moved.text
                assert await engine.wait_settled(timeout=10)
                assert len(zuid.received) == 1

                assert (await api.get("/api/v1/deadletters")).json() == []
                [row] = (await api.get("/api/v1/deadletters?all=true")).json()
                assert (row["id"], row["state"]) == (dead, "resolved")
                assert row["resolved_by"] == moved.json()["message_id"]
        finally:
            await engine.stop()


async def test_a_discard_through_the_api_names_and_closes_the_resend_chain(
    tmp_path: Path, noord: MllpReceiver, zuid: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """A dead letter resent whose resend died too: the dry run names both and changes nothing;
    the discard closes both, and the answer says so."""
    engine = await start(tmp_path, noord.port, zuid.port)
    try:
        async with api_client(engine) as api:
            original = await submitted(engine, referral_data, "ZD700000021")
            await engine.store.set_status(original, "dead")  # the receiver refused it, say
            one = await api.post(f"/api/v1/messages/{original}/resend", json={"reason": "HIS"})
            assert one.status_code == 201, one.text
            assert await engine.wait_settled(timeout=10)
            resend = one.json()["message_id"]
            await engine.store.set_status(resend, "dead")  # and its resend too
            elsewhere = await api.post(
                f"/api/v1/messages/{original}/resend", json={"reason": "other site", "to": ZUID}
            )
            assert elsewhere.status_code == 201, elsewhere.text
            assert await engine.wait_settled(timeout=10)
            other = elsewhere.json()["message_id"]
            await engine.store.set_status(other, "dead")

            path = f"/api/v1/deadletters/{original}/discard"
            dry = await api.post(f"{path}?dry_run=true", json={"reason": "faxed"})
            assert dry.status_code == 200, dry.text
            assert dry.json()["discarded"] == [original, resend]
            [stays] = dry.json()["stays_open"]
            assert (stays["id"], stays["destination"]) == (other, ZUID)
            assert "another destination" in stays["why"]
            stored = await engine.store.get_message(resend)
            assert stored is not None and stored.status == "dead"

            done = await api.post(path, json={"reason": "faxed"})
            assert done.status_code == 200, done.text
            assert done.json()["resend_chain"] == [resend]
            for message_id in (original, resend):
                stored = await engine.store.get_message(message_id)
                assert stored is not None and stored.status == "cancelled"
            listed = (await api.get("/api/v1/deadletters")).json()
            assert [r["id"] for r in listed] == [other]  # named as staying open, and it does
    finally:
        await engine.stop()


async def test_what_stays_open_elsewhere_is_named_only_to_who_may_see_it(
    tmp_path: Path, noord: MllpReceiver, zuid: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """Another destination's dead letter of the same message, in a cluster the caller does not
    hold: left open, not named to that caller (the audit entry names it)."""
    configs = [
        destination(NOORD, noord.port, providers=[NOORD]),
        destination(ZUID, zuid.port, providers=["nobody"], cluster="LAB"),
    ]
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=date(2026, 11, 27))
    engine = Engine(settings_for(tmp_path), catalog=catalog)
    await engine.start()
    try:
        original = await submitted(engine, referral_data, "ZD700000031")
        await engine.store.set_status(original, "dead")
        async with api_client(engine) as api:  # every cluster
            sent = await api.post(
                f"/api/v1/messages/{original}/resend", json={"reason": "x", "to": ZUID}
            )
            assert sent.status_code == 201, sent.text
            assert await engine.wait_settled(timeout=10)
        other = sent.json()["message_id"]
        await engine.store.set_status(other, "dead")

        card = await token_for(engine, Grant(Role.RESEND, "CARD"))
        async with api_client(engine, card) as api:
            done = await api.post(
                f"/api/v1/deadletters/{original}/discard", json={"reason": "faxed"}
            )
            assert done.status_code == 200, done.text
            assert (done.json()["discarded"], done.json()["stays_open"]) == ([original], [])
        [entry] = await engine.store.list_audit(
            AuditFilter(action="deadletter.discard", target=original)
        )
        assert [s["id"] for s in entry.details["left_open"]] == [other]
    finally:
        await engine.stop()
