"""A kept answer is shown again only to who may still see it (``integrator.console.answers``,
``answer_needs``), request by request against a real engine and store.

Within the minutes an answer is kept, an admin may take the permission its page needed away
(the role, or clusters of a grant) or deactivate the account: a reload then is the refusal
(or the sign-in), never the answer. Signing out drops the session's answers from the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from integrator.access import Grant, Role
from integrator.access.totp import code_at
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.store.tables import console_answers
from tests.console import answered
from tests.console.answered import NOT_FOLLOWED
from tests.console.live import PASSWORD
from tests.console.started import card_and_lab_engine
from tests.console.test_saved_searches import BASE, ORIGIN, START, csrf, signed_in
from tests.console.test_session import accepted
from tests.http.support import MAKER


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Started with ``noord`` in cluster CARD and ``zuid`` in LAB (their ports answer nothing:
    no message is sent), and a manual clock."""
    async with card_and_lab_engine(tmp_path, START) as started:
        yield started


async def _refused_search(browser: httpx.AsyncClient) -> str:
    """A message search refused (a period that is no time): its kept answer's address."""
    token = csrf((await browser.get("/messages")).text)
    refused = await browser.post(
        "/messages/search",
        data={"csrf": token, "since": "not-a-time"},
        headers={**ORIGIN, "referer": f"{BASE}/messages"},
        extensions=NOT_FOLLOWED,
    )
    assert refused.status_code == 303, refused.text
    location = refused.headers["location"]
    assert "answer=" in location
    shown = await browser.get(location)  # shown while the person may see it
    assert shown.status_code == 422 and 'name="since"' in shown.text, shown.text
    return location


def _is_refusal(shown: httpx.Response) -> None:
    assert shown.status_code == 403, shown.text
    assert 'name="since"' not in shown.text  # not the answer: no form, nothing typed


async def _answers(engine: Engine) -> int:
    async with engine.store._engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(console_answers))).scalar_one()
        )


async def test_an_answer_is_refused_once_its_role_is_taken_away(engine: Engine) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.VIEWER)) as ann:
        location = await _refused_search(ann)
        await engine.access.deactivate_role(
            MAKER, "ann@example.org", Role.VIEWER, None, reason="left support"
        )
        _is_refusal(await ann.get(location))


async def test_an_answer_is_refused_once_a_grant_loses_a_cluster(engine: Engine) -> None:
    grants = (Grant(Role.VIEWER, "CARD"), Grant(Role.VIEWER, "LAB"))
    async with signed_in(engine, "ann@example.org", *grants) as ann:
        location = await _refused_search(ann)
        await engine.access.set_grants(
            MAKER, "ann@example.org", [Grant(Role.VIEWER, "CARD")], reason="LAB no more"
        )
        _is_refusal(await ann.get(location))
        # The page itself, as the person may see it now, still opens.
        assert (await ann.get("/messages")).status_code == 200


async def test_an_answer_is_not_shown_once_the_account_is_deactivated(engine: Engine) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.VIEWER)) as ann:
        location = await _refused_search(ann)
        await engine.access.deactivate_person(MAKER, "ann@example.org", reason="left")
        gone = await ann.get(location, follow_redirects=False)
        assert gone.status_code == 303
        assert urlsplit(gone.headers["location"]).query == ""  # the page, which asks to sign in


async def test_signing_out_drops_the_sessions_answers(engine: Engine) -> None:
    async with (
        signed_in(engine, "ann@example.org", Grant(Role.VIEWER)) as ann,
        signed_in(engine, "bob@example.org", Grant(Role.VIEWER)) as bob,
    ):
        await _refused_search(ann)
        await _refused_search(ann)
        bobs = await _refused_search(bob)
        assert await _answers(engine) == 3
        token = csrf((await ann.get("/messages")).text)
        out = await ann.post("/logout", data={"csrf": token}, headers=ORIGIN)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert await _answers(engine) == 1  # bob's, still his to reload
        assert (await bob.get(bobs)).status_code == 422


async def test_signing_in_again_over_a_session_drops_its_answers(engine: Engine) -> None:
    """A second sign-in at the same browser ends the session it had (``test_sign_in_again``),
    and that session's answers go with it."""
    totp = await accepted(engine, "ann@example.org", (Grant(Role.VIEWER),))
    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as ann:

        async def sign_in(form_page: str = "/login") -> None:
            form = await ann.get(form_page)  # signed in, /login leads on: a page's token
            code = code_at(totp, engine.clock.now())
            data = {"csrf": csrf(form.text), "email": "ann@example.org", "password": PASSWORD}
            signed = await ann.post("/login", data={**data, "code": code}, headers=ORIGIN)
            assert signed.status_code == 303, signed.text

        await sign_in()
        await _refused_search(ann)
        assert await _answers(engine) == 1
        clock = engine.clock
        assert isinstance(clock, ManualClock)
        clock.advance(timedelta(seconds=31))  # a code is taken once: the next one
        await sign_in("/messages")
        assert await _answers(engine) == 0
