"""A resend sent on to another cluster's destination is not named to who sees only the first:
``latest_resend``/``resolved_by`` of a dead letter and the note of a batch resend's skip leave
its id and destination out, as an unknown message, while the letter still says it is resolved.
Who sees both clusters gets the link."""

from __future__ import annotations

from integrator.access import Grant, Role
from tests.console.test_saved_searches import post, signed_in
from tests.http.test_access import World, world  # noqa: F401 (the fixture)


async def test_a_resend_to_another_cluster_is_not_named(world: World) -> None:  # noqa: F811
    engine = world.engine
    await engine.store.set_status(world.lab_message, "dead", last_error="gone")
    async with world.client(world.everything) as admin:  # all-clusters support sends it on
        sent = await admin.post(
            f"/api/v1/messages/{world.lab_message}/resend",
            json={"reason": "to noord", "to": "noord"},
        )
        assert sent.status_code == 201, sent.text
        assert await engine.wait_settled(timeout=10)
        [seen_all] = (await admin.get("/api/v1/deadletters", params={"all": "true"})).json()
    lab = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab) as client:
        [letter] = (await client.get("/api/v1/deadletters", params={"all": "true"})).json()
        plan = await client.post(
            "/api/v1/resend",
            json={
                "reason": "x",
                "dry_run": True,
                "filter": {"destination": "lab", "status": "dead"},
            },
        )
    made = seen_all["latest_resend"]["id"]
    assert seen_all["latest_resend"]["destination"] == "noord" and seen_all["resolved_by"] == made
    assert letter["state"] == "resolved"  # its own letter: where it stands, yes
    assert letter["latest_resend"] == {"id": None, "destination": None, "status": "delivered"}
    assert letter["resolved_by"] is None
    assert plan.status_code == 200, plan.text
    [result] = plan.json()["results"]
    assert result["note"].startswith("already resent to a destination outside your clusters")
    assert made not in plan.text and "noord" not in plan.text


async def test_nor_in_the_consoles_confirmations_or_a_refused_discard(
    world: World,  # noqa: F811
) -> None:
    """The console's batch resend and dead letter confirmations, and a discard refused because
    a resend got through (the API's 409 and the console's row), say that a resend to a
    destination outside the person's clusters got through, not which or where."""
    engine = world.engine
    await engine.store.set_status(world.lab_message, "dead", last_error="gone")
    async with world.client(world.everything) as admin:
        sent = await admin.post(
            f"/api/v1/messages/{world.lab_message}/resend",
            json={"reason": "to noord", "to": "noord"},
        )
        assert sent.status_code == 201, sent.text
    assert await engine.wait_settled(timeout=10)
    made = sent.json()["message_id"]
    lab = await world.token(Grant(Role.RESEND, "LAB"), name="lab-support")
    async with world.client(lab) as client:
        refused = await client.post(
            f"/api/v1/deadletters/{world.lab_message}/discard", json={"reason": "x"}
        )
    async with signed_in(engine, "lara@example.org", Grant(Role.RESEND, "LAB")) as lara:
        batch = await post(lara, "/messages/resend/confirm", {"destination": "lab"})
        letters = await post(
            lara, "/deadletters/confirm", {"action": "resend", "ids": [world.lab_message]}
        )
        discards = await post(
            lara, "/deadletters/confirm", {"action": "discard", "ids": [world.lab_message]}
        )
    assert refused.status_code == 409
    assert "a resend of it to a destination outside your clusters was delivered" in refused.text
    for answer in (batch, letters, discards):
        assert answer.status_code == 200, answer.text
        assert made not in answer.text and made[:8] not in answer.text
        assert "noord" not in answer.text
    assert "already resent to a destination outside your clusters" in batch.text
    outside = "a resend of it to a destination outside your clusters was delivered"
    assert outside in letters.text and outside in discards.text
    async with signed_in(engine, "ed@example.org", Grant(Role.RESEND)) as ed:  # sees both
        both = await post(
            ed, "/deadletters/confirm", {"action": "discard", "ids": [world.lab_message]}
        )
    assert made in both.text
