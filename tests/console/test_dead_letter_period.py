"""The console's dead-letter page takes a period on when they died, as ``deadletter list
--since/--until`` does: the groups show only what died in it, and the period travels with the
ticked ones into the confirmation and the resend, which count and resend only those (a page
posted again after one died anew, outside the period, leaves it out in words). Request by
request against a real engine; the refusals beside the fields are in
``tests/console/test_period_refusals.py``."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await started.start()
    yield started
    await started.stop()


async def _died_now(engine: Engine) -> str:
    """A dead letter to noord that died just now (never delivered); its id."""
    message = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(make_event(), [message])
    await engine.store.set_status(message.id, "dead", last_error="AR from the receiver")
    return message.id


def _count(answer: str) -> str:
    found = re.search(r'<p id="confirm-count" role="status">(.*?)</p>', answer, re.S)
    assert found, answer
    return html.unescape(found.group(1))


async def test_the_period_narrows_the_groups_and_is_carried_into_the_confirmation(
    engine: Engine,
) -> None:
    message_id = await _died_now(engine)
    async with signed_in(engine, "sanne@example.org", Grant(Role.RESEND), lang="nl") as sanne:
        page = await sanne.get("/deadletters", params={"since": "1h"})
        assert page.status_code == 200, page.text
        assert f'id="pick-{message_id}"' in page.text
        assert '<label for="d-since">Onbestelbaar vanaf</label>' in page.text
        assert 'value="1h"' in page.text  # the period stays in its field...
        assert '<input type="hidden" name="since" value="1h">' in page.text  # ...and its forms
        earlier = await sanne.get("/deadletters", params={"until": "1h"})
        assert earlier.status_code == 200, earlier.text
        assert f'id="pick-{message_id}"' not in earlier.text
        assert 'id="dead-empty"' in earlier.text

        # Ticked in the period it died in: counted, and the resend form carries the period.
        shown = await post(
            sanne, "/deadletters/confirm", {"action": "resend", "ids": message_id, "since": "1h"}
        )
        assert shown.status_code == 200, shown.text
        assert _count(shown.text).startswith("1 bericht(en) gekozen; 1 zou(den) herzonden")
        assert '<input type="hidden" name="since" value="1h">' in shown.text

        # The same tick posted with a period it did not die in (a stale page): left out, said.
        stale = await post(
            sanne, "/deadletters/confirm", {"action": "resend", "ids": message_id, "until": "1h"}
        )
        assert stale.status_code == 200, stale.text
        assert "1 bericht(en) gekozen; 0 zou(den) herzonden" in _count(stale.text)
        said = html.unescape(stale.text)
        assert "buiten de getoonde periode onbestelbaar geworden; niet herzonden" in said
        assert 'id="confirm-nothing"' in stale.text
    assert await engine.store.list_resends(message_id) == (None, [])
