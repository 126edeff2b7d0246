"""The console's known-device cookie: set at a sign-in, kept at signing out, and what lets its
person in while someone else's wrong guesses keep the account locked (``access.known_devices``).
In process, against the app, with the engine's clock moved by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.access.known_devices import DEVICE_DAYS
from integrator.access.totp import code_at
from integrator.engine import Engine
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.console.test_session import EMAIL, accepted, csrf
from tests.console.test_sign_in_held import COLLEAGUE, GUESSER, START, browser_at, post_login


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


def _code(engine: Engine, totp: str) -> str:
    engine.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    return code_at(totp, engine.clock.now())


async def test_a_browser_signed_in_before_gets_in_while_a_guesser_keeps_the_account_locked(
    engine: Engine,
) -> None:
    totp = await accepted(engine)
    async with browser_at(engine, COLLEAGUE) as own:
        signed = await post_login(own, EMAIL, PASSWORD, _code(engine, totp))
        assert signed.status_code == 303
        [cookie] = [c for c in signed.headers.get_list("set-cookie") if "device" in c]
        assert cookie.startswith("integrator-device=")
        attributes = cookie.lower()
        assert "httponly" in attributes and "samesite=strict" in attributes
        assert f"max-age={DEVICE_DAYS * 86400}" in attributes and "path=/" in attributes
        form = await own.get("/")
        out = await own.post(
            "/logout", data={"csrf": csrf(form.text)}, headers={"origin": "http://console.test"}
        )
        assert out.status_code == 303
        assert own.cookies.get("integrator-device") is not None  # kept when signing out
        async with browser_at(engine, GUESSER) as guesser:
            for _ in range(5):
                refused = await post_login(guesser, EMAIL, "a guess", _code(engine, totp))
                assert refused.status_code == 303
            locked = await post_login(guesser, EMAIL, PASSWORD, _code(engine, totp))
            assert "integrator-session" not in locked.headers.get("set-cookie", "")
        again = await post_login(own, EMAIL, PASSWORD, _code(engine, totp))
        assert again.status_code == 303 and again.headers["location"] == "/"
        assert "integrator-session=" in again.headers.get("set-cookie", "")
    entries = await engine.store.list_audit(target=f"person:{EMAIL}", limit=1000)
    assert [e.reason for e in reversed(entries) if e.action == "login.failure"] == [
        "wrong password"
    ] * 5 + ["account locked"]
    assert entries[0].action == "login.success"
