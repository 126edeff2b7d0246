"""A message search by ZD number or BSN that other terms narrowed to nothing says how many of the
referral's messages those terms left out.

Before, such a search said where the referral went instead ("no messages for this BSN; 1
rejected input of this patient"), read by support as the referral's fate while its message lay
at another status or destination. Now the messages left out are said, and, by ZD number, a link
searches by it alone; by BSN the page never shows the BSN. Counted in the person's clusters
only (``tests/integrator/test_cli_messages_bsn_elsewhere.py`` holds the count to a scope).
Request by request against a real engine.
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
from integrator.store import RejectedKeys
from tests.console.started import noord_engine
from tests.console.test_saved_searches import post, signed_in

BSN = "999990019"  # the sample referral's patient
ZD = "ZD200000027"
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    # Cluster CARD's destination serves the referral's provider; nothing answers on its port,
    # so its message is never delivered.
    async with noord_engine(tmp_path) as started:
        yield started


async def _referral(engine: Engine, referral_data: dict[str, Any]) -> None:
    """The referral, made a message; and an earlier try of it that intake refused."""
    event = copy.deepcopy(referral_data)
    event["event_id"], event["zd_number"] = str(uuid.uuid4()), ZD
    assert event["patient"]["bsn"] == BSN
    assert len((await engine.intake.submit(json.dumps(event), source="cli")).messages) == 1
    keys = RejectedKeys(zd_number=ZD, bsn_hash=engine.settings.bsn_hash(BSN))
    await engine.store.reject_event(b"{}", "http", RULES, keys)


async def test_by_zd_number_the_messages_left_out_are_said_with_a_search_by_it_alone(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _referral(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        page = await sam.get("/messages", params={"zd_number": ZD, "status": "delivered"})
        assert page.status_code == 200, page.text
        assert 'id="no-messages"' in page.text and 'id="outside-terms"' in page.text
        assert "1 bericht met dit ZD-nummer valt buiten de andere zoektermen" in page.text
        assert f'href="/messages?zd_number={ZD}"' in page.text
        assert 'id="rejected-zd"' not in page.text  # not the referral's fate: it is a message
        alone = await sam.get("/messages", params={"zd_number": ZD})
        assert 'id="no-messages"' not in alone.text and 'id="outside-terms"' not in alone.text


async def test_by_bsn_the_messages_left_out_are_said_without_the_bsn(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _referral(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        made = await post(sam, "/messages/search", {"bsn": BSN, "status": "delivered"})
        assert made.status_code == 303, made.text
        page = await sam.get(made.headers["location"])
        assert page.status_code == 200, page.text
        assert 'id="outside-terms"' in page.text
        assert "but 1 message of this patient falls outside the other terms" in page.text
        assert "for this BSN" not in page.text and 'id="rejected-bsn"' not in page.text
        assert BSN not in page.text and "999 990 019" not in page.text
