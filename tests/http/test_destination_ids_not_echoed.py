"""The API never repeats a value it was sent: a destination id that names none is a 404 saying
so without the id (every ``/destinations/{id}`` route, as try-now says it), and an event type
that is none is a 422 naming the parameter, not the value (a BSN pasted there stays out)."""

from __future__ import annotations

from tests.http.test_access import World, world  # noqa: F401 (the fixture)

PASTED = "999990019"  # a BSN, pasted where an id goes


async def test_a_destination_id_or_event_type_that_names_none_is_not_repeated(
    world: World,  # noqa: F811
) -> None:
    async with world.client(world.everything) as admin:
        answers = [
            await admin.get(f"/api/v1/destinations/{PASTED}"),
            await admin.get(f"/api/v1/destinations/{PASTED}/history"),
            await admin.post(
                f"/api/v1/destinations/{PASTED}/pause", headers={"X-Integrator-Reason": "x"}
            ),
            await admin.post(f"/api/v1/destinations/{PASTED}/try-now"),
        ]
        typed = await admin.post("/api/v1/destinations/noord/test", params={"event_type": PASTED})
    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"detail": "no destination with that id"}
    assert typed.status_code == 422, typed.text
    assert PASTED not in typed.text
    assert [e["loc"] for e in typed.json()["detail"]] == [["query", "event_type"]]
