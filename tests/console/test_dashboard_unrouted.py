"""The dashboard's count of unrouted events and the link to their page are shown to the same
people, request by request against a real engine (no browser): an unrouted event lies in no
cluster, so both need ``messages.read`` for all clusters. The dashboard asks the page's own
navigation entry (``pages.unrouted.LISTING``) rather than a copy of its rule; these cases fail
as soon as the two are decided apart again.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.console.test_saved_searches import signed_in
from tests.integrator.support import destination, settings_for

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``lab-west`` in cluster CARD, and one event of a provider nobody serves (unrouted)."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    event = load_sample("referral")
    event["provider"]["id"] = "kliniek-oost"
    await started.intake.submit(json.dumps(event), source="cli")
    yield started
    await started.stop()


@pytest.mark.parametrize(
    ("grants", "sees"),
    [
        pytest.param((Grant(Role.VIEWER),), True, id="messages.read for all clusters"),
        pytest.param((Grant(Role.VIEWER, "CARD"),), False, id="messages.read for one cluster"),
        pytest.param(
            (Grant(Role.VIEWER, "CARD"), Grant(Role.REPORTS)),
            True,
            id="for one cluster, and for all through another role",
        ),
        pytest.param(
            (Grant(Role.DESTINATIONS), Grant(Role.REPORTS, "CARD")),
            False,
            id="destinations everywhere, messages.read for one cluster",
        ),
    ],
)
async def test_the_unrouted_count_is_shown_to_who_sees_the_link_to_the_page(
    engine: Engine, grants: tuple[Grant, ...], sees: bool
) -> None:
    async with signed_in(engine, "vic@example.org", *grants) as vic:
        start = await vic.get("/")
    assert start.status_code == 200 and 'id="tile-lab-west"' in start.text
    count = re.search(r'<p id="unrouted"[^>]*>(.*?)</p>', start.text)
    link = 'href="/events/unrouted"' in start.text
    assert (count is not None, link) == (sees, sees)
    if count is not None:  # the count itself leads to the page, as the rejected input's does
        assert count.group(1) == (
            '<a id="unrouted-link" href="/events/unrouted">Events no destination serves: 1</a>'
        )


async def test_only_the_page_counts_them_not_each_refresh(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh (``/dashboard/figures``, every 5 s per open dashboard) redraws no unrouted
    count, and so asks for none: counting them reads every event (380-490 ms at 100,000
    messages). The store's own count, spied on: each call still goes to the store."""
    calls: list[None] = []
    count = engine.store.count_unrouted_events

    async def counted(**kwargs: Any) -> dict[str, int]:
        calls.append(None)
        return await count(**kwargs)

    monkeypatch.setattr(engine.store, "count_unrouted_events", counted)
    async with signed_in(engine, "vic@example.org", Grant(Role.VIEWER)) as vic:
        refreshed = await vic.get("/dashboard/figures")
        assert refreshed.status_code == 200 and 'id="figures-lab-west"' in refreshed.text
        assert calls == []
        start = await vic.get("/")
    assert 'id="unrouted"' in start.text and len(calls) == 1
