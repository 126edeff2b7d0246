"""The dashboard's *Waiting* figure leads to the messages it counts: those of its destination
waiting for delivery (queued or retrying), not every message the destination ever had, which
is what it linked to (the waiting ones then lay among the delivered, newest first). The search
term is ``status=waiting`` (``search.WAITING``), which the command line and the API take too.
Request by request against a real engine (no browser)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.search import WAITING, BadSearch, build_filter
from integrator.store import PENDING_STATUSES
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _one(engine: Engine, status: str) -> str:
    message = make_message(destination_id="noord")
    await engine.store.accept_event(make_event(), [message])
    await engine.store.set_status(message.id, status)
    return message.id


async def test_the_waiting_figure_leads_to_the_waiting_messages_only(engine: Engine) -> None:
    by_status = {s: await _one(engine, s) for s in ("queued", "retrying", "delivered", "dead")}
    async with signed_in(engine, "sue@example.org", Grant(Role.VIEWER)) as sue:
        start = await sue.get("/")
        link = re.search(r'<a id="waiting-noord" href="([^"]+)"[^>]*>(\d+)</a>', start.text)
        assert link is not None, start.text
        href, count = html.unescape(link.group(1)), int(link.group(2))
        assert href == "/messages?destination=noord&status=waiting"
        listed = await sue.get(href)
    async with signed_in(engine, "sam@example.org", Grant(Role.VIEWER), lang="nl") as sam:
        dutch = await sam.get("/messages?destination=noord&status=waiting")
    assert listed.status_code == 200, listed.text
    shown = {s for s, message_id in by_status.items() if message_id in listed.text}
    assert shown == {"queued", "retrying"}
    assert count == len(shown)  # the figure counts what it leads to
    # The form shows the term chosen, in the person's words.
    assert '<option value="waiting" selected>waiting (queued or retrying)</option>' in listed.text
    assert "wachtend (in de wachtrij of tussen twee pogingen)" in html.unescape(dutch.text)


def test_waiting_is_a_search_term_for_every_pending_status(tmp_path: Path) -> None:
    from tests.integrator.support import settings_for

    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    flt = build_filter(settings, status=WAITING)
    assert flt.status is None
    assert flt.statuses == tuple(s.value for s in PENDING_STATUSES)
    with pytest.raises(BadSearch) as refused:
        build_filter(settings, status="wachtend")
    assert str(refused.value).endswith("cancelled, waiting"), str(refused.value)
