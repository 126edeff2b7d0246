"""The *Unrouted events* page never puts a provider id in an address, request by request against
a real engine: upstream may write anything in an event's ``provider.id`` (a BSN, a name and a
birth date), so the page's links name a provider by an opaque handle, which shows the same
events as the id; a BSN typed as ``?provider=`` is refused as the *Events* page refuses it,
naming the term and never the value; the routing forms carry the provider in their body.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store.records import EventFilter
from tests.console.started import started_engine
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in
from tests.integrator.support import destination
from tests.services import free_port
from tests.store.factories import make_event

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BSN = "999990019"  # the sample referral's patient: passes the eleven-test
NAME = "Pietje Puk 1980-01-01"
PROVIDERS = {BSN: 3, NAME: 2, "ziekenhuis-west": 1}
"""Provider ids as upstream wrote them, and how many unrouted events each has."""
REFUSAL = "provider: this looks like a BSN: search by BSN instead"


def spellings(value: str) -> set[str]:
    """``value`` as an address or an HTML attribute could hold it."""
    return {value, quote(value), quote_plus(value), quote(value, safe=""), value.replace(" ", "+")}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Unrouted events of ``PROVIDERS``; a destination ``puk`` serves ``NAME`` (so the page
    offers to route that provider's events)."""
    async with started_engine(tmp_path, START) as started:
        n = 0
        for provider, count in PROVIDERS.items():
            for _ in range(count):
                n += 1
                event = make_event(
                    zd_number=f"ZD{200000000 + n}",
                    provider_id=provider,
                    received_at=START + timedelta(minutes=n),
                )
                assert await started.store.accept_event(event, [])
        config = destination("puk", free_port(), providers=[NAME])
        await started.admin.add(dump_destination(config), actor="local:root")
        yield started


def listed_ids(text: str) -> set[str]:
    """The events the listing shows, by their links (an event nobody serves has no tick)."""
    tables = re.findall(r'<table id="unrouted-events"[^>]*>.*?</table>', text, re.S)
    return {i for table in tables for i in re.findall(r'<a href="/events/([0-9a-f-]{36})">', table)}


async def unrouted_of(engine: Engine, provider: str) -> set[str]:
    found = await engine.store.list_events(
        EventFilter(provider_id=provider, unrouted=True), limit=1000
    )
    return {e.id for e in found}


async def test_the_links_name_no_provider_and_each_handle_shows_that_providers_events(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/events/unrouted")
        assert shown.status_code == 200
        addresses = re.findall(r'(?:href|action)="([^"]*)"', shown.text)
        for provider in PROVIDERS:
            for spelling in spellings(provider):
                assert not [a for a in addresses if spelling in a], (provider, addresses)
        links = dict(
            re.findall(r'<a href="(/events/unrouted\?of=[0-9a-f]{32})">([^<]*)</a>', shown.text)
        )
        assert sorted(links.values()) == sorted(PROVIDERS)
        for link, provider in links.items():
            narrowed = await sam.get(link)
            assert narrowed.status_code == 200
            assert listed_ids(narrowed.text) == await unrouted_of(engine, provider)
            assert f"Only provider {provider}." in narrowed.text
            # The language switch returns to the handle's page, not to the id's.
            assert f'name="next" value="{link}"' in narrowed.text
        # A provider id typed by hand still narrows it, when it is no BSN.
        typed = await sam.get("/events/unrouted", params={"provider": NAME})
        assert typed.status_code == 200
        assert listed_ids(typed.text) == await unrouted_of(engine, NAME)


async def test_the_routing_forms_carry_the_provider_in_their_body(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/events/unrouted")
        forms = re.findall(r"<form [^>]*>", shown.text)
        routing = [f for f in forms if "/events/route" in f]
        assert routing and all('method="post"' in f for f in routing)
        assert all(re.search(r'action="/events/route(/confirm)?"', f) for f in routing)
        assert f'<input type="hidden" name="provider" value="{NAME}">' in shown.text
        # And the confirmation it leads to counts that provider's events.
        confirm = await sam.post(
            "/events/route/confirm",
            data={"csrf": csrf(shown.text), "provider": NAME},
            headers=ORIGIN,
        )
        assert confirm.status_code == 200
        assert "2 unrouted events of provider Pietje Puk 1980-01-01;" in confirm.text


@pytest.mark.parametrize("typed", [BSN, "999 990 019", "999.990.019", f"lab {BSN}"])
async def test_a_bsn_typed_as_provider_is_refused_naming_the_term(
    engine: Engine, typed: str
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        refused = await sam.get("/events/unrouted", params={"provider": typed})
    assert refused.status_code == 422
    assert REFUSAL in refused.text
    for spelling in spellings(typed) | spellings(BSN):
        assert spelling not in refused.text, spelling
    assert 'name="ids"' not in refused.text  # nothing listed


async def test_the_refusal_is_said_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "daan@example.org", Grant(Role.RESEND), lang="nl") as daan:
        refused = await daan.get("/events/unrouted", params={"provider": BSN})
    assert refused.status_code == 422
    assert "dit lijkt op een BSN: zoek in plaats daarvan op BSN" in refused.text
    assert BSN not in refused.text


async def test_a_handle_that_names_no_provider_any_more_lists_nothing(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        gone = await sam.get("/events/unrouted", params={"of": "0" * 32})
        assert gone.status_code == 404
        assert "has no unrouted events any more" in gone.text
        assert listed_ids(gone.text) == set()  # not every provider's, as no filter would
        assert "Only provider" not in gone.text
        too_long = await sam.get("/events/unrouted", params={"of": "0" * 33})
        assert too_long.status_code == 422
