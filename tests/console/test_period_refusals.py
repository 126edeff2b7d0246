"""The console's period fields refuse, in Dutch and beside the field, a period that ends before
it starts and a local time the zone has twice or not at all, as the CLI and the API do
(``tests/integrator/test_period_refusals.py``). Request by request against a real engine."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import beside, dutch, problems
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for
from tests.services import free_port

PAGES = {"/messages": "", "/audit": "a-", "/events": "e-", "/rejected": "r-", "/deadletters": "d-"}
"""Each page with period fields, and how its fields' ids start."""
PERIOD = "de periode begint op of na het einde; geef een begin dat vóór het einde ligt"
GRANTS = (Grant(Role.ADMIN), Grant(Role.RESEND), Grant(Role.REPORTS))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    noord = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(noord))
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def test_a_period_that_ends_before_it_starts_is_refused_beside_until(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", *GRANTS, lang="nl") as sam:
        for path, prefix in PAGES.items():
            answer = await sam.get(path, params={"since": "2h", "until": "3h"})
            assert answer.status_code in (200, 422), answer.text
            shown = beside(answer, f"{prefix}until")
            assert shown == PERIOD, shown  # beside the field, so without its name
        confirm = await post(
            sam, "/messages/resend/confirm", {"since": "2026-11-27", "until": "2026-11-26"}
        )
    assert confirm.status_code == 422, confirm.text
    dutch(html.unescape(confirm.text), "tot: de periode begint op of na het einde")


async def test_ambiguous_and_skipped_local_times_are_refused_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", *GRANTS, lang="nl") as sam:
        for path, prefix in PAGES.items():
            twice = await sam.get(path, params={"since": "2026-10-25T02:30"})
            dutch(
                beside(twice, f"{prefix}since"),
                "2026-10-25T02:30 is dubbelzinnig in Europe/Amsterdam",
                "2026-10-25T02:30+02:00 is de eerste keer",
            )
            skipped = await sam.get(path, params={"until": "2026-03-29T02:30"})
            dutch(
                beside(skipped, f"{prefix}until"),
                "2026-03-29T02:30 bestaat niet in Europe/Amsterdam",
                "bijv. 2026-03-29T02:30+01:00",
            )
            offset = await sam.get(path, params={"since": "2026-10-25T02:30+01:00"})
            assert offset.status_code == 200, (path, problems(offset))


async def test_a_refused_date_leaves_every_field_as_it_was_typed(engine: Engine) -> None:
    """``01-12-2026`` is how a Dutch support person writes a date. The events and dead-letter
    pages answered it with every field emptied, the error beside an empty field; every page
    now keeps what was typed, as the messages page did."""
    typed = {"since": "01-12-2026", "until": "2h"}
    async with signed_in(engine, "sam@example.org", *GRANTS, lang="nl") as sam:
        for path, prefix in PAGES.items():
            answer = await sam.get(path, params=typed)
            assert answer.status_code == 422, (path, answer.text)
            assert beside(answer, f"{prefix}since"), path
            for name, value in typed.items():
                assert _value_of(answer.text, f"{prefix}{name}") == value, (path, name)
        with_destination = await sam.get("/deadletters", params={**typed, "destination": "noord"})
        assert 'value="noord" selected' in with_destination.text
        # One there is not is never drawn into the page, whatever the address held.
        typo = await sam.get("/deadletters", params={**typed, "destination": "nord"})
        assert 'value="nord"' not in typo.text
        events = await sam.get("/events", params={**typed, "zd_number": "ZD100000001"})
        assert _value_of(events.text, "e-zd_number") == "ZD100000001"
        # A term holding a BSN is never shown back, on any page.
        pasted = await sam.get("/events", params={"since": "01-12-2026", "provider": "123456782"})
        assert "123456782" not in pasted.text


def _value_of(page: str, field_id: str) -> str:
    """The ``value`` of the input with ``field_id`` as the page was drawn."""
    found = re.search(rf'<input id="{re.escape(field_id)}"[^>]*?value="([^"]*)"', page)
    assert found, field_id
    return html.unescape(found.group(1))
