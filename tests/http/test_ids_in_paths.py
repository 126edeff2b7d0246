"""An id in a route's path, or in a batch resend's ``message_ids``, is read as the store keeps
it: in either case and with or without its dashes, as token and person ids already were
(docs/access.md), on the message, event and job routes; text that is no id is the route's
404, never echoed."""

from __future__ import annotations

from integrator.http.routes.events import EVENT_TOO_SHORT, NO_EVENT
from tests.http.test_access import World, in_cluster, world  # noqa: F401 (the fixture)


def _typed(uuid_text: str) -> str:
    """The id as a person may paste it: upper case, no dashes."""
    return uuid_text.replace("-", "").upper()


async def test_ids_in_other_case_or_without_dashes_name_the_same_thing(
    world: World,  # noqa: F811
) -> None:
    message, event = world.card_message, world.card_event
    async with world.client(world.everything) as admin:
        read = await admin.get(f"/api/v1/messages/{_typed(message)}")
        shown = await admin.get(f"/api/v1/events/{_typed(event)}")
        tried = await admin.post(f"/api/v1/messages/{_typed(message)}/try-now")
        resent = await admin.post(
            f"/api/v1/messages/{_typed(message)}/resend", json={"reason": "GP phoned"}
        )
        started = await admin.post(
            "/api/v1/resend", json={"reason": "GP phoned", "message_ids": [_typed(message)]}
        )
        job = await admin.get(f"/api/v1/jobs/{_typed(started.json()['id'])}")
        nothing = await admin.get("/api/v1/messages/not-an-id")
    assert read.status_code == 200 and read.json()["id"] == message
    assert shown.status_code == 200 and shown.json()["id"] == event
    assert tried.status_code == 409, tried.text  # delivered: the message was found
    assert resent.status_code == 201 and resent.json()["original_id"] == message
    assert started.status_code == 202, started.text
    assert job.status_code == 200 and job.json()["id"] == started.json()["id"]
    assert nothing.status_code == 404 and nothing.json() == {"detail": "no message with that id"}


async def test_an_event_s_id_at_a_message_s_route_says_what_it_is(
    world: World,  # noqa: F811
) -> None:
    """Ids of messages and events look alike; a client that took one for the other got "no
    message with that id", as if nothing had it. Said with the event's route, to who may read
    it (every cluster's messages); to anyone else the route's plain 404."""
    event = world.card_event
    async with world.client(world.everything) as admin:
        everyone = await admin.get(f"/api/v1/messages/{event}")
    card_only = await world.token(*in_cluster("CARD"), name="card-only")
    async with world.client(card_only) as card:
        one_cluster = await card.get(f"/api/v1/messages/{event}")
    assert everyone.status_code == 404
    assert everyone.json() == {
        "detail": f"no message with that id; it is an event's id: GET /api/v1/events/{event}"
    }
    assert one_cluster.status_code == 404
    assert one_cluster.json() == {"detail": "no message with that id"}


async def test_an_msh_10_at_a_message_s_route_says_what_it_is(
    world: World,  # noqa: F811
) -> None:
    """The MSH-10 a hospital quotes is hex digits too: said with its message's route, to who
    may read every cluster's messages; to anyone else the route's plain 404."""
    message = world.card_message
    control_id = (await world.engine.store.get_message(message)).control_id  # type: ignore[union-attr]
    async with world.client(world.everything) as admin:
        everyone = await admin.get(f"/api/v1/messages/{control_id.lower()}")
    card_only = await world.token(*in_cluster("CARD"), name="card-only")
    async with world.client(card_only) as card:
        one_cluster = await card.get(f"/api/v1/messages/{control_id}")
    assert everyone.status_code == 404
    assert everyone.json() == {
        "detail": "no message with that id; it is an MSH-10: "
        f"GET /api/v1/messages/{message} was sent with it"
    }
    assert one_cluster.json() == {"detail": "no message with that id"}


async def test_an_event_s_route_takes_its_short_id_among_the_events_one_may_see(
    world: World,  # noqa: F811
) -> None:
    """Listings and the CLI show events by the start of their id, as messages; ``/events/{id}``
    answered that 404 where ``/messages/{id}`` took it. An event of another cluster never
    counts; a start too short is refused, never repeated."""
    event, other = world.card_event, world.lab_event
    async with world.client(world.everything) as admin:
        read = await admin.get(f"/api/v1/events/{event[:8]}")
        short = await admin.get(f"/api/v1/events/{event[:3]}")
        unknown = await admin.get("/api/v1/events/fedcba98")
    assert read.status_code == 200 and read.json()["id"] == event
    assert short.status_code == 404 and short.json() == {"detail": EVENT_TOO_SHORT}
    assert unknown.status_code == 404 and unknown.json() == {"detail": NO_EVENT}
    card_only = await world.token(*in_cluster("CARD"), name="card-events")
    async with world.client(card_only) as card:
        mine = await card.get(f"/api/v1/events/{event[:8]}")
        theirs = await card.get(f"/api/v1/events/{other[:8]}")
    assert mine.status_code == 200
    assert theirs.status_code == 404 and theirs.json() == {"detail": NO_EVENT}
