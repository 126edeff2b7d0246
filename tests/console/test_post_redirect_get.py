"""Post/Redirect/Get for the console's form answers (``integrator.console.answers``), request
by request against a real engine and store, with a client that does not follow redirects.

A refused form answers 303 to the page it was posted from with ``?answer=<handle>`` (random,
nothing typed in it); that GET shows the refusal with its status and what was typed, again on
a reload, to this browser only, for ``LASTS``. A secret shown once (a new token) is shown by
the first GET only. Nothing of the answer is readable from the store. The invitation's pages
stay at their POST. The browser's side (a reload posts nothing) is in
``test_reload_posts_nothing.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from integrator.access import Grant, Role
from integrator.console.answers import LASTS
from integrator.engine import Engine
from integrator.http import create_app
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.store import AuditFilter
from integrator.store.tables import console_answers
from tests.console.answered import NOT_FOLLOWED
from tests.console.test_saved_searches import BASE, ORIGIN, csrf, engine, signed_in

__all__ = ["engine"]  # the fixture: a started engine with a manual clock

TYPED = "feed-Jansen-1970"


def _handle(location: str) -> str:
    [handle] = parse_qs(urlsplit(location).query)["answer"]
    return handle


async def _token_form(browser: httpx.AsyncClient, **typed: str) -> httpx.Response:
    token = csrf((await browser.get("/tokens")).text)
    return await browser.post(
        "/tokens",
        data={"csrf": token, "role": "viewer", **typed},
        headers={**ORIGIN, "referer": f"{BASE}/tokens"},
        extensions=NOT_FOLLOWED,
    )


async def test_a_refused_form_is_shown_by_get_again_on_reload_to_its_browser_only(
    engine: Engine,
) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        refused = await _token_form(ann, name=TYPED, days="²")
        assert refused.status_code == 303, refused.text
        location = refused.headers["location"]
        # The form's own page, and a random handle: nothing typed in the address.
        assert re.fullmatch(r"/tokens\?answer=[A-Za-z0-9_-]{43}", location), location
        assert TYPED not in location
        for _ in range(2):  # shown, then reloaded: the same page, posting nothing
            shown = await ann.get(location)
            assert shown.status_code == 422, shown.text
            assert "a whole number of days" in shown.text
            assert f'value="{TYPED}"' in shown.text  # what was typed, kept
        assert [t for t in await engine.store.list_tokens() if t.name == TYPED] == []

        # Sealed: the store holds neither the page nor what was typed.
        async with engine.store._engine.connect() as conn:
            stored = (await conn.execute(select(console_answers.c.answer))).scalars().all()
        assert stored and not any(TYPED in s or "whole number" in s for s in stored)

        # Another person's browser with the same address: the page itself, nothing kept.
        async with signed_in(engine, "bob@example.org", Grant(Role.ADMIN)) as bob:
            other = await bob.get(location, follow_redirects=False)
            assert other.status_code == 303 and other.headers["location"] == "/tokens"

        # After LASTS, the address shows the page the form was on.
        engine.clock.advance(LASTS + timedelta(seconds=1))  # type: ignore[attr-defined]
        gone = await ann.get(location, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"] == "/tokens"
        keep_all = Retention(
            payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0, audit_days=0
        )
        report = await prune(engine.store, keep_all, now=engine.clock.now(), actor="local:t")
        assert report.counts["answers"] == 1


async def test_a_new_token_is_shown_once_and_a_reload_makes_no_second(engine: Engine) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        made = await _token_form(ann, name="feed", days="30")
        assert made.status_code == 303, made.text
        location = made.headers["location"]
        first = await ann.get(location)
        assert first.status_code == 200 and "feed" in first.text
        secret = re.search(r'id="new-token"[^>]* value="(itg_[A-Za-z0-9_-]+)"', first.text)
        assert secret is not None, first.text
        again = await ann.get(location, follow_redirects=False)  # the reload
        assert again.status_code == 303 and again.headers["location"] == "/tokens"
        listed = await ann.get("/tokens")
        assert secret.group(1) not in listed.text
    assert len([t for t in await engine.store.list_tokens() if t.name == "feed"]) == 1
    assert len(await engine.store.list_audit(AuditFilter(action="token.create"))) == 1


async def test_a_refused_sign_in_is_a_get_and_a_reload_tries_no_password(engine: Engine) -> None:
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as browser:
        form = await browser.get("/login")
        sent = await browser.post(
            "/login",
            data={
                "csrf": csrf(form.text),
                "email": "eve@example.org",
                "password": "x" * 12,
                "code": "123456",
            },
            headers={**ORIGIN, "referer": f"{BASE}/login"},
        )
        assert sent.status_code == 303, sent.text
        assert re.fullmatch(r"/login\?answer=[A-Za-z0-9_-]{43}", sent.headers["location"])
        for _ in range(2):
            shown = await browser.get(sent.headers["location"])
            assert shown.status_code == 401
            assert 'value="eve@example.org"' in shown.text
    failed = await engine.store.list_audit(AuditFilter(action="login.failure"))
    assert len(failed) == 1


async def test_the_invitation_and_htmx_answer_in_place(engine: Engine) -> None:
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as browser:
        form = await browser.get("/invitation")
        opened = await browser.post(
            "/invitation/open",
            data={"csrf": csrf(form.text), "secret": "no-such-invitation"},
            headers=ORIGIN,
        )
        assert opened.status_code == 410  # at the POST's address, as before
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        token = csrf((await ann.get("/tokens")).text)
        htmx = await ann.post(
            "/tokens",
            data={"csrf": token, "name": "x", "days": "²", "role": "viewer"},
            headers={**ORIGIN, "hx-request": "true"},
        )
        assert htmx.status_code == 422  # a part of a page: swapped, no history entry
