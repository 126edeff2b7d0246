"""A search by BSN on the console records how many it showed, not the row read beyond them.

Found by a review: the events and messages pages read one row more than a page holds, to
tell whether more follow, and the search's ``patient_data.view`` said ``found`` for all of
them: a page of 50 recorded 51. Request by request against a real engine, its pages made two
rows long so three events of one patient fill more than one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.console.pages import events as events_page
from integrator.console.pages import messages as messages_page
from integrator.engine import Engine
from integrator.patient_views import PATIENT_DATA_VIEW
from tests.console.started import noord_engine
from tests.console.test_kept_search_requests import BSN, search
from tests.console.test_session import accepted, client, sign_in
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Three events of one patient, each with a message to ``noord``."""
    async with noord_engine(tmp_path) as started:
        for n in range(3):
            event = make_event(zd_number=f"ZD{n + 1:09d}", bsn_hash=started.settings.bsn_hash(BSN))
            await started.store.accept_event(event, [make_message(destination_id="noord")])
        yield started


@pytest.mark.parametrize(
    ("path", "view"),
    [("/events/search", "events.search"), ("/messages/search", "messages.search")],
)
async def test_a_search_by_bsn_records_the_rows_its_page_shows(
    engine: Engine, path: str, view: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_page, "PAGE_SIZE", 2)
    monkeypatch.setattr(messages_page, "PAGE_SIZE", 2)
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        answer = await search(browser, path, bsn=BSN)
        assert answer.status_code == 303
        page = await browser.get(answer.headers["location"])
        assert page.status_code == 200
    assert page.text.count("ZD00000000") == 2  # two of the three on the page
    entries = await engine.store.list_audit(limit=1000)
    [recorded] = [e for e in entries if e.action == PATIENT_DATA_VIEW and e.target == view]
    assert recorded.details["found"] == 2
