"""A message search that finds nothing says so in the search's words, and what to try.

docs/product.md §9 and docs/console.md (the messages page's searches): a search with terms
that found nothing said only "No messages found.", which a walkthrough read as "never sent":
now "No messages match these terms.", with what to try (an identifier typed, a term to leave
out, a wider period, one's clusters). Where a notice says where the referral went instead
(intake refused it, it arrived unrouted, other terms left its messages out, a status nothing
is in, input out of sight) that notice is what to do, and no hint beside it says otherwise.
Request by request against a real engine.
"""

from __future__ import annotations

import copy
import json
import re
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

ZD = "ZD200000027"
NOTHING = {"status": "cancelled", "destination": "noord", "since": "2026-01-01"}
"""Terms that find none of the referral's messages, without an identifier."""
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]
NONE_MATCH = "No messages match these terms."
TYPED = "Check the ZD number or the MSH-10 as you typed it."
WIDEN = "Every term narrows the search: leave one out, or widen the period (From, Until)"
CLUSTERS = "The search looks only at messages to the destinations of your clusters."


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _referral(engine: Engine, referral_data: dict[str, Any]) -> None:
    event = copy.deepcopy(referral_data)
    event["event_id"], event["zd_number"] = str(uuid.uuid4()), ZD
    assert len((await engine.intake.submit(json.dumps(event), source="cli")).messages) == 1


def _said(html: str, element_id: str) -> str | None:
    """The text of the element ``element_id``, tags and runs of white space left out."""
    found = re.search(rf'<p [^>]*id="{element_id}"[^>]*>(.*?)</p>', html, re.S)
    return None if found is None else " ".join(re.sub(r"<[^>]+>", " ", found[1]).split())


async def test_terms_that_find_nothing_say_so_and_what_to_try(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _referral(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        made = await post(sam, "/messages/search", NOTHING)
        assert made.status_code == 303, made.text
        page = await sam.get(made.headers["location"])
        assert page.status_code == 200, page.text
        assert _said(page.text, "no-messages") == NONE_MATCH
        assert 'aria-describedby="no-messages-hint"' in page.text  # read with it, focused
        hint = _said(page.text, "no-messages-hint")
        assert hint is not None and hint.startswith(WIDEN)
        assert TYPED not in hint and CLUSTERS not in hint  # none typed; every cluster read

        by_zd = await sam.get("/messages", params={"zd_number": "ZD999999999"})
        hint = _said(by_zd.text, "no-messages-hint")
        assert _said(by_zd.text, "no-messages") == NONE_MATCH
        assert hint is not None and hint.startswith(TYPED) and WIDEN in hint

        # Past the last page: the search did find messages; nothing to try.
        past = await sam.get("/messages", params={"zd_number": ZD, "offset": "50"})
        assert _said(past.text, "no-messages") == "No messages found."
        assert 'id="no-messages-hint"' not in past.text


async def test_in_dutch(engine: Engine, referral_data: dict[str, Any]) -> None:
    await _referral(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        page = await sam.get("/messages", params={"zd_number": "ZD999999999"})
        assert _said(page.text, "no-messages") == "Geen berichten gevonden met deze zoektermen."
        assert _said(page.text, "no-messages-hint") == (
            "Controleer het ZD-nummer of het berichtnummer (MSH-10) zoals je het invulde. "
            "Elke zoekterm beperkt de zoekopdracht: laat er een weg, of maak de periode ruimer "
            "(Vanaf, Tot), om meer te vinden."
        )


async def test_one_clusters_reader_is_told_the_search_stays_in_their_clusters(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _referral(engine, referral_data)
    async with signed_in(engine, "vic@example.org", Grant(Role.VIEWER, "CARD")) as vic:
        page = await vic.get("/messages", params=NOTHING)
        hint = _said(page.text, "no-messages-hint")
        assert hint is not None and hint.startswith(WIDEN) and hint.endswith(CLUSTERS)
        # By ZD number, input out of their sight may be there: that notice says whom to ask,
        # and no hint beside it sends them elsewhere.
        by_zd = await vic.get("/messages", params={"zd_number": "ZD999999999"})
        assert 'id="zd-unseen"' in by_zd.text
        assert _said(by_zd.text, "no-messages") == NONE_MATCH
        assert 'id="no-messages-hint"' not in by_zd.text


async def test_where_a_notice_says_where_it_went_no_hint_is_said_beside_it(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _referral(engine, referral_data)
    refused_zd = "ZD300000001"
    keys = RejectedKeys(zd_number=refused_zd)
    await engine.store.reject_event(b"{}", "http", RULES, keys)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        cases = {
            "rejected-zd": {"zd_number": refused_zd},  # intake refused it: look there
            "outside-terms": {"zd_number": ZD, **NOTHING},  # its message: search by ZD alone
            "status-note": {"status": "sending"},  # nothing is ever in it
        }
        for notice, terms in cases.items():
            page = await sam.get("/messages", params=terms)
            assert page.status_code == 200, (notice, page.text)
            assert f'id="{notice}"' in page.text, notice
            assert _said(page.text, "no-messages") == NONE_MATCH, notice
            assert 'id="no-messages-hint"' not in page.text, notice
            assert 'aria-describedby="no-messages-hint"' not in page.text, notice
