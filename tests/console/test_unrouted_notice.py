"""A message search by ZD number that finds nothing says when the referral arrived unrouted.

"No messages" alone read as "never received us", and the support person told the GP so, when
the event had arrived and no destination served its provider: the classic reason a referral
never arrives. Unrouted events lie in no cluster, so only who reads every cluster is told, as
the unrouted page is theirs. Request by request against a real engine.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in

ZD = "ZD200000009"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    # Cluster CARD's one destination serves another provider: the referral's event is unrouted.
    async with noord_engine(tmp_path, providers=("kliniek-oost",)) as started:
        yield started


async def test_a_zd_number_that_arrived_unrouted_is_said_with_a_link(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    event = copy.deepcopy(referral_data)
    event["event_id"], event["zd_number"] = str(uuid.uuid4()), ZD
    assert not (await engine.intake.submit(json.dumps(event), source="cli")).messages
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        page = await sam.get("/messages", params={"zd_number": ZD.lower()})
        assert page.status_code == 200, page.text
        assert 'id="no-messages"' in page.text
        assert 'id="unrouted-zd"' in page.text
        assert "er kwam 1 gebeurtenis met dit ZD-nummer binnen" in page.text
        assert f'href="/events?zd_number={ZD}&amp;unrouted=1"' in page.text
        listed = await sam.get("/events", params={"zd_number": ZD, "unrouted": "1"})
        assert listed.status_code == 200 and ZD in listed.text
        other = await sam.get("/messages", params={"zd_number": "ZD200000010"})
        assert 'id="no-messages"' in other.text and 'id="unrouted-zd"' not in other.text
    async with signed_in(engine, "carla@example.org", Grant(Role.VIEWER, "CARD")) as carla:
        scoped = await carla.get("/messages", params={"zd_number": ZD})
    assert 'id="no-messages"' in scoped.text and 'id="unrouted-zd"' not in scoped.text
