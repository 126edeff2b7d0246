"""``POST /language`` returns by the rule its form's own ``next`` is made with, whatever is
posted: a post made by hand (with the person's own CSRF token) naming an address with a BSN in
its query is answered with that page without the query, never with the BSN in ``Location``; a
page's own search is still kept, and the return is never another site."""

from __future__ import annotations

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_language_query import SPELLINGS, echoes_bsn
from tests.console.test_saved_searches import ORIGIN, csrf, engine, signed_in

__all__ = ["engine"]  # the fixture, a started engine with two queued messages

KEPT = "/messages?zd_number=ZD100000002&status=queued"


async def returns_to(browser: httpx.AsyncClient, target: str) -> str:
    """Where the switch sends the browser when ``target`` is posted as its ``next``."""
    token = csrf((await browser.get("/messages")).text)
    answer = await browser.post(
        "/language", data={"csrf": token, "lang": "nl", "next": target}, headers=ORIGIN
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


@pytest.mark.parametrize("typed", SPELLINGS)
@pytest.mark.parametrize(
    ("target", "back"),
    [
        ("/messages?bsn={}", "/messages"),
        ("/messages?zd_number={}", "/messages"),  # a parameter the page takes
        (KEPT + "&foo={}", KEPT),  # one it does not take: left off, the search kept
        ("/events/unrouted?provider={}", "/events/unrouted"),
        ("/login?next=/messages%3Fzd_number%3D{}", "/login"),
    ],
)
async def test_a_bsn_in_the_posted_next_never_reaches_the_location(
    engine: Engine, typed: str, target: str, back: str
) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        location = await returns_to(vera, target.format(typed))
    assert location == back
    assert not echoes_bsn(location)


@pytest.mark.parametrize(
    ("target", "back"),
    [
        (KEPT, KEPT),
        ("/login?next=%2Fmessages%3Fstatus%3Ddead", "/login?next=%2Fmessages%3Fstatus%3Ddead"),
        ("//evil.example/messages", "/"),
        ("https://evil.example/", "/"),
    ],
)
async def test_a_search_is_kept_and_the_return_stays_here(
    engine: Engine, target: str, back: str
) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        assert await returns_to(vera, target) == back
