"""The prune deletes console sessions 30 days after they ended (``retention.SESSION_DAYS``).

A session's row (a person's id and times) was kept for ever; signed out, revoked or expired it
opens nothing, and its sign-in and sign-out are in the audit trail. The daily prune and
``integrator prune`` now delete the rows of sessions that ended more than 30 days ago, and
``--dry-run`` counts them; a live session, and one that ended lately, stay, and a live one
still works after the prune. On SQLite and PostgreSQL (the access tests' store), and through
the command on a SQLite file.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from typer.testing import CliRunner

from integrator.access import AccessService, AccessSettings, Grant, Role
from integrator.access.passwords import Passwords
from integrator.access.tokens import hash_secret
from integrator.cli import app
from integrator.clock import ManualClock
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import SESSION_DAYS, Retention
from integrator.store import Store
from tests.access.conftest import BASE_URL, Member, next_code, onboard

ACTOR = "local:piet"
VIEWER = Grant(Role.VIEWER)


async def _login(service: AccessService, clock: ManualClock, member: Member) -> str:
    """A new session of ``member``: the cookie's value."""
    result = await service.login(member.email, member.password, next_code(member, clock))
    return result.session


async def _sessions(
    service: AccessService, clock: ManualClock
) -> tuple[dict[str, str], dict[str, str]]:
    """Sessions of every kind: (those ended more than 30 days ago, those that must stay), by
    name, each its cookie's value; the clock ends 31 days after ``T0``."""
    anna = await onboard(service, clock, "anna@example.nl", VIEWER)
    bert = await onboard(service, clock, "bert@example.nl", VIEWER)
    signed_out = await _login(service, clock, anna)
    await service.logout(signed_out)
    expired = await _login(service, clock, anna)  # never signed out: ends after 12 hours
    idle = await _login(service, clock, bert)  # idle after 30 minutes, expired after 12 hours
    clock.advance(timedelta(days=SESSION_DAYS - 10))
    expired_lately = await _login(service, clock, bert)  # ended 10 days before the prune
    clock.advance(timedelta(days=11))  # T0 + 31 days
    signed_out_now = await _login(service, clock, anna)
    await service.logout(signed_out_now)
    live = await _login(service, clock, bert)
    old = {"signed_out": signed_out, "expired": expired, "idle": idle}
    kept = {"expired_lately": expired_lately, "signed_out_now": signed_out_now, "live": live}
    return old, kept


async def _present(store: Store, cookies: dict[str, str]) -> set[str]:
    return {
        name
        for name, cookie in cookies.items()
        if await store.get_session(hash_secret(cookie)) is not None
    }


async def test_sessions_ended_long_ago_go_live_and_recent_ones_stay(
    store: Store, service: AccessService, clock: ManualClock
) -> None:
    old, kept = await _sessions(service, clock)
    assert await _present(store, old | kept) == set(old) | set(kept)

    dry = await prune(store, Retention(), now=clock.now(), actor=ACTOR, dry_run=True)
    assert dry.counts["sessions"] == len(old)
    assert await _present(store, old | kept) == set(old) | set(kept)  # the dry run only counts

    # One row a batch: each continues after the last, and none is looked at twice.
    done = await prune(store, Retention(), now=clock.now(), actor=ACTOR, batch=1)
    assert done.counts["sessions"] == len(old)
    assert await _present(store, old | kept) == set(kept)
    [entry] = await store.list_audit(target="store", limit=1)
    assert entry.action == "data.prune" and entry.details["counts"]["sessions"] == len(old)

    # The live session still works, and goes on being used; the ended ones open nothing.
    identity = await service.authenticate_session(kept["live"])
    assert identity is not None and identity.display == "person:bert@example.nl"
    assert await service.session_time_left(kept["live"], keep=True) is not None
    for cookie in (*old.values(), kept["signed_out_now"]):
        assert await service.authenticate_session(cookie) is None

    # A second run finds nothing more; the periods do not matter (0: keep for ever).
    again = await prune(
        store,
        Retention(
            payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0, audit_days=0
        ),
        now=clock.now() + timedelta(days=9),
        actor=ACTOR,
    )
    assert again.counts["sessions"] == 0
    # expired_lately ended 10.5 days before the first prune: 20 days on, it is past 30.
    later = await prune(store, Retention(), now=clock.now() + timedelta(days=20), actor=ACTOR)
    assert later.counts["sessions"] == 1
    assert await _present(store, kept) == {"signed_out_now", "live"}


def test_prune_dry_run_counts_ended_sessions_and_prune_deletes_them(tmp_path: Path) -> None:
    """``integrator prune --dry-run`` counts them as it counts every kind, and says how long
    they are kept; ``integrator prune`` deletes them."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    clock = ManualClock(datetime.now(UTC) - timedelta(days=200))  # the command's is now

    async def fill() -> None:
        async with await Store.open(url, clock=clock.now) as store:
            service = AccessService(
                store,
                clock,
                AccessSettings(base_url=BASE_URL),
                Passwords(PasswordHasher.from_parameters(CHEAPEST)),
            )
            anna = await onboard(service, clock, "anna@example.nl", VIEWER)
            for _ in range(3):
                await service.logout(await _login(service, clock, anna))

    asyncio.run(fill())
    env = {"INTEGRATOR_DATABASE_URL": url, "USER": "piet", "INTEGRATOR_HTTP_PORT": "1"}
    runner = CliRunner()

    dry = runner.invoke(app, ["prune", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["counts"]["sessions"] == 3
    table = runner.invoke(app, ["prune", "--dry-run"], env=env, terminal_width=200)
    assert table.exit_code == 0, table.output
    [line] = [row for row in table.stdout.splitlines() if "console sessions" in row]
    assert "console sessions, ended (deleted)" in line and "30 days after it ended" in line
    assert line.rstrip(" │|").endswith("3")

    done = runner.invoke(app, ["prune", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["counts"]["sessions"] == 3
    again = runner.invoke(app, ["prune", "--dry-run", "--json"], env=env)
    assert json.loads(again.stdout)["counts"]["sessions"] == 0
