"""Access tests run on a real store, on SQLite and on PostgreSQL, with a clock that only moves
when a test moves it (expiry, idle timeouts and lockouts are reached by moving it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from typer.testing import CliRunner, Result

from integrator.access import (
    AccessService,
    AccessSettings,
    Grant,
    Identity,
    local_identity,
    totp,
)
from integrator.access.passwords import Passwords
from integrator.cli import app
from integrator.clock import ManualClock
from integrator.store import Store
from tests.store.conftest import Site, site

__all__ = ["site"]  # the store tests' fixture: every test here runs on both backends

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
BASE_URL = "https://integrator.example.nl"
PASSWORD = "lange zin als wachtwoord"
LOCAL = local_identity("local:piet")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def store(site: Site, clock: ManualClock) -> AsyncIterator[Store]:
    opened = await site.open(clock.now)
    yield opened
    await opened.close()


@pytest.fixture
def service(store: Store, clock: ManualClock) -> AccessService:
    # The cheapest Argon2id parameters: these tests are about the rules, not the hash's cost
    # (test_passwords checks the production parameters).
    return AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
    )


@dataclass(frozen=True)
class Member:
    """A person who accepted an invitation, with what they need to log in."""

    email: str
    password: str
    totp_secret: str
    recovery_codes: list[str]


def link_secret(link: str | None) -> str:
    assert link is not None  # shown, not e-mailed
    return link.split("#", 1)[1]


async def onboard(
    service: AccessService,
    clock: ManualClock,
    email: str,
    *grants: Grant,
    by: Identity = LOCAL,
) -> Member:
    invitation = await service.invite(by, email, list(grants))
    start = await service.begin_accept(link_secret(invitation.link))
    done = await service.finish_accept(
        link_secret(invitation.link), PASSWORD, totp.code_at(start.totp_secret, clock.now())
    )
    return Member(email, PASSWORD, start.totp_secret, done.recovery_codes)


def next_code(member: Member, clock: ManualClock) -> str:
    """Move to the next TOTP step and return the code the member's app shows then."""
    clock.advance(timedelta(seconds=30))
    return totp.code_at(member.totp_secret, clock.now())


async def login_as(service: AccessService, clock: ManualClock, member: Member) -> Identity:
    """Log the member in (at the next TOTP step) and return the session's identity."""
    result = await service.login(member.email, member.password, next_code(member, clock))
    identity = await service.authenticate_session(result.session)
    assert identity is not None
    return identity


# -- the CLI (tests/access/test_cli*.py) -------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store of the test's own, and the OS user ``piet`` (``local:piet``).

    The store is made here, as ``integrator run`` makes it before anyone runs these commands:
    they refuse to create one (a store made by mistake takes tokens no engine knows)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    asyncio.run(make_store(url))
    return {"INTEGRATOR_DATABASE_URL": url, "INTEGRATOR_HTTP_PORT": "9090", "USER": "piet"}


async def make_store(url: str) -> None:
    """An empty store at ``url``, as the engine's first start leaves it."""
    store = await Store.open(url)
    await store.close()


@pytest.fixture
def cli(env: dict[str, str]) -> Callable[..., Result]:
    """``integrator ARGS`` in this process, with ``env``."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke
