"""What the address of a page may hold: a page offset or size out of range is refused naming it
(4xx), never an overflow in the database driver (a bare 500), on every console page and API
route that takes one; and no BSN, on any console page. Found by walking the routes, so a page
added later is covered too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from integrator.access import Grant, Role
from integrator.access.totp import code_at
from integrator.console import create_console
from integrator.engine import Engine
from integrator.http import create_app
from tests.console import answered
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.console.test_session import START, csrf
from tests.http.support import MAKER

EMAIL = "quinn@example.org"
HUGE = "99999999999999999999"
PAGING = ("offset", "limit")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


def paged_routes(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, str]]:
    """``(path, parameter)`` of every GET route taking ``offset`` or ``limit`` in its query."""
    for context in iter_route_contexts(routes):
        route = context.route
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
            continue
        for name in query_names(route.dependant):
            if name in PAGING:
                yield route.path, name


def query_names(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias for param in dependant.query_params)
    for dependency in dependant.dependencies:
        yield from query_names(dependency)


async def signed_in(engine: Engine, browser: httpx.AsyncClient) -> None:
    """A person holding every role a person can hold, for all clusters, signed in."""
    roles = [r for r in Role if r not in (Role.INTAKE, Role.METRICS)]
    link = await engine.access.invite(MAKER, EMAIL, [Grant(r) for r in roles])
    assert link.link is not None
    secret = link.link.split("#", 1)[1]
    start = await engine.access.begin_accept(secret)
    clock = engine.clock
    earlier = clock.now() - timedelta(seconds=30)  # the sign-in below takes the current code
    await engine.access.finish_accept(secret, PASSWORD, code_at(start.totp_secret, earlier))
    form = await browser.get("/login")
    answer = await browser.post(
        "/login",
        data={
            "csrf": csrf(form.text),
            "email": EMAIL,
            "password": PASSWORD,
            "code": code_at(start.totp_secret, clock.now()),
        },
        headers={"origin": "http://console.test"},
    )
    assert answer.status_code == 303, answer.text


def test_the_walk_finds_the_listings() -> None:
    console = dict(paged_routes(create_console().routes))
    assert {"/messages", "/audit"} <= set(console)


async def test_a_huge_page_offset_or_size_is_refused_naming_it(engine: Engine) -> None:
    app = create_app(engine)
    console = list(paged_routes(create_console().routes))
    api = list(paged_routes(app.app.routes))
    assert ("/api/v1/messages", "offset") in api and ("/messages", "offset") in console
    token = (await engine.access.create_token(MAKER, "all", [Grant(r) for r in Role])).token
    transport = answered.transport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as browser:
        await signed_in(engine, browser)
        for path, name in console:
            for value in (HUGE, f"-{HUGE}"):
                answer = await browser.get(path, params={name: value})
                assert 400 <= answer.status_code < 500, (path, name, value)
                assert name in answer.text and HUGE not in answer.text, (path, name)
        bearer = {"authorization": f"Bearer {token}"}
        for path, name in api:
            answer = await browser.get(path, params={name: HUGE}, headers=bearer)
            assert 400 <= answer.status_code < 500, (path, name)
            assert name in answer.text, (path, name)


BSN = "123456915"


def console_pages() -> list[str]:
    """Every GET path of the console, with ``x`` for each path parameter."""
    console = create_console()
    paths = [
        context.route.path
        for context in iter_route_contexts(console.routes)
        if isinstance(context.route, APIRoute) and "GET" in (context.route.methods or ())
    ]
    return [re.sub(r"\{[^}]+\}", "x", path) for path in paths]


async def test_a_bsn_in_the_address_of_any_page_is_refused_never_ignored(engine: Engine) -> None:
    pages = console_pages()
    assert {"/messages", "/messages.csv", "/audit", "/people"} <= set(pages)
    transport = answered.transport(create_app(engine))
    english = {"accept-language": "en"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://console.test", headers=english
    ) as browser:
        # Before signing in too: the way to the sign-in page would carry it on.
        answer = await browser.get("/messages", params={"bsn": BSN})
        assert answer.status_code == 422 and BSN not in answer.text
        assert BSN not in answer.headers.get("location", "")
        await signed_in(engine, browser)
        for path in pages:
            for key in ("bsn", "BSN", "patient_bsn"):
                answer = await browser.get(path, params={key: BSN, "zd_number": "ZD1"})
                assert answer.status_code == 422, (path, key)
                assert "bsn: a BSN goes in the search form" in answer.text, (path, key)
                assert BSN not in answer.text, (path, key)
        dutch = await browser.get(
            "/messages", params={"bsn": BSN}, headers={"accept-language": "nl"}
        )
        assert "nooit in een webadres" in dutch.text and BSN not in dutch.text
    # Nothing was searched: no view of patient data was recorded.
    actions = [e.action for e in await engine.store.list_audit(limit=100)]
    assert "patient_data.view" not in actions


async def test_an_empty_field_of_a_console_form_is_no_filter(engine: Engine) -> None:
    """The console's search forms send every field, filled in or not: there an empty field
    means "not filtered" (the API refuses an empty term: ``search.given_term``)."""
    empty = {
        "/messages": ("zd_number", "destination", "status", "version", "event_type", "since"),
        "/messages.csv": ("zd_number", "destination", "status", "until"),
        "/events": ("zd_number", "provider", "event_type", "since", "until"),
        "/audit": ("actor", "action", "target", "destination", "since", "until"),
        "/rejected": ("zd_number", "provider", "source", "since", "until"),
    }
    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as browser:
        await signed_in(engine, browser)
        for path, fields in empty.items():
            answer = await browser.get(path, params=dict.fromkeys(fields, ""))
            assert answer.status_code == 200, (path, answer.text)
