"""A message search by ZD number or BSN that finds messages also says what intake refused of that
referral or patient, and what arrived for a provider no destination serves, "besides these".

A support walkthrough: the patient's older referral was delivered, their newest refused at
intake; the search by BSN showed one delivered message and nothing more, and support told the
GP it arrived. The page never shows the BSN; the unrouted events are reached by posting the
kept search's handle. Request by request against a real engine.
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
DELIVERED_ZD = "ZD200000035"
REFUSED_ZD = "ZD200000043"
RULES = [{"path": "priority", "rule": "allowed_values", "message": "must be routine or urgent"}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:  # serves the referral's provider
        yield started


async def _older_sent_newest_refused(engine: Engine, referral_data: dict[str, Any]) -> None:
    """The patient's older referral, made a message; their newest refused at intake; and one
    for a provider no destination serves."""
    older = copy.deepcopy(referral_data)
    older["event_id"], older["zd_number"] = str(uuid.uuid4()), DELIVERED_ZD
    assert len((await engine.intake.submit(json.dumps(older), source="cli")).messages) == 1
    keys = RejectedKeys(zd_number=REFUSED_ZD, bsn_hash=engine.settings.bsn_hash(BSN))
    await engine.store.reject_event(b"{}", "http", RULES, keys)
    elsewhere = copy.deepcopy(referral_data)
    elsewhere["event_id"], elsewhere["zd_number"] = str(uuid.uuid4()), "ZD200000051"
    elsewhere["provider"]["id"] = "kliniek-oost"
    assert not (await engine.intake.submit(json.dumps(elsewhere), source="cli")).messages


async def test_by_bsn_the_patient_s_refused_and_unrouted_input_is_said_beside_the_messages(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _older_sent_newest_refused(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        made = await post(sam, "/messages/search", {"bsn": BSN})
        assert made.status_code == 303, made.text
        page = await sam.get(made.headers["location"])
        assert page.status_code == 200, page.text
        assert 'id="found"' in page.text and DELIVERED_ZD in page.text
        assert "Daarnaast weigerde de intake 1 invoer van deze patiënt" in page.text
        assert 'id="also-unrouted"' in page.text and 'id="also-unrouted-show"' in page.text
        assert "kwam er 1 gebeurtenis van deze patiënt binnen" in page.text
        assert BSN not in page.text and "999 990 019" not in page.text


async def test_by_zd_number_input_refused_with_it_is_said_beside_the_messages(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _older_sent_newest_refused(engine, referral_data)
    keys = RejectedKeys(zd_number=DELIVERED_ZD)
    await engine.store.reject_event(b"{}", "http", RULES, keys)  # an earlier try of it
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        page = await sam.get("/messages", params={"zd_number": DELIVERED_ZD})
        assert page.status_code == 200, page.text
        assert 'id="found"' in page.text
        assert "Besides these, intake refused 1 input with this ZD number." in page.text
        assert f'href="/rejected?zd_number={DELIVERED_ZD}"' in page.text
        assert 'id="also-unrouted"' not in page.text
        # Nothing beside a search that names neither a ZD number nor a BSN.
        every = await sam.get("/messages", params={"destination": "noord"})
        assert 'id="found"' in every.text and 'id="also-rejected"' not in every.text
