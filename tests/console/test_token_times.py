"""The token list shows its times as every console page does: in ``INTEGRATOR_TIMEZONE``, with
the offset. It printed them in UTC without one ("Last used 2026-12-01 10:44" where the CLI says
11:44+01:00), and the expiry as a UTC date: a token expiring just after local midnight showed
the day before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.access.totp import code_at
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from tests.console import answered
from tests.console.live import PASSWORD
from tests.console.test_session import accepted, csrf
from tests.http.support import MAKER
from tests.integrator.support import settings_for

EMAIL = "tina@example.org"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00:30 the next day in Amsterdam
USED = datetime(2026, 12, 1, 10, 44, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(
        tmp_path, search_key="a-console-test-search-key", timezone="Europe/Amsterdam"
    )
    settings.destinations_dir.mkdir()
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    yield started
    await started.stop()


async def sign_in_admin(engine: Engine, browser: httpx.AsyncClient) -> None:
    totp = await accepted(engine, EMAIL, (Grant(Role.ADMIN),))
    form = await browser.get("/login")
    answer = await browser.post(
        "/login",
        data={
            "csrf": csrf(form.text),
            "email": EMAIL,
            "password": PASSWORD,
            "code": code_at(totp, engine.clock.now()),
        },
        headers={"origin": "http://console.test"},
    )
    assert answer.status_code == 303, answer.text


async def test_expiry_and_last_use_are_local_times_with_their_offset(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    made = await engine.access.create_token(
        MAKER, "lab-feed", [Grant(Role.VIEWER)], expires_in=EXPIRES - START
    )
    clock.set(USED)
    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as browser:
        used = await browser.get(
            "/api/v1/destinations", headers={"authorization": f"Bearer {made.token}"}
        )
        assert used.status_code == 200
        await sign_in_admin(engine, browser)
        listed = await browser.get("/tokens")
    assert listed.status_code == 200
    row = next(line for line in listed.text.split("<tr>") if "lab-feed" in line)
    assert "2026-12-02 00:30:00+01:00" in row  # local midnight passed: the next day
    assert "2026-12-01 11:44:00+01:00" in row
    assert "2026-12-01</td>" not in row and "10:44" not in row
