"""What of a page's address the language switch (and the sign-in page's way back) sends on,
request by request: the parameters the page takes, never another one, so a BSN typed into a
parameter the page does not take (``/messages?foo=<BSN>``) is never drawn into the page's HTML
or a redirect; the page's real search, by terms or a kept search's handle, is still kept."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http import create_app
from tests.console import answered
from tests.console.test_saved_searches import (
    BSN,
    ORIGIN,
    cells_saying,
    csrf,
    engine,
    post,
    signed_in,
)

__all__ = ["engine"]  # the fixture, a started engine with two queued messages

SPELLINGS = (BSN, "123 456 782", "123+456+782", "123%20456%20782", "123.456.782")
"""The BSN as it could stand in an address (form-encoded or not) or in a page."""
SEARCH = "/messages?zd_number=ZD100000002&status=queued"


def return_target(page: str) -> str:
    """The language form's hidden ``next``, as the browser sends it."""
    found = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page)
    assert found, page
    return html.unescape(found.group(1))


def echoes_bsn(text: str) -> bool:
    return any(spelling in text for spelling in SPELLINGS)


async def switch(browser: httpx.AsyncClient, page: str, lang: str) -> httpx.Response:
    """The language form of ``page`` sent as it stands; the page it returns to, followed."""
    form = {"csrf": csrf(page), "lang": lang, "next": return_target(page)}
    answer = await browser.post("/language", data=form, headers=ORIGIN)
    assert answer.status_code == 303
    browser.cookies.set("integrator-lang", lang)  # as the browser keeps the cookie
    return answer


@pytest.mark.parametrize("typed", [BSN, "123 456 782", "123.456.782"])
async def test_a_bsn_in_a_parameter_the_page_does_not_take_is_never_in_the_page(
    engine: Engine, typed: str
) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        shown = await vera.get(f"{SEARCH}&foo={quote(typed)}")
        assert shown.status_code == 200
        assert not echoes_bsn(shown.text)
        assert return_target(shown.text) == SEARCH  # the page's own search, nothing else

        answer = await switch(vera, shown.text, "nl")
        assert answer.headers["location"] == SEARCH
        back = await vera.get(answer.headers["location"])
        assert back.text.startswith('<!doctype html>\n<html lang="nl">')
        assert 'value="ZD100000002"' in back.text
        assert cells_saying(back.text, "ziekenhuis-noord") == 1  # the search still searches


async def test_a_kept_search_by_bsn_is_kept_across_the_switch_without_the_rest(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        searched = await post(sam, "/messages/search", {"bsn": BSN})
        kept = searched.headers["location"]
        assert re.fullmatch(r"/messages\?search=[\w-]+", kept)
        shown = await sam.get(f"{kept}&note={BSN}&offset=0")
        assert shown.status_code == 200 and not echoes_bsn(shown.text)
        assert return_target(shown.text) == f"{kept}&offset=0"

        answer = await switch(sam, shown.text, "nl")
        back = await sam.get(answer.headers["location"])
        assert back.status_code == 200 and '<html lang="nl">' in back.text
        assert cells_saying(back.text, "ziekenhuis-noord") == 1  # the patient's message


async def test_signing_in_again_returns_without_a_parameter_the_page_does_not_take(
    engine: Engine,
) -> None:
    """The sign-in page's way back is the page's address the same way: no BSN in the redirect
    to it, nor in the sign-in page's form."""
    async with httpx.AsyncClient(
        transport=answered.transport(create_app(engine)), base_url="http://console.test"
    ) as stranger:
        answer = await stranger.get(f"{SEARCH}&foo={BSN}")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=" + quote(SEARCH, safe="")
        login = await stranger.get(answer.headers["location"])
        assert not echoes_bsn(login.text)


def _form_next(page: str) -> str:
    """The sign-in form's own hidden ``next`` (the second: the language form's comes first)."""
    found = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', page)
    assert len(found) == 2, page
    return html.unescape(found[1])


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("https://evil.example/messages", "/"),
        ("//evil.example/messages", "/"),
        ("/\\evil.example/", "/"),
        ("/messages?zd_number=ZD100000002&status=queued&foo=bar", SEARCH),
        (f"/messages?zd_number=ZD100000002&foo={BSN}", "/messages?zd_number=ZD100000002"),
        (f"/messages?bsn={BSN}", "/messages"),
        ("/login?next=https://evil.example/", "/"),
    ],
)
@pytest.mark.parametrize("interrupted", [False, True])
async def test_the_sign_in_pages_switch_carries_only_the_next_the_sign_in_accepts(
    engine: Engine, given: str, accepted: str, interrupted: bool
) -> None:
    """The language switch of the sign-in page returns to the sign-in page with the ``next``
    the sign-in itself would return to (``errors.way_back``), never the one given: not
    another site, not a parameter the page there does not take."""
    query = {"next": given} | ({"interrupted": "1"} if interrupted else {})
    async with httpx.AsyncClient(
        transport=answered.transport(create_app(engine)), base_url="http://console.test"
    ) as stranger:
        login = await stranger.get("/login?" + urlencode(query, quote_via=quote, safe=""))
        assert login.status_code == 200
        assert _form_next(login.text) == accepted
        kept = {} if accepted == "/" else {"next": accepted}
        kept |= {"interrupted": "1"} if interrupted else {}
        expected = "/login?" + urlencode(kept, quote_via=quote, safe="") if kept else "/login"
        assert return_target(login.text) == expected
        assert "evil.example" not in login.text and not echoes_bsn(login.text)

        answer = await switch(stranger, login.text, "nl")
        assert answer.headers["location"] == expected
        again = await stranger.get(expected)
        assert '<html lang="nl">' in again.text and _form_next(again.text) == accepted
        assert return_target(again.text) == expected
