"""Links between the console's pages, only where the reader may open what they lead to: a
message's destination, a destination's messages and dead letters, a dead-letter group's
destination, the people, destinations and messages the audit trail names. Each was plain text
(or missing) for everyone; a link for who would get a 403 or 404 would be worse than none, so
each case is checked both ways, and every link shown is followed. Request by request against a
real engine (no browser)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AttemptRecord
from tests.conftest import load_sample
from tests.console.started import noord_engine
from tests.console.test_saved_searches import ORIGIN, signed_in
from tests.console.test_session import csrf
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``noord`` in CARD, with one dead letter."""
    async with noord_engine(tmp_path) as started:
        yield started


async def _dead_letter(engine: Engine) -> str:
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    at = engine.clock.now()
    attempt = AttemptRecord(message.id, 1, at, 3.0, "deadletter", error="refused")
    await engine.store.record_attempt(attempt, status="dead", last_error="refused")
    return message.id


def _hrefs(page: str, prefix: str) -> set[str]:
    return set(re.findall(rf'href="({re.escape(prefix)}[^"]*)"', page))


async def _opens(client: httpx.AsyncClient, hrefs: set[str]) -> None:
    """Every link shown opens for who was shown it."""
    for href in hrefs:
        answer = await client.get(href.replace("&amp;", "&"))
        assert answer.status_code == 200, (href, answer.status_code)


async def test_a_message_links_its_destination_for_who_may_open_it(engine: Engine) -> None:
    message_id = await _dead_letter(engine)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
        page = (await sam.get(f"/messages/{message_id}")).text
        assert 'id="destination-link" href="/destinations/noord"' in page
        await _opens(sam, {"/destinations/noord"})
    # ``reports`` reads CARD's messages but not its destinations: a link would be a 403.
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS, "CARD")) as rita:
        page = (await rita.get(f"/messages/{message_id}")).text
        assert 'id="destination-link"' not in page and "/destinations/noord" not in page
        assert (await rita.get("/destinations/noord")).status_code == 403


async def test_a_destination_links_its_messages_and_dead_letters_for_who_may_list_them(
    engine: Engine,
) -> None:
    await _dead_letter(engine)
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER, "CARD")) as vera:
        page = (await vera.get("/destinations/noord")).text
        links = _hrefs(page, "/messages?destination=") | _hrefs(page, "/deadletters?")
        assert links == {"/messages?destination=noord", "/deadletters?destination=noord"}
        await _opens(vera, links)
    # An operator manages it but reads none of its messages: no links to pages that refuse.
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS, "CARD")) as otto:
        page = (await otto.get("/destinations/noord")).text
        assert not _hrefs(page, "/messages") and not _hrefs(page, "/deadletters")
        assert (await otto.get("/deadletters?destination=noord")).status_code == 403


async def test_a_dead_letter_group_links_its_destination_for_who_may_open_it(
    engine: Engine,
) -> None:
    await _dead_letter(engine)
    header = re.compile(r'<span class="cluster"><a href="/destinations/noord">noord</a>')
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
        assert header.search((await sam.get("/deadletters")).text)
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS, "CARD")) as rita:
        page = (await rita.get("/deadletters")).text
        assert "noord" in page and not header.search(page)


async def test_the_audit_trail_links_what_its_reader_may_open(engine: Engine) -> None:
    message_id = await _dead_letter(engine)
    store = engine.store
    await store.add_audit("person:sam@example.org", "message.resend", message_id, reason="x")
    await store.add_audit("person:sam@example.org", "destination.pause", "noord", reason="x")
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")):
        pass  # sam exists now: a person the admin manages
    grants = (Grant(Role.ADMIN), Grant(Role.VIEWER))
    async with signed_in(engine, "ada@example.org", *grants) as ada:
        page = (await ada.get("/audit")).text
        assert f'<a href="/messages/{message_id}">{message_id}</a>' in page
        assert '<a href="/destinations/noord">noord</a>' in page
        sam = re.findall(r'<a href="(/people/[^"]+)">person:sam@example.org</a>', page)
        assert sam, page
        await _opens(ada, {f"/messages/{message_id}", "/destinations/noord", *sam})
    # Who reads the trail but no messages nor destinations gets those as text; the people,
    # whom they manage, stay links.
    async with signed_in(engine, "adam@example.org", Grant(Role.ADMIN)) as adam:
        page = (await adam.get("/audit")).text
        assert message_id in page and f'href="/messages/{message_id}"' not in page
        assert 'href="/destinations/noord"' not in page
        assert re.search(r'<a href="/people/[^"]+">person:sam@example.org</a>', page)


async def test_a_change_that_leaves_events_unrouted_links_their_page_for_who_may_route(
    tmp_path: Path,
) -> None:
    """The warning after a change that some events still wait unrouted for a provider the
    destination serves gave only the CLI command; who may open the *Unrouted events* page
    (``messages.read`` for all clusters) gets a link to it, narrowed to that provider."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    try:
        event = load_sample("referral")
        event["provider"]["id"] = "kliniek-oost"  # served by nobody yet: unrouted
        await engine.intake.submit(json.dumps(event), source="cli")
        change = {"providers": ["ziekenhuis-noord", "kliniek-oost"]}
        await engine.admin.patch("noord", change, actor="test")
        await engine.reload_destinations()
        for grants, linked in (
            ((Grant(Role.DESTINATIONS), Grant(Role.VIEWER)), True),
            ((Grant(Role.DESTINATIONS, "CARD"),), False),
        ):
            email = f"op-{len(grants)}@example.org"
            async with signed_in(engine, email, *grants) as op:
                token = csrf((await op.get("/")).text)
                form = {"csrf": token, "enabled": "false", "reason": "maintenance"}
                paused = await op.post("/destinations/noord/enabled", data=form, headers=ORIGIN)
                assert paused.status_code == 303
                done = (await op.get(paused.headers["location"])).text
                assert "kliniek-oost" in done  # the warning, either way
                routes = _hrefs(done, "/events/unrouted?of=")
                assert bool(routes) is linked, done
                if linked:
                    assert "Route them on the Unrouted events page" in done
                    await _opens(op, routes)
                # The destination page's own resume (as after an edit or an add) says it too.
                token = csrf((await op.get("/destinations/noord")).text)
                form = {"csrf": token, "enabled": "true", "reason": "done"}
                resumed = await op.post("/destinations/noord/state", data=form, headers=ORIGIN)
                assert resumed.status_code == 303
                page = (await op.get(resumed.headers["location"])).text
                assert "kliniek-oost" in page
                assert bool(_hrefs(page, "/events/unrouted?of=")) is linked, page
    finally:
        await engine.stop()
