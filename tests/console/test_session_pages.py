"""Sessions as a browser lives them: a page that refreshes by itself keeps no session alive. In a
real browser against a running engine; the session's idle clock is moved in the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.access.tokens import hash_secret
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, sign_in
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Request


def referral(number: int) -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = f"7a2d3b5f-9c2e-4b64-8e1f-4d3c2b{number:06d}"
    event["zd_number"] = f"ZD3000{number:05d}"
    return event


@pytest.fixture
def support(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    """Someone with the resend role, new for each test (a sign-in code works only once)."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[-40:]
    return live.person(f"{name}@example.org", Grant(Role.RESEND))


@pytest.fixture
def context(browser: Browser, live: LiveEngine) -> Iterator[BrowserContext]:
    opened = new_context(browser, live)
    try:
        yield opened
    finally:
        opened.close()


def session_of(context: BrowserContext) -> str:
    [secret] = [c["value"] for c in context.cookies() if c["name"] == "integrator-session"]
    return secret


def last_seen(live: LiveEngine, secret: str) -> datetime:
    session = live.call(live.engine.store.get_session(hash_secret(secret)))
    assert session is not None
    return session.last_seen_at


def idle_for(live: LiveEngine, secret: str, span: timedelta) -> datetime:
    """Make the session look as if its person last did something ``span`` ago."""
    then = live.engine.clock.now() - span
    moved = live.engine.store.touch_session(
        hash_secret(secret), now=then, seen_before=then + timedelta(days=1)
    )
    assert live.call(moved)
    return last_seen(live, secret)


def test_a_page_that_polls_keeps_no_session_alive(
    context: BrowserContext, support: Person, live: LiveEngine
) -> None:
    # A paused destination holds its messages: the page's status badge polls every 2 s.
    hold = live.engine.admin.set_enabled("noord", False, actor="local:test", reason="held")
    live.call(hold)
    try:
        message_id = live.submit(referral(1), settle=False)
        page = context.new_page()
        sign_in(page, support)
        polls: list[Request] = []
        page.on("request", lambda r: polls.append(r) if r.url.endswith("/status") else None)
        page.goto(f"/messages/{message_id}")
        assert page.locator("#message-status").inner_text() == "queued"
        screenshot(page, "message-queued")
        secret = session_of(context)
        # Ten idle minutes: any request counted as activity would move last_seen_at to now.
        before = idle_for(live, secret, timedelta(minutes=10))
        for _ in range(2):
            with page.expect_request(re.compile(r"/status$"), timeout=10_000):
                pass
        assert polls and all(r.headers.get("x-integrator-background") == "1" for r in polls)
        assert last_seen(live, secret) == before
        # The dashboard's refresh follows the same rule.
        with page.expect_request(re.compile(r"/dashboard/figures$"), timeout=15_000) as tile:
            page.goto("/")
        assert tile.value.headers.get("x-integrator-background") == "1"
        # What the person does still counts: the click on the dashboard link did.
        assert last_seen(live, secret) > before
    finally:
        resume = live.engine.admin.set_enabled("noord", True, actor="local:test", reason="done")
        live.call(resume)
        assert live.call(live.engine.wait_settled(timeout=20))
