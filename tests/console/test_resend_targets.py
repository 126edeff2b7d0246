"""The resend form's *Other destination* offers only destinations a resend would take: in the
person's clusters and taking the message's event type (a remap to one that takes none is
skipped by the resend, ``resend.skip.event_type_not_taken``, which the form used to reveal only
after the preview). Request by request against a real engine."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    configs = [
        destination("noord", 2575, providers=["ziekenhuis-noord"]),
        destination("zuid", 2576, providers=["ziekenhuis-zuid"]),
        # A laboratory: diagnostic requests only.
        destination("lab", 2577, providers=["lab"], messages={"diagnostic_request": "orm-v3"}),
        destination("elders", 2578, providers=["elders"], cluster="LAB"),
    ]
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog([(f"{c.id}.yaml", c) for c in configs], today=date(2026, 11, 27)),
    )
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def _targets(page: str) -> list[str]:
    found = re.search(r'<select id="resend-to" name="to">(.*?)</select>', page, re.S)
    assert found, page
    return re.findall(r'<option value="([^"]*)"', found[1])


async def test_other_destination_offers_only_those_that_take_the_event_type(
    engine: Engine,
) -> None:
    sample = load_sample("referral")
    event = make_event(zd_number=sample["zd_number"], payload=sample)
    referral = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(event, [referral])
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
        page = await sam.get(f"/messages/{referral.id}")
        assert page.status_code == 200, page.text
        # Not itself, not lab (no referrals), not elders (cluster LAB).
        assert _targets(page.text) == ["", "zuid"]
        # Asked for all the same (a form of before), the resend still says why not.
        refused = await post(
            sam,
            f"/messages/{referral.id}/resend/preview",
            {"reason": "GP called", "mode": "remap", "to": "lab"},
        )
    assert "takes no referral messages" in refused.text, refused.text
