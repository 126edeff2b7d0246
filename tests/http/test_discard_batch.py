"""``POST /api/v1/deadletters/discard``: dead letters discarded in bulk as a job, within the
caller's clusters, each audited under the caller; and who may read a job at all."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from tests.http.test_access import World, submitted, world  # noqa: F401 (the fixture)


async def _dead(place: World, provider: str, referral: dict[str, Any]) -> str:
    message_id, _event = await submitted(place.engine, referral, provider)
    await place.engine.store.set_status(message_id, "dead", last_error="AR: refused")
    return message_id


async def _finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(200):
        answer = await client.get(f"/api/v1/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


async def _statuses(place: World, *ids: str) -> list[str]:
    found = [await place.engine.store.get_message(i) for i in ids]
    return [m.status if m is not None else "gone" for m in found]


async def test_a_dry_run_then_a_job_discards_the_callers_dead_letters_only(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    lab = [await _dead(world, "lab-west", referral_data) for _ in range(3)]
    card = await _dead(world, "ziekenhuis-noord", referral_data)
    lab_support = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab_support) as client:
        plan = await client.post(
            "/api/v1/deadletters/discard",
            json={"reason": "HIS rebuilt, sent by hand", "all": True, "dry_run": True},
        )
        assert plan.status_code == 200, plan.text
        assert await _statuses(world, *lab, card) == ["dead"] * 4  # a dry run changes nothing
        started = await client.post(
            "/api/v1/deadletters/discard",
            json={"reason": "HIS rebuilt, sent by hand", "all": True},
        )
        assert started.status_code == 202, started.text
        job = await _finished(client, started.json()["id"])

    said = plan.json()
    assert (said["total"], said["discard"], said["skip"]) == (3, 3, 0)
    assert {r["id"] for r in said["results"]} == set(lab)
    assert {r["outcome"] for r in said["results"]} == {"would discard"}
    assert started.json()["kind"] == "discard"
    assert started.json()["actor"] == "token:lab-support"
    assert (job["state"], job["done"], job["total"]) == ("done", 3, 3)
    assert {(r["id"], r["outcome"]) for r in job["results"]} == {(i, "discarded") for i in lab}
    # Another cluster's dead letter is neither touched nor named.
    assert await _statuses(world, *lab, card) == ["cancelled"] * 3 + ["dead"]
    assert card not in plan.text and card not in str(job)
    entries = [await world.engine.store.newest_audit_about(i, ["deadletter.discard"]) for i in lab]
    assert {(e.actor, e.reason) for e in entries if e is not None} == {
        ("token:lab-support", "HIS rebuilt, sent by hand")
    }
    assert all(e is not None for e in entries)
    # Each names the job: what its ``done`` is counted from if its engine dies.
    assert {e.details.get("job") for e in entries if e is not None} == {job["id"]}


async def test_named_ids_outside_the_callers_clusters_are_unknown_and_nothing_is_discarded(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    lab = await _dead(world, "lab-west", referral_data)
    card = await _dead(world, "ziekenhuis-noord", referral_data)
    lab_support = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab_support) as client:
        answer = await client.post(
            "/api/v1/deadletters/discard", json={"reason": "x", "message_ids": [lab, card]}
        )
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == "no message with that id"
    assert await _statuses(world, lab, card) == ["dead", "dead"]


async def test_refusals_name_the_field_and_change_nothing(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    letter = await _dead(world, "lab-west", referral_data)
    delivered = world.card_message
    async with world.client(world.everything) as client:
        no_selector = await client.post("/api/v1/deadletters/discard", json={"reason": "x"})
        no_reason = await client.post(
            "/api/v1/deadletters/discard", json={"reason": " ", "all": True}
        )
        unknown_destination = await client.post(
            "/api/v1/deadletters/discard", json={"reason": "x", "destination": "nowhere"}
        )
        bad_period = await client.post(
            "/api/v1/deadletters/discard", json={"reason": "x", "since": "yesterday-ish"}
        )
        not_dead = await client.post(
            "/api/v1/deadletters/discard",
            json={"reason": "x", "message_ids": [letter, delivered]},
        )
        unknown_key = await client.post(
            "/api/v1/deadletters/discard", json={"reason": "x", "every": True}
        )
    assert no_selector.status_code == 422
    # In the body's own terms: ``message_ids`` and ``all``, not the command line's words.
    assert no_selector.json()["detail"] == (
        "say which dead letters: message_ids, all, destination, since or until"
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert unknown_destination.status_code == 422 and "destination" in unknown_destination.text
    assert bad_period.status_code == 422 and "since" in bad_period.text
    assert "yesterday-ish" not in bad_period.text  # what was sent is not echoed
    assert not_dead.status_code == 422 and "not dead" in not_dead.text
    # A key the body does not have is refused (withheld: it may be anything a client sent).
    assert unknown_key.status_code == 422 and "extra_forbidden" in unknown_key.text
    assert await _statuses(world, letter) == ["dead"]


async def test_a_job_is_read_only_by_who_sees_as_much_as_its_starter(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    """A job's results are written as its starter saw them: a skip's note names a resend to
    another cluster's destination for a starter who sees it. A colleague of one cluster gets
    the job as an unknown one, not that name; their own job they read."""
    engine = world.engine
    await engine.store.set_status(world.lab_message, "dead", last_error="gone")
    async with world.client(world.everything) as admin:
        sent = await admin.post(
            f"/api/v1/messages/{world.lab_message}/resend",
            json={"reason": "to noord", "to": "noord"},
        )
        assert sent.status_code == 201, sent.text
        assert await engine.wait_settled(timeout=10)
        batch = {"reason": "HIS back", "filter": {"destination": "lab", "status": "dead"}}
        started = await admin.post("/api/v1/resend", json=batch)
        assert started.status_code == 202, started.text
        job = await _finished(admin, started.json()["id"])
    made = sent.json()["message_id"]
    assert made in str(job["results"])  # the starter sees where it went

    lab_support = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab_support) as client:
        theirs = await client.get(f"/api/v1/jobs/{job['id']}")
        own = await client.post("/api/v1/resend", json=batch)
        assert own.status_code == 202, own.text
        own_job = await _finished(client, own.json()["id"])
    assert theirs.status_code == 404, theirs.text
    assert made not in theirs.text and "noord" not in theirs.text
    assert made not in str(own_job) and "noord" not in str(own_job)


async def test_a_discard_repeated_with_its_key_starts_one_job(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    letter = await _dead(world, "lab-west", referral_data)
    key = {"idempotency-key": "7d4e1c0a-discard-once"}
    body = {"reason": "sent by hand", "message_ids": [letter]}
    async with world.client(world.everything) as client:
        first = await client.post("/api/v1/deadletters/discard", json=body, headers=key)
        assert first.status_code == 202, first.text
        await _finished(client, first.json()["id"])
        again = await client.post("/api/v1/deadletters/discard", json=body, headers=key)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"
    assert await _statuses(world, letter) == ["cancelled"]


async def test_named_ids_are_selected_without_reading_each_whole(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request names up to 100,000 dead letters: checking each one's cluster read it whole
    (its HL7 unsealed), one query each, before the selection read them again bare."""
    import integrator.http.routes.deadletters as route

    letters = [await _dead(world, "lab-west", referral_data) for _ in range(5)]
    store = world.engine.store
    whole: list[str] = []
    real_get = type(store).get_message

    async def counted(self: Any, message_id: str) -> Any:
        whole.append(message_id)
        return await real_get(self, message_id)

    before_discarding: list[int] = []
    real_each = getattr(route, "discard_each")  # noqa: B009 (not re-exported)

    async def each(*args: Any, **kwargs: Any) -> Any:
        before_discarding.append(len(whole))
        return await real_each(*args, **kwargs)

    monkeypatch.setattr(type(store), "get_message", counted)
    monkeypatch.setattr(route, "discard_each", each)
    lab_support = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab_support) as client:
        plan = await client.post(
            "/api/v1/deadletters/discard",
            json={"reason": "sent by hand", "message_ids": letters, "dry_run": True},
        )
    assert plan.status_code == 200, plan.text
    assert plan.json()["discard"] == 5
    assert before_discarding == [0], whole  # selected and checked without one whole read
