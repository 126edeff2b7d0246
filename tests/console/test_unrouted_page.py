"""The *Unrouted events* page, request by request against a real engine (no browser): it
counts and offers providers over all unrouted events, not the newest 200 it lists; it is only
for who holds its permissions for all clusters (an unrouted event lies in none); and routing
acts once, its result a page of its own (Post/Redirect/Get), a provider's only after a
confirmation that says how many and to where.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store.records import ROUTE_ACTION, EventFilter
from tests.conftest import load_sample
from tests.console.started import started_engine
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in
from tests.integrator.support import destination
from tests.services import free_port
from tests.store.factories import make_event

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WEST = "ziekenhuis-west"
OOST = "ziekenhuis-oost"


async def _submit(engine: Engine, provider: str) -> str:
    """A referral of ``provider`` through intake (it can be mapped when routed); its id."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["provider"] = {**event["provider"], "id": provider}
    result = await engine.intake.submit(json.dumps(event), source="http")
    assert result.messages == ()
    return result.event_id


async def _serve(engine: Engine, dest_id: str, provider: str) -> None:
    config = destination(dest_id, free_port(), providers=[provider])
    await engine.admin.add(dump_destination(config), actor="local:root")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Two unrouted events of ``ziekenhuis-west``, then 205 newer of ``ziekenhuis-oost``;
    destination ``west`` (cluster CARD) added afterwards serves the first."""
    async with started_engine(tmp_path, START) as started:
        for _ in range(2):
            await _submit(started, WEST)
        for n in range(205):
            newer = make_event(
                zd_number=f"ZD{200000000 + n}",
                provider_id=OOST,
                received_at=START + timedelta(minutes=1 + n),
            )
            assert await started.store.accept_event(newer, [])
        await _serve(started, "west", WEST)
        yield started


async def _form(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    """Post a form of the console, as its page holds it: its CSRF token, and what is given."""
    page = await client.get("/messages")
    return await client.post(url, data={"csrf": csrf(page.text), **data}, headers=ORIGIN)


def _once(text: str) -> str:
    found = re.search(r'name="once" value="([^"]+)"', text)
    assert found is not None, text
    return found.group(1)


async def _routings(engine: Engine) -> int:
    entries = await engine.store.list_audit(limit=10_000)
    return sum(e.action == ROUTE_ACTION for e in entries)


async def _unrouted(engine: Engine, provider: str) -> int:
    return (await engine.store.count_unrouted_events()).get(provider, 0)


async def test_the_page_says_it_is_cut_and_offers_every_provider_over_all_events(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/events/unrouted")
        only_west = await sam.get("/events/unrouted", params={"provider": WEST})
    assert shown.status_code == 200
    text = shown.text
    # The 200 newest are ziekenhuis-oost's, which nobody serves: none is offered to route
    # (routing it made nothing, under a heading that said "Routed"), and the page says why.
    assert text.count('name="ids"') == 0 and 'id="unrouted-none-routable"' in text
    assert "Route now" not in text
    assert "200 of 207 shown, newest first" in text
    # Both providers, counted over all unrouted events; the one now served can be routed,
    # the one nobody serves is said to be so, not offered.
    rows = re.findall(r'<tr id="provider-\d+">(.*?)</tr>', text, re.S)
    assert len(rows) == 2
    west = next(r for r in rows if WEST in r)
    oost = next(r for r in rows if OOST in r)
    assert '">2</td>' in west and '">west</td>' in west and "/events/route/confirm" in west
    assert '">205</td>' in oost and "no destination serves it yet" in oost
    assert "/events/route/confirm" not in oost
    # The listing narrowed to one provider: its two events, all of them shown, both offered.
    assert only_west.text.count('name="ids"') == 2 and "Route now" in only_west.text
    assert "2 unrouted events." in only_west.text
    assert "Only provider ziekenhuis-west." in only_west.text


async def test_the_cut_is_said_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "daan@example.org", Grant(Role.RESEND), lang="nl") as daan:
        shown = await daan.get("/events/unrouted")
    assert "200 van 207 getoond, nieuwste eerst" in shown.text
    assert "nog geen bestemming bedient deze" in shown.text


ONE_CLUSTER = (Grant(Role.RESEND, "CARD"),)


async def test_one_clusters_support_is_refused_every_route(engine: Engine) -> None:
    """``resend`` (and ``reports``) for cluster CARD only: each route of the page is a 403
    saying why, never an empty list; nothing is routed or exported."""
    [west_event] = await engine.store.list_events(
        EventFilter(provider_id=WEST, unrouted=True), limit=1
    )
    grants = (*ONE_CLUSTER, Grant(Role.REPORTS, "CARD"))
    async with signed_in(engine, "carl@example.org", *grants) as carl:
        listing = await carl.get("/events/unrouted")
        export = await carl.get("/events/unrouted.csv")
        confirm = await _form(carl, "/events/route/confirm", {"provider": WEST})
        routed = await _form(carl, "/events/route", {"ids": west_event.id, "reason": "x"})
        result = await carl.get(f"/events/routed/{uuid.uuid4()}")
    for answer in (listing, export, confirm, routed, result):
        assert answer.status_code == 403, (answer.request.url, answer.text)
        assert "lies in no cluster" in answer.text
        assert "No unrouted events" not in answer.text
    async with signed_in(engine, "cas@example.org", *ONE_CLUSTER, lang="nl") as cas:
        dutch = await cas.get("/events/unrouted")
    assert dutch.status_code == 403 and "ligt in geen cluster" in dutch.text
    assert await _unrouted(engine, WEST) == 2 and await _routings(engine) == 0
    exports = [e for e in await engine.store.list_audit(limit=100) if e.action == "events.export"]
    assert exports == []


async def test_all_clusters_support_still_gets_the_pages(engine: Engine) -> None:
    grants = (Grant(Role.RESEND), Grant(Role.REPORTS))
    async with signed_in(engine, "sam@example.org", *grants) as sam:
        listing = await sam.get("/events/unrouted")
        export = await sam.get("/events/unrouted.csv")
        confirm = await _form(sam, "/events/route/confirm", {"provider": WEST})
    assert listing.status_code == export.status_code == confirm.status_code == 200


async def test_a_reload_of_the_result_routes_nothing_again(engine: Engine) -> None:
    [first, second] = await engine.store.list_events(
        EventFilter(provider_id=WEST, unrouted=True), limit=2
    )
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        event_page = await sam.get(f"/events/{first.id}")
        token = _once(event_page.text)
        posted = await _form(
            sam, "/events/route", {"ids": first.id, "reason": "west serves it", "once": token}
        )
        assert posted.status_code == 303
        result_url = posted.headers["location"]
        assert re.fullmatch(r"/events/routed/[0-9a-f]+", result_url), result_url
        shown = await sam.get(result_url)
        reloaded = await sam.get(result_url)
        # The same form posted again (Back and submit): the first post's result, not a second.
        again = await _form(
            sam, "/events/route", {"ids": first.id, "reason": "west serves it", "once": token}
        )
        again_shown = await sam.get(again.headers["location"])
    assert "1 of 1 event routed." in shown.text
    assert "1 of 1 event routed." in reloaded.text
    assert again.status_code == 303 and again.headers["location"] == f"{result_url}?again=1"
    assert "nothing was routed again" in again_shown.text
    assert await _routings(engine) == 1
    made = await engine.store.list_events(EventFilter(event_ids=(first.id,)), limit=1)
    assert [e.message_count for e in made] == [1]
    assert await _unrouted(engine, WEST) == 1  # the other is left as it was
    assert second.id != first.id


async def test_routing_an_event_nobody_serves_is_headed_nothing_routed(engine: Engine) -> None:
    """A page loaded before its provider stopped being served, or a form made by hand: the
    result said "Routed" above "0 of 1 event routed"."""
    [oost] = await engine.store.list_events(EventFilter(provider_id=OOST), limit=1)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        token = _once((await sam.get("/events/unrouted", params={"provider": OOST})).text)
        posted = await _form(
            sam, "/events/route", {"ids": oost.id, "reason": "try it", "once": token}
        )
        shown = await sam.get(posted.headers["location"])
    assert "<h1>Nothing routed</h1>" in shown.text and "0 of 1 event routed." in shown.text


async def test_a_provider_is_routed_only_once_its_count_is_confirmed(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        confirm = await _form(sam, "/events/route/confirm", {"provider": WEST})
        assert confirm.status_code == 200
        # Asked, not done: the count and where they would go.
        assert await _unrouted(engine, WEST) == 2 and await _routings(engine) == 0
        count = re.search(r'<p id="confirm-count"[^>]*>(.*?)</p>', confirm.text)
        assert count is not None
        assert (
            count.group(1)
            == "2 unrouted events of provider ziekenhuis-west; 2 would be routed now."
        )
        assert re.search(r"<tr><td [^>]*>west</td><td [^>]*>2</td></tr>", confirm.text)
        # A provider nobody serves is not offered: nothing would be routed, no button.
        unserved = await _form(sam, "/events/route/confirm", {"provider": OOST})
        assert "205 unrouted events of provider ziekenhuis-oost; 0 would be" in unserved.text
        assert 'name="once"' not in unserved.text
        routed = await _form(
            sam,
            "/events/route",
            {"provider": WEST, "reason": "west serves it", "once": _once(confirm.text)},
        )
        assert routed.status_code == 303
        result = await sam.get(routed.headers["location"])
    assert "2 of 2 events routed." in result.text
    assert await _unrouted(engine, WEST) == 0 and await _routings(engine) == 2


async def test_a_provider_nobody_serves_is_said_so_on_its_confirmation(tmp_path: Path) -> None:
    async with started_engine(tmp_path, START) as engine:
        await _submit(engine, OOST)
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
            confirm = await _form(sam, "/events/route/confirm", {"provider": OOST})
        assert "1 unrouted event of provider ziekenhuis-oost; 0 would be routed now." in (
            confirm.text
        )
        assert "no destination serves provider &#39;ziekenhuis-oost&#39; yet" in confirm.text
        assert 'name="once"' not in confirm.text  # nothing to confirm
        assert await _routings(engine) == 0


async def test_a_provider_route_without_its_confirmation_does_nothing(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        listing = await sam.get("/events/unrouted")
        # The listing's token is for ticked events: it cannot route a whole provider.
        refused = await _form(
            sam,
            "/events/route",
            {"provider": WEST, "reason": "x", "once": _once(listing.text)},
        )
    assert refused.status_code == 422
    assert "this confirmation is no longer valid" in refused.text
    assert await _unrouted(engine, WEST) == 2 and await _routings(engine) == 0


async def test_routing_with_nothing_ticked_says_so_on_the_listing_with_the_reason_kept(
    engine: Engine,
) -> None:
    """Posting the listing's form without a tick: the listing again (422), saying to tick an
    event, the reason typed still in its field; nothing routed, and the form works once
    mended (its token was not used up)."""
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        listing = await sam.get("/events/unrouted", params={"provider": WEST})
        refused = await _form(
            sam,
            "/events/route",
            {
                "reason": "west serves them now",
                "once": _once(listing.text),
                "listing": "true",
                "list_provider": WEST,
            },
        )
        assert refused.status_code == 422, refused.text
        assert await _routings(engine) == 0
        [first] = await engine.store.list_events(
            EventFilter(provider_id=WEST, unrouted=True), limit=1
        )
        mended = await _form(
            sam,
            "/events/route",
            {"ids": first.id, "reason": "west serves them now", "once": _once(refused.text)},
        )
        assert mended.status_code == 303, mended.text
    problem = re.search(r'<p class="problem" [^>]*id="route-refused"[^>]*>(.*?)</p>', refused.text)
    assert problem is not None, refused.text
    assert problem.group(1) == "say which events: tick them, or choose a provider"
    assert "selection" not in problem.group(1)
    assert 'value="west serves them now"' in refused.text
    assert "<title>Refused:" in refused.text
    assert 'id="unrouted-events"' in refused.text  # the list to tick in, not a bare page
    assert await _routings(engine) == 1


async def test_a_blank_reason_is_refused_beside_its_field_with_the_ticks_kept(
    engine: Engine,
) -> None:
    # One a destination serves: only such an event is offered to route.
    [first] = await engine.store.list_events(EventFilter(provider_id=WEST, unrouted=True), limit=1)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        listing = await sam.get("/events/unrouted", params={"provider": WEST})
        refused = await _form(
            sam,
            "/events/route",
            {
                "ids": first.id,
                "reason": "   ",
                "once": _once(listing.text),
                "listing": "true",
                "list_provider": WEST,
            },
        )
    assert refused.status_code == 422, refused.text
    assert re.search(
        rf'<input type="checkbox" id="pick-{first.id}" name="ids" value="{first.id}" checked',
        refused.text,
    ), refused.text
    error = re.search(
        r'<p class="field-error" id="route-reason-error"[^>]*>(.*?)</p>', refused.text
    )
    assert error is not None, refused.text
    assert error.group(1) == "een reden is verplicht (die komt in de audittrail)"
    assert 'aria-invalid="true"' in refused.text and 'id="route-refused"' not in refused.text
    assert await _routings(engine) == 0


async def test_a_refusal_keeps_the_page_it_came_from(engine: Engine) -> None:
    """A blank reason (the browser's ``required`` lets spaces through) on the listing filtered
    by a provider, on a provider's confirmation or on one event's *Route now*: that page again
    (422), the refusal beside the reason, its filter, ticks and counts kept; nothing routed."""
    west = [e.id for e in await engine.store.list_events(EventFilter(provider_id=WEST))]
    assert len(west) == 2
    blank = {"reason": "   "}
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        filtered = await sam.get("/events/unrouted", params={"provider": WEST})
        listing = await sam.post(
            "/events/route",
            data={
                "csrf": csrf(filtered.text),
                "once": _once(filtered.text),
                "listing": "true",
                "list_provider": WEST,
                "ids": west,
                **blank,
            },
            headers=ORIGIN,
        )
        confirmed = await _form(sam, "/events/route/confirm", {"provider": WEST})
        confirmation = await _form(
            sam, "/events/route", {"provider": WEST, "once": _once(confirmed.text), **blank}
        )
        shown = await sam.get(f"/events/{west[0]}")
        one = await _form(
            sam,
            "/events/route",
            {"ids": west[0], "from_event": "true", "once": _once(shown.text), **blank},
        )
    for refused in (listing, confirmation, one):
        assert refused.status_code == 422, refused.text
        assert 'id="route-reason-error"' in refused.text, refused.text
    for event_id in west:  # the filter kept: only west's, both still ticked
        assert f'id="pick-{event_id}" name="ids" value="{event_id}" checked' in listing.text
    assert 'id="confirm-count"' in confirmation.text  # the confirmation, not a bare page
    assert f'name="ids" value="{west[0]}"' in one.text and 'name="from_event"' in one.text
    assert await _routings(engine) == 0


async def test_one_clusters_search_for_unrouted_events_is_refused_not_an_empty_list(
    engine: Engine,
) -> None:
    """The events page's "unrouted" term too: for a person held to cluster CARD it listed
    nothing (an unrouted event lies in no cluster), which read as "none waiting"."""
    async with signed_in(engine, "carl@example.org", Grant(Role.VIEWER, "CARD")) as carl:
        refused = await carl.get("/events?unrouted=1")
        found = await carl.get("/events?zd_number=ZD200000001")
    assert refused.status_code == 403 and "lies in no cluster" in refused.text
    assert found.status_code == 200  # a search without the term is narrowed, as before
    async with signed_in(engine, "sam@example.org", Grant(Role.VIEWER)) as sam:
        listed = await sam.get("/events?unrouted=1")
    assert listed.status_code == 200 and "ZD200000204" in listed.text
