"""``/messages/{id}`` and the message routes under it take the short ids listings show, as
``/rejected/{id}``, the CLI and the console do: the start of an id that only one message the
caller may see has. A start too short, or one several of their messages share, is refused as
``/rejected/{id}`` refuses it (404), saying why and never repeating it; messages of other
clusters never count."""

from __future__ import annotations

from integrator.access import Grant, Role
from integrator.http.message_ids import AMBIGUOUS, TOO_SHORT
from integrator.message_service import NO_MESSAGE
from tests.http.test_access import World, in_cluster, world  # noqa: F401 (the fixture)
from tests.store.factories import make_event, make_message

TWO_IN_CARD = ("abcd0000-0000-4000-8000-000000000001", "abcd0000-0000-4000-8000-000000000002")
ONE_IN_CARD = "abce0000-0000-4000-8000-000000000001"  # shares abce0000 with one in LAB
ONE_IN_LAB = "abce0000-0000-4000-8000-000000000002"


async def placed(where: World) -> None:
    """Messages with ids chosen to share a start (no bytes: never delivered, never resent)."""
    for message_id, destination in (
        (TWO_IN_CARD[0], "noord"),
        (TWO_IN_CARD[1], "noord"),
        (ONE_IN_CARD, "noord"),
        (ONE_IN_LAB, "lab"),
    ):
        message = make_message(id=message_id, destination_id=destination)
        await where.engine.store.accept_event(make_event(), [message])


async def test_a_message_s_routes_take_its_short_id(world: World) -> None:  # noqa: F811
    message = world.card_message
    async with world.client(world.everything) as admin:
        starts = [message[:8], message[:13].upper().replace("-", "")]
        if not world.lab_message.startswith(message[:4]):  # 1 in 65,536: shared
            starts.append(message[:4])
        for given in starts:
            read = await admin.get(f"/api/v1/messages/{given}")
            assert read.status_code == 200, (given, read.text)
            assert read.json()["id"] == message
        tried = await admin.post(f"/api/v1/messages/{message[:8]}/try-now")
        assert tried.status_code == 409, tried.text  # delivered: the message was found
        resent = await admin.post(
            f"/api/v1/messages/{message[:8]}/resend", json={"reason": "GP phoned"}
        )
        assert resent.status_code == 201, resent.text
        assert resent.json()["original_id"] == message
        discard = await admin.post(
            f"/api/v1/deadletters/{message[:8]}/discard", json={"reason": "not needed"}
        )
        assert discard.status_code == 422, discard.text  # found: it is no dead letter


async def test_a_short_id_too_short_or_shared_is_refused_as_an_unknown_one(
    world: World,  # noqa: F811
) -> None:
    await placed(world)
    async with world.client(world.everything) as admin:
        short = await admin.get(f"/api/v1/messages/{world.card_message[:3]}")
        assert short.status_code == 404 and short.json() == {"detail": TOO_SHORT}
        for shared in (
            await admin.get("/api/v1/messages/abcd0000"),
            await admin.post("/api/v1/messages/abcd0000/try-now"),
        ):
            assert shared.status_code == 404, shared.text
            assert shared.json() == {"detail": AMBIGUOUS}
            assert "abcd" not in shared.text  # neither the start nor the ids it could be
        across = await admin.get("/api/v1/messages/abce0000")  # one in each cluster
        assert across.status_code == 404 and across.json() == {"detail": AMBIGUOUS}
        unknown = await admin.get("/api/v1/messages/fedcba98")
        assert unknown.status_code == 404 and unknown.json() == {"detail": NO_MESSAGE}


async def test_messages_of_other_clusters_never_count(world: World) -> None:  # noqa: F811
    await placed(world)
    card = await world.token(*in_cluster("CARD"), name="card-only")
    lab_only = await world.token(Grant(Role.RESEND, "LAB"), name="lab-resend")
    async with world.client(card) as client:
        # Shared with a message in LAB only: the one in CARD is the one meant.
        one = await client.get("/api/v1/messages/abce0000")
        assert one.status_code == 200, one.text
        assert one.json()["id"] == ONE_IN_CARD
        # LAB's delivered message, by its start: as unknown as an id nothing has.
        lab = await client.get(f"/api/v1/messages/{world.lab_message[:8]}")
        assert lab.status_code == 404 and lab.json() == {"detail": NO_MESSAGE}
    async with world.client(lab_only) as client:
        tried = await client.post("/api/v1/messages/abce0000/try-now")
        assert tried.status_code == 409, tried.text  # LAB's own, found; it waits for no retry
        hidden = await client.post("/api/v1/messages/abcd0000/try-now")
        assert hidden.status_code == 404 and hidden.json() == {"detail": NO_MESSAGE}
