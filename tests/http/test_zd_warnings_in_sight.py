"""A ZD number's warning names the earlier event it conflicts with; when that event went only
to another cluster, who sees only their own is told "an event outside your clusters" instead
of its id, in the API (listings, a message, its event) and the console (in English and Dutch).
Who sees both clusters gets the id."""

from __future__ import annotations

from integrator.access import Grant, Role
from tests.console.test_saved_searches import signed_in
from tests.http.test_access import World, in_cluster, world  # noqa: F401 (the fixture)

OUTSIDE = "in an event outside your clusters"


async def test_an_earlier_event_in_another_cluster_is_not_named(
    world: World,  # noqa: F811
) -> None:
    # The world's two referrals share the sample's ZD number: CARD's came first.
    earlier = world.card_event
    lab = await world.token(*in_cluster("LAB"), name="lab-everything")
    async with world.client(lab) as client:
        listed = await client.get("/api/v1/messages")
        detail = await client.get(f"/api/v1/messages/{world.lab_message}")
        event = await client.get(f"/api/v1/events/{world.lab_event}")
    for answer in (listed, detail, event):
        assert answer.status_code == 200, answer.text
        assert earlier not in answer.text
    [row] = listed.json()
    [warning] = row["warnings"]
    assert warning.startswith("new_repeated: ") and OUTSIDE in warning
    assert detail.json()["warnings"] == [warning]
    assert event.json()["zd_warnings"] == [warning]
    async with world.client(world.everything) as admin:
        named = await admin.get(f"/api/v1/messages/{world.lab_message}")
    assert f"in event {earlier}" in named.json()["warnings"][0]


async def test_nor_in_the_console_in_either_language(world: World) -> None:  # noqa: F811
    async with signed_in(world.engine, "lars@example.org", Grant(Role.VIEWER, "LAB")) as lars:
        english = await lars.get(f"/messages/{world.lab_message}")
    async with signed_in(
        world.engine, "lotte@example.org", Grant(Role.RESEND, "LAB"), lang="nl"
    ) as lotte:
        dutch = await lotte.get(f"/messages/{world.lab_message}")
    for page in (english, dutch):
        assert page.status_code == 200, page.text
        assert world.card_event not in page.text
    assert OUTSIDE in english.text
    assert "in een gebeurtenis buiten je clusters" in dutch.text
