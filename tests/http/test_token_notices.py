"""A token that stopped working, or soon will, is said: in the log, in a header, never in a 401.

From an upstream developer's walkthrough: an intake token expired after its 90 days with no
warning, the 401 read like "you sent no token", and the engine logged nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from structlog.testing import capture_logs

from integrator.access import AccessService, Grant, Role
from integrator.access.token_notices import EXPIRES_SOON, TokenNotices
from integrator.access.tokens import hash_secret
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.http.auth import UNAUTHENTICATED
from integrator.http.caching import TOKEN_EXPIRES
from tests.http.support import MAKER, api_client, bearer, token_for

EVENTS = "/api/v1/events"


def lines(logs: Sequence[Mapping[str, Any]], event: str) -> list[Mapping[str, Any]]:
    return [line for line in logs if line["event"] == event]


async def expired_token(engine: Engine, name: str) -> str:
    """A token made by a clock two hours behind, valid for one: expired an hour ago."""
    earlier = ManualClock(engine.clock.now() - timedelta(hours=2))
    made = await AccessService(engine.store, earlier).create_token(
        MAKER, name, [Grant(Role.INTAKE)], expires_in=timedelta(hours=1)
    )
    return made.token


async def test_the_401_says_no_valid_token_and_why_it_may_be_the_same_for_all(
    engine: Engine, app: EngineApp
) -> None:
    revoked = await engine.access.create_token(MAKER, "revoked-one", [Grant(Role.INTAKE)])
    await engine.access.revoke_token(MAKER, revoked.id)
    expired = await expired_token(engine, "expired-one")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        answers = [
            await client.get(EVENTS, headers=headers)
            for headers in ({}, bearer("itg_" + "x" * 43), bearer(revoked.token), bearer(expired))
        ]
    assert {answer.status_code for answer in answers} == {401}
    assert {answer.json()["detail"] for answer in answers} == {UNAUTHENTICATED}
    for reason in ("no valid API token", "missing", "unknown", "expired", "revoked", "deactivated"):
        assert reason in UNAUTHENTICATED
    assert not any(TOKEN_EXPIRES.lower() in answer.headers for answer in answers)


async def test_a_known_token_that_no_longer_works_is_logged_once_an_hour_never_itself(
    engine: Engine, app: EngineApp
) -> None:
    revoked = await engine.access.create_token(MAKER, "gp-noord-old", [Grant(Role.INTAKE)])
    await engine.access.revoke_token(MAKER, revoked.id)
    expired = await expired_token(engine, "gp-zuid-old")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        with capture_logs() as logs:
            for _ in range(3):
                for token in (revoked.token, expired, "itg_" + "y" * 43):
                    answer = await client.post(EVENTS, json={}, headers=bearer(token))
                    assert answer.status_code == 401
    refused = lines(logs, "API token refused")
    assert [(line["token"], line["why"], line["log_level"]) for line in refused] == [
        ("token:gp-noord-old", "revoked", "warning"),
        ("token:gp-zuid-old", "expired", "warning"),
    ]
    said = repr(logs)
    assert revoked.token not in said and expired not in said
    assert revoked.token[:12] not in said  # not even its visible prefix


async def test_a_token_near_its_expiry_is_logged_once_a_day_and_every_answer_says_when(
    engine: Engine, app: EngineApp
) -> None:
    soon = await engine.access.create_token(
        MAKER, "gp-west", [Grant(Role.VIEWER)], expires_in=timedelta(days=10)
    )
    later = await token_for(engine, Grant(Role.VIEWER), name="gp-oost")  # 90 days
    async with api_client(engine, soon.token, app=app) as client:
        with capture_logs() as logs:
            first = await client.get(EVENTS)
            second = await client.get(EVENTS)
    assert first.status_code == second.status_code == 200
    expires = datetime.fromisoformat(first.headers[TOKEN_EXPIRES])
    assert expires == soon.expires_at and expires.utcoffset() == timedelta(0)
    [told] = lines(logs, "API token expires soon")
    assert told["log_level"] == "warning"
    assert told["token"] == "token:gp-west"
    assert datetime.fromisoformat(told["expires_at"]) == soon.expires_at
    assert told["days_left"] in (9, 10)
    assert "integrator tokens create" in told["to_do"]
    assert soon.token not in repr(logs)
    async with api_client(engine, later, app=app) as client:
        with capture_logs() as logs:
            answer = await client.get(EVENTS)
    assert answer.headers[TOKEN_EXPIRES]  # every answer says when, far off too
    assert lines(logs, "API token expires soon") == []


async def test_the_expiring_notice_comes_again_a_day_later(engine: Engine) -> None:
    clock = ManualClock(datetime(2027, 1, 1, 9, tzinfo=UTC))
    made = await AccessService(engine.store, clock).create_token(
        MAKER, "nightly", [Grant(Role.VIEWER)], expires_in=timedelta(days=30)
    )
    notices = TokenNotices(engine.store, clock.now)
    identity = await AccessService(engine.store, clock).authenticate_token(made.token)
    assert identity is not None
    key = hash_secret(made.token)
    with capture_logs() as logs:
        assert await notices.used(key, identity) == made.expires_at  # 30 days: nothing said
        clock.advance(timedelta(days=30) - EXPIRES_SOON)  # 14 days left
        await notices.used(key, identity)
        clock.advance(timedelta(hours=23))
        await notices.used(key, identity)
        clock.advance(timedelta(hours=1))
        await notices.used(key, identity)
    assert [line["days_left"] for line in lines(logs, "API token expires soon")] == [14, 13]
