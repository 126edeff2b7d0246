"""Every console page answers ``HEAD`` as its ``GET`` without the body, and a method a console
path does not take is a 405 page whose ``Allow`` names every method it takes, as the API does
(``integrator.http.head``, ``integrator.http.methods``). Both were missing: every page's
``HEAD`` was a 405, and the console's 405 page had no ``Allow`` at all.

Request by request against a real engine and store; the body is looked for where the
application hands it over (its ASGI messages), as the API's test does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from integrator.access import Grant, Role
from integrator.console import create_console
from integrator.console.session import SESSION_COOKIE
from integrator.engine import Engine
from integrator.http import create_app
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store import AuditFilter
from tests.console.answered import NOT_FOLLOWED
from tests.console.started import noord_engine
from tests.console.test_saved_searches import BASE, ORIGIN, csrf, person_id, signed_in
from tests.http.test_head_on_get_routes import Answer, asked
from tests.store.factories import make_event, make_message

EVERYTHING = tuple(Grant(role) for role in Role if role not in (Role.INTAKE, Role.METRICS))
EXPORTS = {
    "/messages.csv": "messages.csv",
    "/audit.csv": "audit.csv",
    "/events/unrouted.csv": "unrouted-events.csv",
}
UNKNOWN = "0" * 32
# The session check's answer tells the seconds left as they are at each asking (a float: the
# GET's and the HEAD's differ in their last digits, and so may their lengths).
TIMED = {"/session/left"}
# The pages that show patient data, each recorded as a view by its GET; a HEAD records none.
VIEWED = {"/messages/{message_id}", "/events/{event_id}", "/rejected/{rejected_id}"}


def console_paths() -> dict[str, set[str]]:
    """Every path of the console's routes and the methods they declare (the static files'
    mount declares none)."""
    paths: dict[str, set[str]] = {}
    for context in iter_route_contexts(create_console().routes):
        if isinstance(context.route, APIRoute):
            paths.setdefault(context.route.path, set()).update(context.route.methods or ())
    return paths


GET_PAGES = sorted(path for path, methods in console_paths().items() if "GET" in methods)


class Made:
    """What the pages' addresses name: a message, its event, a person, the destination."""

    def __init__(self, message_id: str, event_id: str, person_id: str) -> None:
        self.ids = {
            "message_id": message_id,
            "event_id": event_id,
            "person_id": person_id,
            "destination_id": "noord",
        }

    def url(self, path: str) -> str:
        """``path`` with its parameters filled: a real id where one is made, else an unknown
        one (its page is then a 404, for the ``HEAD`` as for the ``GET``)."""
        return re.sub(r"\{(\w+)\}", lambda m: self.ids.get(m.group(1), UNKNOWN), path)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def made(engine: Engine, email: str) -> Made:
    event = make_event()
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(event, [message])
    return Made(message.id, event.id, await person_id(engine, email))


def cookie(browser: httpx.AsyncClient) -> list[tuple[str, str]]:
    jar = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return [("cookie", jar)]


async def views(engine: Engine) -> int:
    return await engine.store.count_audit(AuditFilter(action=PATIENT_DATA_VIEW))


async def test_every_page_answers_head_as_its_get_without_a_body(engine: Engine) -> None:
    assert len(GET_PAGES) > 25
    async with signed_in(engine, "all@example.org", *EVERYTHING) as browser:
        where = await made(engine, "all@example.org")
        app = create_app(engine)
        statuses = set()
        for path in GET_PAGES:
            url = where.url(path)
            got = await asked(app, "GET", url, cookie(browser))
            head = await asked(app, "HEAD", url, cookie(browser))
            assert head.status == got.status, (path, head.status, got.status)
            assert head.body == b"", path
            statuses.add(got.status)
            if path in EXPORTS:  # what only the file tells is left out (see below)
                assert set(head.headers) == set(got.headers) - {"content-length"}, path
                continue
            if path in TIMED:
                assert _without_length(head.headers) == _without_length(got.headers), path
                continue
            if path in VIEWED and got.status == 200:  # unrecorded: not even its size leaves
                assert head.headers == _without_length(got.headers), path
                continue
            assert head.headers == got.headers, path
            assert int(head.headers.get("content-length", 0)) == len(got.body), path
    assert {200, 404} <= statuses  # pages shown, and the unknown ids' 404 pages


def _without_length(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != "content-length"}


async def test_head_without_a_session_gets_what_the_get_gets(engine: Engine) -> None:
    """The redirect to sign in (returning to the page), the sign-in page itself, and the
    session check's 401: never the page, and never a 405."""
    app = create_app(engine)
    where = Made(UNKNOWN, UNKNOWN, UNKNOWN)
    for path in GET_PAGES:
        url = where.url(path)
        got = await asked(app, "GET", url)
        head = await asked(app, "HEAD", url)
        assert head.status == got.status, (path, head.status, got.status)
        assert head.body == b"", path
        assert head.headers.get("location") == got.headers.get("location"), path
    messages = await asked(app, "HEAD", "/messages")
    assert messages.status == 303
    assert messages.headers["location"] == "/login?next=%2Fmessages"
    assert (await asked(app, "HEAD", "/session/left")).status == 401
    assert (await asked(app, "HEAD", "/login")).status == 200


async def test_head_needs_the_permission_its_get_needs(engine: Engine) -> None:
    async with signed_in(engine, "viewer@example.org", Grant(Role.VIEWER)) as browser:
        app = create_app(engine)
        for url in ("/audit", "/people", "/audit.csv", "/messages.csv"):
            got = await asked(app, "GET", url, cookie(browser))
            head = await asked(app, "HEAD", url, cookie(browser))
            assert got.status == head.status == 403, (url, head.status)
            assert head.body == b"", url
            assert head.headers["content-length"] == str(len(got.body)), url
        assert (await asked(app, "HEAD", "/messages", cookie(browser))).status == 200


VIEWED = {"/messages/{message_id}", "/messages/{message_id}/status", "/events/{event_id}"}
"""The pages whose ``GET`` shows patient data, each recorded as a view."""


async def test_head_records_no_view_of_patient_data(engine: Engine) -> None:
    """As the API's ``HEAD`` (docs/access.md): a message's page, its status fragment and an
    event's page are made and checked for a ``HEAD`` as for the ``GET``, and none of it is
    sent, so no ``patient_data.view`` says the person saw a patient they never saw. Every page
    is asked, so one that records views later is held to it too; each ``GET`` that shows
    patient data still records its view, as the person who asked."""
    async with signed_in(engine, "all@example.org", *EVERYTHING) as browser:
        where = await made(engine, "all@example.org")
        app = create_app(engine)
        recorded = set()
        for path in GET_PAGES:
            url = where.url(path)
            before = await views(engine)
            head = await asked(app, "HEAD", url, cookie(browser))
            assert await views(engine) == before, path
            assert head.body == b"", path
            got = await asked(app, "GET", url, cookie(browser))
            assert head.status == got.status, (path, head.status, got.status)
            if await views(engine) > before:
                assert await views(engine) == before + 1, path
                assert head.status == 200, path
                entry = (await engine.store.list_audit(AuditFilter(action=PATIENT_DATA_VIEW)))[0]
                assert entry.actor == "person:all@example.org", path
                assert entry.target in (where.ids["message_id"], where.ids["event_id"]), path
                recorded.add(path)
    assert recorded == VIEWED


async def tokens(engine: Engine) -> int:
    """How many one-time tokens of forms (``console.once``) the store keeps."""
    async with engine.store._engine.connect() as conn:
        counted = await conn.exec_driver_sql("SELECT count(*) FROM console_confirmations")
        return int(counted.scalar_one())


ISSUING = {
    "/destinations/{destination_id}",  # its test form
    "/destinations/{destination_id}/remove",
    "/events/unrouted",  # its Route form, once an event waits
    "/events/{event_id}",  # an unrouted event's Route now
}
"""Pages whose ``GET`` issues a form's one-time token, with the test's data below."""


async def test_head_keeps_no_one_time_token(engine: Engine) -> None:
    """A form's one-time token is kept in the store when its page is drawn; a ``HEAD`` of the
    page (the unrouted events page's, by a monitor) wrote one each time, for a form that went
    nowhere. Every page is asked, so one that issues tokens later is held to it too; each
    ``GET`` that shows such a form still keeps its token."""
    async with signed_in(engine, "all@example.org", *EVERYTHING) as browser:
        where = await made(engine, "all@example.org")
        unrouted = make_event(zd_number="ZD100000777")  # of a provider noord serves: routable
        assert await engine.store.accept_event(unrouted, [])
        where.ids["event_id"] = unrouted.id
        app = create_app(engine)
        issued = set()
        for path in GET_PAGES:
            url = where.url(path)
            before = await tokens(engine)
            head = await asked(app, "HEAD", url, cookie(browser))
            assert await tokens(engine) == before, path
            got = await asked(app, "GET", url, cookie(browser))
            assert head.status == got.status, (path, head.status, got.status)
            if await tokens(engine) > before:
                issued.add(path)
    assert issued >= ISSUING


async def test_head_of_an_export_exports_nothing(engine: Engine) -> None:
    """Each export is audited before its file goes out: a ``HEAD`` that made one would put an
    export of rows that never left in the trail. It answers the file's headers without it."""
    grants = (Grant(Role.REPORTS), Grant(Role.ADMIN), Grant(Role.VIEWER))
    async with signed_in(engine, "reports@example.org", *grants) as browser:
        await made(engine, "reports@example.org")
        app = create_app(engine)
        for url, filename in EXPORTS.items():
            before = await engine.store.count_audit(AuditFilter())
            head = await asked(app, "HEAD", url, cookie(browser))
            assert head.status == 200, url
            assert head.body == b"", url
            assert "content-length" not in head.headers, url  # 0 would be a lie
            assert head.headers["content-type"] == "text/csv; charset=utf-8", url
            assert head.headers["content-disposition"] == f'attachment; filename="{filename}"'
            assert await engine.store.count_audit(AuditFilter()) == before, url
            got = await asked(app, "GET", url, cookie(browser))
            assert got.status == 200 and got.body.count(b"\n") >= 1, url
            assert await engine.store.count_audit(AuditFilter()) == before + 1, url


async def test_head_takes_no_answer_shown_once(engine: Engine) -> None:
    """A new token is shown once, by the first GET of its kept answer: a ``HEAD`` before it
    (a link checker, a prefetch) took it, and the person never saw their token."""
    async with signed_in(engine, "admin@example.org", Grant(Role.ADMIN)) as browser:
        form = await browser.get("/tokens")
        made_token = await browser.post(
            "/tokens",
            data={"csrf": csrf(form.text), "name": "probe", "role": "viewer", "cluster": ""},
            headers={**ORIGIN, "referer": f"{BASE}/tokens"},
            extensions=NOT_FOLLOWED,
        )
        assert made_token.status_code == 303, made_token.text
        location = made_token.headers["location"]
        assert "answer=" in location
        app = create_app(engine)
        head: Answer = await asked(app, "HEAD", location, cookie(browser))
        assert head.status == 200 and head.body == b""
        shown = await browser.get(location)
        assert shown.status_code == 200, shown.text
        assert "probe" in shown.text
        again = await browser.get(location, follow_redirects=False)
        assert again.status_code == 303  # taken by the GET: shown once


def allow(header: str) -> list[str]:
    return [method.strip() for method in header.split(",")]


async def test_a_405_names_every_method_of_its_path(engine: Engine) -> None:
    """Every console path, with a method it does not take: a 405 page, never a 404, with
    ``Allow`` naming every method the path takes (``HEAD`` wherever ``GET`` is)."""
    tried = ("PATCH", "PUT", "DELETE", "POST", "GET")
    app = create_app(engine)
    checked = 0
    for path, methods in console_paths().items():
        wrong = next(method for method in tried if method not in methods)
        answer = await asked(app, wrong, path.replace("{", "x").replace("}", ""))
        if answer.status != 405:  # another route takes the path's text with that method
            assert answer.status != 404, (wrong, path)
            continue
        expected = methods | ({"HEAD"} if "GET" in methods else set())
        assert set(allow(answer.headers["allow"])) >= expected, (wrong, path)
        assert answer.headers["content-type"].startswith("text/html"), path
        checked += 1
    assert checked >= 60


async def test_a_405_page_says_what_the_path_takes(engine: Engine) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(engine)),
        base_url=BASE,
        headers={"accept-language": "en"},
    ) as browser:
        root = await browser.post("/")
        assert root.status_code == 405
        assert root.headers["allow"] == "GET, HEAD"
        assert "this address does not take that method; it takes GET, HEAD" in root.text
        assert "Content-Security-Policy" in root.headers  # the console's page, not JSON
        message = await browser.delete(f"/messages/{UNKNOWN}")
        assert message.status_code == 405 and message.headers["allow"] == "GET, HEAD"
        # Two routes take the text: /messages/search (POST), and a message id (GET).
        search = await browser.delete("/messages/search")
        assert search.status_code == 405 and search.headers["allow"] == "GET, HEAD, POST"
        # A form's address opened as a page: said as before, with what it takes.
        logout = await browser.get("/logout")
        assert logout.status_code == 405 and logout.headers["allow"] == "POST"
        assert "it is not a page to open" in logout.text
        static = await browser.patch("/static/console.js")
        assert static.status_code == 405 and static.headers["allow"] == "GET, HEAD"
        # The method is never echoed: a client may send anything as one.
        odd = await browser.request("BSN123456782", "/")
        assert odd.status_code == 405 and "123456782" not in odd.text
        dutch = await browser.put("/login", headers={"accept-language": "nl"})
        assert dutch.headers["allow"] == "GET, HEAD, POST"
        assert "dit adres werkt niet met die methode; het werkt met GET, HEAD, POST" in dutch.text
        unknown = await browser.delete("/no-such-page")
        assert unknown.status_code == 404 and "allow" not in unknown.headers
        assert SESSION_COOKIE not in unknown.headers.get("set-cookie", "")
