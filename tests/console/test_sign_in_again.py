"""Signing in while signed in (a second tab's sign-in form, another person at the same
browser) ends the session the browser had, on the server too: the cookie was replaced, but the
earlier session stayed valid until its idle timeout, so a copy of that cookie (a proxy's log, a
shared machine's profile) still acted as the first person. Request by request, no browser."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from integrator.access import Grant, Role
from integrator.access.totp import code_at
from integrator.console.session import SESSION_COOKIE
from integrator.http import create_app
from tests.console import answered
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.console.test_saved_searches import BASE, ORIGIN, csrf, signed_in
from tests.console.test_session import accepted

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def test_signing_in_again_ends_the_session_the_browser_had(tmp_path: Path) -> None:
    async with started_engine(tmp_path, START) as engine:
        totp = await accepted(engine, "bea@example.nl", (Grant(Role.VIEWER),))
        async with signed_in(engine, "ann@example.nl", Grant(Role.VIEWER)) as browser:
            first = browser.cookies[SESSION_COOKIE]
            token = csrf((await browser.get("/messages")).text)
            again = await browser.post(
                "/login",
                data={
                    "csrf": token,
                    "email": "bea@example.nl",
                    "password": PASSWORD,
                    "code": code_at(totp, engine.clock.now()),
                },
                headers=ORIGIN,
            )
            assert again.status_code == 303, again.text
            assert browser.cookies[SESSION_COOKIE] != first
            assert (await browser.get("/messages")).status_code == 200  # as bea now
        transport = answered.transport(create_app(engine))
        cookies = {SESSION_COOKIE: first}
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as copy:
            old = await copy.get("/messages")
        assert old.status_code in (302, 303, 307), old.status_code
        assert old.headers["location"].startswith("/login"), old.headers
