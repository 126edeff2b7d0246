"""The console's sign-in and invitation forms held for an address with too many failed
attempts: 429 with ``Retry-After`` and a sentence in the person's language, nothing checked,
one audit entry, the engine's counter; other addresses sign in as usual. In process, against
the app, with the engine's clock moved by the test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from integrator.access.totp import code_at
from integrator.engine import Engine
from integrator.http import create_app
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.console.test_session import EMAIL, accepted, csrf

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
GUESSER = "192.0.2.7"
COLLEAGUE = "198.51.100.9"
BASE = "http://console.test"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


def browser_at(engine: Engine, address: str, lang: str = "en") -> httpx.AsyncClient:
    """A browser whose requests come from ``address`` (the connection's, as uvicorn gives it:
    the address the audit trail records)."""
    transport = httpx.ASGITransport(app=create_app(engine), client=(address, 50123))
    return httpx.AsyncClient(transport=transport, base_url=BASE, headers={"accept-language": lang})


async def post_login(
    browser: httpx.AsyncClient, email: str, password: str, code: str
) -> httpx.Response:
    form = await browser.get("/login")
    return await browser.post(
        "/login",
        data={"csrf": csrf(form.text), "email": email, "password": password, "code": code},
        headers={"origin": BASE},
    )


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


async def _audited(engine: Engine, action: str) -> list[dict[str, object]]:
    entries = await engine.store.list_audit(limit=1000)
    return [dict(e.details or {}) for e in entries if e.action == action]


def _held_count(engine: Engine) -> float | None:
    return engine.metrics.registry.get_sample_value("integrator_sign_ins_held_total")


async def test_ten_failures_from_one_address_hold_it_and_the_right_password_is_not_checked(
    engine: Engine,
) -> None:
    totp = await accepted(engine)
    assert _held_count(engine) == 0
    async with browser_at(engine, GUESSER) as guesser:
        for n in range(10):
            refused = await post_login(guesser, f"p{n}@example.org", "guess one two", "000000")
            assert refused.status_code == 303  # the refusal, kept and shown by a GET
        answer = await post_login(guesser, EMAIL, PASSWORD, code_at(totp, engine.clock.now()))
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "600"
        said = _text(answer.text)
        assert "Too many failed attempts to sign in have come from your network address" in said
        assert "wait 10 minutes" in said
        assert "integrator-session" not in answer.headers.get("set-cookie", "")
    async with browser_at(engine, GUESSER, "nl") as dutch:
        engine.clock.advance(timedelta(minutes=9, seconds=30))  # type: ignore[attr-defined]
        answer = await post_login(dutch, EMAIL, PASSWORD, code_at(totp, engine.clock.now()))
        assert answer.status_code == 429 and answer.headers["retry-after"] == "30"
        assert "te veel mislukte pogingen" in _text(answer.text)
        assert "wacht 1 minuut en" in _text(answer.text)
    assert _held_count(engine) == 2
    # Neither was checked: ten failures audited, no success, and the hold itself once.
    assert len(await _audited(engine, "login.failure")) == 10
    assert await _audited(engine, "login.success") == []
    [held] = await _audited(engine, "login.throttled")
    assert held["source"] == GUESSER and held["step"] == "login"
    # A colleague at another address signs in meanwhile; the guesser once the window passed.
    async with browser_at(engine, COLLEAGUE) as colleague:
        engine.clock.advance(timedelta(seconds=29))  # type: ignore[attr-defined]
        signed = await post_login(colleague, EMAIL, PASSWORD, code_at(totp, engine.clock.now()))
        assert signed.status_code == 303 and signed.headers["location"] == "/"
    async with browser_at(engine, GUESSER) as guesser:
        engine.clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]
        signed = await post_login(guesser, EMAIL, PASSWORD, code_at(totp, engine.clock.now()))
        assert signed.status_code == 303 and signed.headers["location"] == "/"


async def test_an_invitation_step_from_a_held_address_is_429_and_opens_nothing(
    engine: Engine,
) -> None:
    async with browser_at(engine, GUESSER) as guesser:
        for n in range(10):
            await post_login(guesser, f"p{n}@example.org", "guess one two", "000000")
        token = csrf((await guesser.get("/invitation")).text)
        answer = await guesser.post(
            "/invitation/open",
            data={"csrf": token, "secret": "some-link-secret"},
            headers={"origin": BASE},
        )
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) == 600
    assert "Too many failed attempts to sign in" in _text(answer.text)
    assert await _audited(engine, "invitation.open") == []
    [held] = await _audited(engine, "login.throttled")
    assert held["step"] == "invitation.open"
