"""Sessions and browser protections at the HTTP level, where each rule is one request: cookie
flags over HTTP and HTTPS, the CSRF token and Origin check before signing in, session timeouts
and logout, redirects that stay on the console, and the API refusing console cookies."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.access.errors import BadAccessInput
from integrator.access.totp import code_at
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from tests.console import answered
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.http.support import MAKER
from tests.store.factories import make_event, make_message

EMAIL = "tess@example.org"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


async def accepted(
    engine: Engine, email: str = EMAIL, grants: tuple[Grant, ...] = (Grant(Role.RESEND),)
) -> str:
    """An active person (``grants``: the resend role by default), not signed in; their TOTP
    secret. Accepted one step ago, so that a sign-in now takes the current code."""
    link = await engine.access.invite(MAKER, email, list(grants))
    assert link.link is not None
    secret = link.link.split("#", 1)[1]
    start = await engine.access.begin_accept(secret)
    try:
        earlier = engine.clock.now() - timedelta(seconds=30)
        await engine.access.finish_accept(secret, PASSWORD, code_at(start.totp_secret, earlier))
    except BadAccessInput:
        # An engine on the real clock crossed into the next 30 s step between this read and
        # the engine's own, so the code was two steps old (a CI run, once): the step again.
        earlier = engine.clock.now() - timedelta(seconds=30)
        await engine.access.finish_accept(secret, PASSWORD, code_at(start.totp_secret, earlier))
    return start.totp_secret


def client(engine: Engine, base: str = "http://console.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=answered.transport(create_app(engine)), base_url=base)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found.group(1)


async def sign_in(browser: httpx.AsyncClient, engine: Engine, totp: str) -> httpx.Response:
    form = await browser.get("/login")
    return await browser.post(
        "/login",
        data={
            "csrf": csrf(form.text),
            "email": EMAIL,
            "password": PASSWORD,
            "code": code_at(totp, engine.clock.now()),
            "next": "/messages",
        },
        headers={"origin": str(browser.base_url).rstrip("/")},
    )


async def test_signing_in_sets_a_strict_http_only_cookie(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        answer = await sign_in(browser, engine, totp)
    assert answer.status_code == 303 and answer.headers["location"] == "/messages"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("integrator-session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain HTTP: a Secure cookie would never come back


async def test_over_https_the_cookie_is_secure_and_host_bound(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine, "https://console.test") as browser:
        answer = await sign_in(browser, engine, totp)
        assert answer.status_code == 303
        [cookie] = [
            c
            for c in answer.headers.get_list("set-cookie")
            if c.startswith("__Host-integrator-session=")
        ]
        assert "secure" in cookie.lower()
        page = await browser.get("/messages")
        assert page.status_code == 200
        # Once over HTTPS, a browser keeps to it: the page, the sign-in and the API's answers.
        for said in (page, answer, await browser.get("/api/v1/messages")):
            assert said.headers["strict-transport-security"] == "max-age=31536000"
    async with client(engine) as plain:  # never over plain HTTP
        assert "strict-transport-security" not in (await plain.get("/login")).headers


async def test_the_sign_in_form_needs_its_token_and_our_origin(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        token = csrf((await browser.get("/login")).text)
        form = {"email": EMAIL, "password": PASSWORD, "code": code_at(totp, engine.clock.now())}
        own = {"origin": "http://console.test"}
        assert (await browser.post("/login", data=form, headers=own)).status_code == 403
        foreign = {"origin": "http://evil.test"}
        answer = await browser.post("/login", data={**form, "csrf": token}, headers=foreign)
        assert answer.status_code == 403
        # No Origin, but a Referer of this very console: accepted.
        answer = await browser.post(
            "/login",
            data={**form, "csrf": token},
            headers={"referer": "http://console.test/login"},
        )
        assert answer.status_code == 303
    actions = [e.action for e in await engine.store.list_audit(limit=100)]
    assert actions.count("login.success") == 1 and "login.failure" not in actions


async def test_a_page_refreshing_itself_does_not_keep_the_session_alive(engine: Engine) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    background = {"x-integrator-background": "1"}  # what the dashboard's refresh sends
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        clock.advance(timedelta(minutes=20))
        assert (await browser.get("/messages", headers=background)).status_code == 200
        clock.advance(timedelta(minutes=11))  # 31 minutes since the person last did something
        answer = await browser.get("/messages", headers=background)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_what_the_person_does_keeps_the_session_alive(engine: Engine) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        clock.advance(timedelta(minutes=20))
        assert (await browser.get("/messages")).status_code == 200
        clock.advance(timedelta(minutes=11))
        assert (await browser.get("/messages")).status_code == 200


async def test_sessions_end_when_idle_and_at_logout(engine: Engine) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        assert (await browser.get("/messages")).status_code == 200
        clock.advance(timedelta(minutes=31))
        answer = await browser.get("/messages")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Fmessages"

        clock.advance(timedelta(minutes=1))
        await sign_in(browser, engine, totp)
        page = await browser.get("/messages")
        assert page.status_code == 200
        secret = browser.cookies["integrator-session"]
        out = await browser.post(
            "/logout", data={"csrf": csrf(page.text)}, headers={"origin": "http://console.test"}
        )
        assert out.status_code == 303
        assert await engine.access.authenticate_session(secret) is None  # revoked, not only gone


async def test_redirects_stay_on_the_console(engine: Engine) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    for target in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        async with client(engine) as browser:
            form = await browser.get("/login")
            answer = await browser.post(
                "/login",
                data={
                    "csrf": csrf(form.text),
                    "email": EMAIL,
                    "password": PASSWORD,
                    "code": code_at(totp, clock.now()),
                    "next": target,
                },
                headers={"origin": "http://console.test"},
            )
        assert answer.headers["location"] == "/", target
        clock.advance(timedelta(seconds=30))  # each code works once


async def test_the_api_takes_no_console_cookie_and_the_console_no_token(engine: Engine) -> None:
    totp = await accepted(engine)
    token = (await engine.access.create_token(MAKER, "t", [Grant(Role.RESEND)])).token
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        assert (await browser.get("/api/v1/messages")).status_code == 401
    async with client(engine) as script:
        answer = await script.get("/messages", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 303  # to sign in: a token is no session
        assert (await script.get("/api/v1/nothing-here")).json() == {"detail": "Not Found"}


async def test_a_signed_in_person_opens_the_api_docs_and_only_them(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        signed_out = await browser.get("/docs", headers={"accept": "text/html"})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/login?next=%2Fdocs"
        assert (await browser.get("/openapi.json")).status_code == 401
        await sign_in(browser, engine, totp)
        page = await browser.get("/docs", headers={"accept": "text/html"})
        assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
        loaded = re.findall(r'(?:href|src|data-openapi)="(/[^"]*)"', page.text)
        assert len(loaded) == 5 and "/openapi.json" in loaded  # style, icon, 2 scripts, document
        for url in loaded:
            assert (await browser.get(url)).status_code == 200, url
        # The docs only: every other API route still takes no cookie.
        assert (await browser.get("/api/v1/messages")).status_code == 401
        await browser.post(
            "/logout",
            data={"csrf": csrf((await browser.get("/messages")).text)},
            headers={"origin": str(browser.base_url).rstrip("/")},
        )
        assert (await browser.get("/openapi.json")).status_code == 401


async def test_pages_forbid_framing_and_outside_resources(engine: Engine) -> None:
    async with client(engine) as browser:
        answer = await browser.get("/login")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "http" not in re.sub(r'href="/[^"]*"|src="/[^"]*"', "", answer.text).replace(
        "http-equiv", ""
    )


async def test_a_bad_form_is_refused_without_quoting_it(engine: Engine) -> None:
    await accepted(engine)
    async with client(engine) as browser:
        token = csrf((await browser.get("/login")).text)
        secret = "999990019" * 40  # longer than any field takes
        answer = await browser.post(
            "/login",
            data={"csrf": token, "email": secret, "password": secret, "code": "1"},
            headers={"origin": "http://console.test"},
        )
    assert answer.status_code == 422
    # Named by its label in the page's language (Dutch here), never by what was sent.
    assert "e-mailadres: " in answer.text and "999990019" not in answer.text


async def test_a_form_of_an_ended_session_leads_to_sign_in_and_does_nothing(
    engine: Engine,
) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        token = csrf((await browser.get("/messages")).text)
        clock.advance(timedelta(minutes=31))
        answer = await browser.post(
            "/language",
            data={"csrf": token, "lang": "nl", "next": "/messages"},
            headers={"origin": "http://console.test"},
        )
        # No page named where it came from: the dashboard, after a sign-in page that says
        # what was being done was not done.
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?interrupted=1"
        assert "integrator-lang" not in answer.headers.get("set-cookie", "")


async def test_an_ended_session_returns_to_the_page_the_person_was_on(engine: Engine) -> None:
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    own = {"origin": "http://console.test"}
    htmx = {"hx-request": "true"}
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        token = csrf((await browser.get("/messages")).text)
        clock.advance(timedelta(minutes=31))
        form = {"csrf": token, "lang": "nl"}

        # A form: back to the page it was on (its Referer), saying it was not done.
        page = "http://console.test/messages/0b6f?again=resend"
        answer = await browser.post("/language", data=form, headers={**own, "referer": page})
        assert answer.headers["location"] == (
            "/login?next=%2Fmessages%2F0b6f%3Fagain%3Dresend&interrupted=1"
        )
        # An htmx action: back to the page htmx says it is on (HX-Redirect, a 204).
        answer = await browser.post(
            "/language",
            data=form,
            headers={**own, **htmx, "hx-current-url": "http://console.test/messages/0b6f"},
        )
        assert answer.status_code == 204
        assert answer.headers["hx-redirect"] == "/login?next=%2Fmessages%2F0b6f&interrupted=1"
        # A page's own refresh (a GET of a fragment): back to the page, not the fragment, and
        # nothing was interrupted.
        answer = await browser.get(
            "/messages/0b6f/status",
            headers={**htmx, "hx-current-url": "http://console.test/messages/0b6f"},
        )
        assert answer.headers["hx-redirect"] == "/login?next=%2Fmessages%2F0b6f"
        # A page only a POST shows (a search by BSN, a confirmation) is no page to go back
        # to: the page it was reached from is, without the query (it once went to the
        # dashboard, and a support person lost the dead letters they were working through).
        for only_posted, above in (
            ("/messages/search?bsn=1", "%2Fmessages"),
            ("/deadletters/confirm", "%2Fdeadletters"),
            ("/messages/resend/confirm", "%2Fmessages"),
        ):
            answer = await browser.post(
                "/language",
                data=form,
                headers={**own, "referer": f"http://console.test{only_posted}"},
            )
            assert answer.headers["location"] == f"/login?next={above}&interrupted=1"
        # Another site named as where it came from is never where it goes back to.
        for elsewhere in ("http://evil.test/messages", "https://console.test/messages"):
            answer = await browser.post(
                "/language", data=form, headers={**own, **htmx, "hx-current-url": elsewhere}
            )
            assert answer.headers["hx-redirect"] == "/login?interrupted=1", elsewhere
            answer = await browser.post(
                "/language",
                data=form,
                headers={"origin": "http://console.test", "referer": elsewhere},
            )
            assert answer.headers["location"] == "/login?interrupted=1", elsewhere


BSN = "123456782"  # passes the eleven-test
SEARCH = "/messages?destination=ziekenhuis-noord"


async def test_the_way_back_after_a_session_ended_keeps_only_the_page_s_own_parameters(
    engine: Engine,
) -> None:
    """The page a browser names (``HX-Current-URL``, ``Referer``) and a ``next`` written into
    a sign-in link by hand are taken as the page's own address is: only the parameters that
    page takes, and none when one of them holds a BSN."""
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    own = {"origin": "http://console.test"}
    back = "/login?next=" + quote(SEARCH, safe="") + "&interrupted=1"
    plain = "/login?next=%2Fmessages&interrupted=1"
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        form = {"csrf": csrf((await browser.get("/messages")).text), "lang": "nl"}
        clock.advance(timedelta(minutes=31))
        for came_from, expected in (
            (f"{SEARCH}&foo={BSN}", back),  # a parameter the page does not take
            (f"{SEARCH}&zd_number={BSN}", plain),  # one it takes, holding a BSN: no query
            (f"{SEARCH}&zd_number=123%20456%20782", plain),
        ):
            address = f"http://console.test{came_from}"
            answer = await browser.post(
                "/language",
                data=form,
                headers={**own, "hx-request": "true", "hx-current-url": address},
            )
            assert answer.headers["hx-redirect"] == expected, came_from
            answer = await browser.post("/language", data=form, headers={**own, "referer": address})
            assert answer.headers["location"] == expected, came_from

        # A sign-in link written by hand: its ``next`` is kept the same way in the form...
        for written, kept in (
            (f"{SEARCH}&foo={BSN}", SEARCH),
            (f"/messages?zd_number={BSN}", "/messages"),
            ("/nowhere?x=1", "/"),
            ("/docs?x=1", "/docs"),  # the API's documentation sends a browser here too
            # A destination's id with nine such digits is the id it can be, as a search takes
            # it (``search.term_holds_bsn``); the same digits as a ZD number are a BSN.
            ("/messages?destination=umc-123456782", "/messages?destination=umc-123456782"),
            ("/messages?destination=123456782", "/messages"),
        ):
            login = await browser.get("/login", params={"next": written})
            assert login.status_code == 200
            assert f'name="next" value="{html.escape(kept)}"' in login.text, written
            assert BSN not in login.text.replace(f"umc-{BSN}", ""), written
        # ...and in the redirect after signing in.
        form_page = await browser.get("/login")
        answer = await browser.post(
            "/login",
            data={
                "csrf": csrf(form_page.text),
                "email": EMAIL,
                "password": PASSWORD,
                "code": code_at(totp, engine.clock.now()),
                "next": f"{SEARCH}&foo={BSN}",
            },
            headers=own,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == SEARCH


async def test_a_page_refreshing_itself_is_told_the_session_ended_and_stops(
    engine: Engine,
) -> None:
    """A page's own refresh (a background htmx GET) after the session ended is not sent to the
    sign-in page, which would lose what the person is typing: it is answered 286 (htmx stops
    polling), swapping nothing but a notice, with a link to sign in that returns here."""
    totp = await accepted(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    background = {
        "hx-request": "true",
        "x-integrator-background": "1",
        "hx-current-url": f"http://console.test/messages/0b6f?foo={BSN}",
    }
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        clock.advance(timedelta(minutes=31))
        for lang, said in (("en", "Your session has ended"), ("nl", "Je sessie is afgelopen")):
            browser.cookies.set("integrator-lang", lang)
            answer = await browser.get("/messages/0b6f/status", headers=background)
            assert answer.status_code == 286
            assert "hx-redirect" not in answer.headers
            assert answer.headers["hx-reswap"] == "none"
            assert answer.text.startswith('<div id="session-ended" hx-swap-oob="innerHTML">')
            assert said in answer.text
            assert '<a href="/login?next=%2Fmessages%2F0b6f">' in answer.text
        page = await browser.get("/login")
        assert '<div id="session-ended" class="session-ended" role="alert"></div>' in page.text


async def test_a_message_s_status_is_said_by_a_region_its_refresh_does_not_replace(
    engine: Engine,
) -> None:
    totp = await accepted(engine)
    message = make_message()
    assert await engine.store.accept_event(make_event(received_at=START), [message])
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        page = await browser.get(f"/messages/{message.id}")
        assert 'hx-trigger="every 2s"' in page.text  # queued: the badge refreshes
        said = re.search(r'<span id="message-status-said" role="status">(<span [^>]*>)', page.text)
        assert said and 'id="message-status"' in said.group(1)
        refresh = f"/messages/{message.id}/status?shown=queued&attempts=0"
        assert f'hx-get="{refresh.replace("&", "&amp;")}"' in page.text
        # Unchanged: nothing is swapped, so the region says nothing again.
        htmx = {"hx-request": "true"}
        unchanged = await browser.get(refresh, headers=htmx)
        assert unchanged.status_code == 204 and unchanged.text == ""
        fragment = await browser.get(f"/messages/{message.id}/status?shown=held", headers=htmx)
        assert fragment.text.startswith('<span id="message-status"')
        assert "message-status-said" not in fragment.text and "role=" not in fragment.text


async def test_a_wrong_method_is_a_405_page_and_api_paths_answer_as_the_api(
    engine: Engine,
) -> None:
    async with client(engine) as browser:
        assert (await browser.delete("/login")).status_code == 405
        assert (await browser.get("/no-such-page")).status_code == 404
        wrong = await browser.delete("/api/v1/messages")
        assert wrong.status_code == 405 and wrong.json() == {"detail": "Method Not Allowed"}


def return_target(page: str) -> str | None:
    """The language form's hidden ``next``; None when the page offers no switch."""
    found = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page)
    return None if found is None else html.unescape(found.group(1))


DIGITS_UUID = "0b6f2c1e-4d5a-4e3b-8a7c-123456782000"
"""A message id as a UUID that holds nine digits passing the eleven-test: an id, not a BSN."""


async def test_a_bsn_typed_into_a_page_s_path_is_never_named_again(engine: Engine) -> None:
    """Neither the way back to sign in (a redirect's address, the sign-in form) nor a refusal's
    language switch repeats a path that holds a BSN, or one that names no page (where a name
    is as likely as anything); a message's id that merely holds such digits is still kept."""
    typed = (f"/messages/{BSN}", f"/events/{BSN}", f"/Jan-van-der-Berg-{BSN}", "/Jan-Jansen")
    async with client(engine) as browser:
        for path in typed:
            answer = await browser.get(path)
            if answer.status_code == 404:  # a path of no page: not found, signed in or not
                assert BSN not in answer.text, path
                assert return_target(answer.text) in ("/", None), path
                continue
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/login", path
            login = await browser.get(answer.headers["location"])
            assert BSN not in login.text, path
        kept = await browser.get(f"/messages/{DIGITS_UUID}")
        assert kept.headers["location"] == "/login?next=" + quote(
            f"/messages/{DIGITS_UUID}", safe=""
        )

        totp = await accepted(engine)
        await sign_in(browser, engine, totp)
        for path in typed:
            refused = await browser.get(path)
            assert refused.status_code in (404, 422), path
            assert BSN not in refused.text, path
            assert return_target(refused.text) == "/", path
        shown = await browser.get(f"/messages/{DIGITS_UUID}")  # no such message: not found
        assert return_target(shown.text) == "/"
