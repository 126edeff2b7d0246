"""Where a ZD number went, for support of one cluster; and the event page's words and ids.

Rejected input lies in no cluster and an unrouted event has no destination, so support held to
one cluster searching for such a ZD number got "No messages found" and nothing more, a dead end.
They are now told that input with this ZD number may have been refused at intake or wait
unrouted, and who can look it up: the same sentence whether there is any or not, so nothing
outside their clusters is confirmed. Who sees every cluster is told what there is, as before.

The event page said "dead" where the messages list and the message page say "dead ·
resolved" (one template now says it for all three), and took no short id where
``/messages/<start>`` and ``integrator events show <start>`` do.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from tests.conftest import load_sample
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.dead_families import dead_letter
from tests.store.factories import make_event, make_message


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _said(page: str, element: str) -> str | None:
    found = re.search(rf'id="{element}"[^>]*>(.*?)</p>', page, re.S)
    return None if found is None else _text(found.group(1)).strip()


async def _refused(engine: Engine) -> str:
    """A referral intake refuses (its event id is no UUID); its (fresh) ZD number."""
    event = load_sample("referral")
    zd_number = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event.update(event_id="not-a-uuid", zd_number=zd_number)
    with pytest.raises(InvalidEvent):
        await engine.intake.submit(json.dumps(event), source="http")
    return zd_number


UNSEEN = (
    "Expected something? Input with this ZD number may have been refused at intake, or may "
    "wait because no destination serves its provider yet. Such input lies in no cluster: "
    "people with access to all clusters can look it up (Rejected input, Unrouted events)."
)


async def test_support_of_one_cluster_is_told_where_it_may_be_without_being_told_whether(
    tmp_path: Path,
) -> None:
    async with noord_engine(tmp_path) as engine:
        refused = await _refused(engine)
        nothing = "ZD999999998"  # no input at all has it
        async with signed_in(engine, "carla@example.org", Grant(Role.RESEND, "CARD")) as carla:
            pages = {
                (kind, zd): (await carla.get(f"/{kind}?zd_number={zd}")).text
                for kind in ("messages", "events")
                for zd in (refused, nothing)
            }
        async with signed_in(
            engine, "nina@example.org", Grant(Role.RESEND, "CARD"), lang="nl"
        ) as nina:
            dutch = (await nina.get(f"/messages?zd_number={refused}")).text
        for (kind, zd), shown in pages.items():
            assert _said(shown, "zd-unseen") == UNSEEN, (kind, zd)
            assert 'id="rejected-zd"' not in shown, (kind, zd)
        # The same page for a ZD number refused and one nobody sent: no oracle.
        for kind in ("messages", "events"):
            assert pages[(kind, refused)].replace(refused, "ZD") == pages[(kind, nothing)].replace(
                nothing, "ZD"
            )
        assert "Iets verwacht? Invoer met dit ZD-nummer kan bij ontvangst geweigerd zijn" in (
            _said(dutch, "zd-unseen") or ""
        )
        # Who sees every cluster is told what there is, and the way to it.
        async with signed_in(engine, "alex@example.org", Grant(Role.RESEND)) as alex:
            for kind in ("messages", "events"):
                shown = (await alex.get(f"/{kind}?zd_number={refused}")).text
                assert 'id="zd-unseen"' not in shown, kind
                assert f'href="/rejected?zd_number={refused}"' in shown, kind
            events = _said((await alex.get(f"/events?zd_number={refused}")).text, "rejected-zd")
            assert events is not None and events.startswith(
                "No events; 1 rejected input with this ZD number: intake refused it."
            )


async def test_the_event_page_says_a_dead_message_resolved_as_the_message_page_does(
    tmp_path: Path,
) -> None:
    async with noord_engine(tmp_path) as engine:
        dead = await dead_letter(engine.store, "ZD300000002", "delivered")
        message = await engine.store.get_message(dead)
        assert message is not None
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
            event_page = await sam.get(f"/events/{message.event_id}")
            message_page = await sam.get(f"/messages/{dead}")
        assert event_page.status_code == 200, event_page.text
        row = re.search(
            rf'href="/messages/{dead}".*?class="status-dead">(.*?)</td>', event_page.text, re.S
        )
        assert row is not None, event_page.text
        assert _text(row.group(1)).strip() == "dead · resolved"
        assert "· resolved" in _text(message_page.text)


async def test_an_event_page_takes_a_start_of_its_id_as_a_message_page_does(
    tmp_path: Path,
) -> None:
    async with noord_engine(tmp_path) as engine:
        ids = ["abcd1111-0000-4000-8000-000000000001", "abcd2222-0000-4000-8000-000000000002"]
        for n, event_id in enumerate(ids):
            assert await engine.store.accept_event(
                make_event(id=event_id, zd_number=f"ZD40000000{n}"),
                [make_message(destination_id="noord")],
            )
        # One of another cluster's destination shares the start: neither listed nor counted.
        assert await engine.store.accept_event(
            make_event(id="abcd3333-0000-4000-8000-000000000003", zd_number="ZD400000009"),
            [make_message(destination_id="elders")],
        )
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
            one = await sam.get("/events/abcd1111", follow_redirects=False)
            assert one.status_code == 303, one.text
            assert one.headers["location"] == f"/events/{ids[0]}"
            assert (await sam.get("/events/ABCD1111", follow_redirects=True)).status_code == 200
            shared = await sam.get("/events/abcd")
            assert shared.status_code == 409, shared.text
            assert re.findall(r'<li><a href="/events/([^"]+)">', shared.text) == ids
            assert "Several events have an id starting like this." in _text(shared.text)
            short = await sam.get("/events/abc")
            assert short.status_code == 404
            assert _said(short.text, "lookup-short") == "Give at least 4 characters of an event id."
            elsewhere = await sam.get("/events/abcd3333")
            assert elsewhere.status_code == 404
            assert "No event you may see has this id" in _text(elsewhere.text)
