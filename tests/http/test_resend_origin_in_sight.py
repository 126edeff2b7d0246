"""A message resent to another cluster's destination: who sees only that destination sees the
resend, and is not told which message it resends (the original lies in a cluster they may not
see). ``resend_of`` is None in the API's listings, its detail, its event, its dead letter, the
reports' CSV and the console, and ``resent_from`` says who resent it, when and why, without the
original's id. Who sees both clusters gets the link."""

from __future__ import annotations

import pytest

from integrator.access import Grant, Role
from tests.console.test_saved_searches import signed_in
from tests.http.test_access import World, in_cluster, world  # noqa: F401 (the fixture)


async def _sent_on(world: World) -> str:  # noqa: F811
    """The LAB message resent to ``noord`` (CARD) by all-clusters support: the resend's id."""
    async with world.client(world.everything) as admin:
        sent = await admin.post(
            f"/api/v1/messages/{world.lab_message}/resend",
            json={"reason": "to noord", "to": "noord"},
        )
        assert sent.status_code == 201, sent.text
    assert await world.engine.wait_settled(timeout=10)
    message_id: str = sent.json()["message_id"]
    return message_id


async def test_the_api_does_not_name_an_original_in_another_cluster(
    world: World,  # noqa: F811
) -> None:
    resend = await _sent_on(world)
    original = world.lab_message
    card = await world.token(*in_cluster("CARD"), name="card-everything")
    async with world.client(card) as client:
        listed = await client.get("/api/v1/messages", params={"destination": "noord"})
        searched = await client.post("/api/v1/messages/search", json={"destination": "noord"})
        detail = await client.get(f"/api/v1/messages/{resend}")
        exported = await client.get("/api/v1/messages.csv")
        event = await client.get(f"/api/v1/events/{world.lab_event}")
        await world.engine.store.set_status(resend, "dead", last_error="gone")
        letters = await client.get("/api/v1/deadletters")
    answers = (listed, searched, detail, exported, event, letters)
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert original not in answer.text  # nor a prefix of it is the point: the whole id
    [row] = [m for m in listed.json() if m["id"] == resend]
    assert row["resend_of"] is None
    assert [m["resend_of"] for m in searched.json() if m["id"] == resend] == [None]
    body = detail.json()
    assert body["resend_of"] is None
    assert body["resent_from"]["original_id"] is None
    assert body["resent_from"]["reason"] == "to noord"  # who, when and why stay
    assert [m["id"] for m in event.json()["messages"]] == [resend]
    assert [letter["resend_of"] for letter in letters.json()] == [None]
    async with world.client(world.everything) as admin:  # who sees both: the link
        linked = await admin.get(f"/api/v1/messages/{resend}")
        every = await admin.get("/api/v1/deadletters")
    assert linked.json()["resend_of"] == original
    assert linked.json()["resent_from"]["original_id"] == original
    assert [letter["resend_of"] for letter in every.json()] == [original]


@pytest.mark.parametrize(
    ("role", "full"), [(Role.RESEND, True), (Role.VIEWER, False)], ids=["full", "summary"]
)
async def test_the_console_does_not_name_it_either(
    world: World,  # noqa: F811
    role: Role,
    full: bool,
) -> None:
    resend = await _sent_on(world)
    async with signed_in(world.engine, "carla2@example.org", Grant(role, "CARD")) as carla:
        page = await carla.get(f"/messages/{resend}")
        listing = await carla.get("/messages?destination=noord")
    assert page.status_code == 200, page.text
    assert listing.status_code == 200, listing.text
    assert 'id="resent-from"' not in page.text
    # The full view says it is a resend, by whom and why, not of which message.
    assert ('id="resent-from-outside"' in page.text) is full
    assert ("to noord" in page.text) is full
    for answer in (page, listing):
        assert world.lab_message not in answer.text
        assert world.lab_message[:8] not in answer.text
    async with signed_in(world.engine, "ed@example.org", Grant(role)) as everyone:
        seen = await everyone.get(f"/messages/{resend}")
    assert f'href="/messages/{world.lab_message}"' in seen.text
