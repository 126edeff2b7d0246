"""How a command that goes through the running engine says the engine refused its token.

Every refusal was said as a missing role ("set INTEGRATOR_TOKEN to a token with the resend
role"): a newcomer with ``INTEGRATOR_TOKEN=itg_bogus``, or a token that had expired or been
revoked, went looking for a role the token may well hold. Now the engine's 401 to a token
sent says the token is not accepted and how to make a new one; its 403 keeps the role's advice,
with the engine's word on the permission missing; no token at all is said as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from integrator.access import AccessService, Grant, Role
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.engine_api import EngineRefused, check_allowed
from integrator.http import create_app
from tests.http.support import MAKER, bearer, token_for
from tests.integrator.support import settings_for

RESEND = "/api/v1/messages/m-1/resend"

NO_TOKEN = (
    "the engine at http://engine refused: set INTEGRATOR_TOKEN to a token with the resend "
    "role; `integrator tokens create NAME --role resend` makes one"
)
NOT_ACCEPTED = (
    "the engine at http://engine refused the token in INTEGRATOR_TOKEN: it is not accepted "
    "(unknown, expired or revoked, or its owner was deactivated); `integrator tokens create "
    "NAME --role resend`, run on the server, makes a new one"
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def refusal(engine: Engine, headers: dict[str, str]) -> str:
    """What the command says when the engine answers its resend with ``headers``."""
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://engine", headers=headers
    ) as client:
        response = await client.post(RESEND, json={"reason": "x"})
    with pytest.raises(EngineRefused) as refused:
        check_allowed(response, Role.RESEND)
    assert refused.value.exit_code == 1
    return str(refused.value)


async def test_without_a_token_the_command_says_to_set_one_with_the_role(engine: Engine) -> None:
    assert await refusal(engine, {}) == NO_TOKEN


async def test_a_token_the_engine_does_not_accept_is_said_so_not_as_a_missing_role(
    engine: Engine,
) -> None:
    revoked = await engine.access.create_token(MAKER, "revoked", [Grant(Role.RESEND)])
    await engine.access.revoke_token(MAKER, revoked.id)
    earlier = ManualClock(engine.clock.now() - timedelta(hours=2))  # expired an hour ago
    expired = await AccessService(engine.store, earlier).create_token(
        MAKER, "expired", [Grant(Role.RESEND)], expires_in=timedelta(hours=1)
    )
    for token in ("itg_bogus", revoked.token, expired.token):
        said = await refusal(engine, bearer(token))
        assert said == NOT_ACCEPTED
        assert token not in said  # a secret: never echoed


async def test_a_token_without_the_role_keeps_the_roles_advice_and_the_engines_word(
    engine: Engine,
) -> None:
    viewer = await token_for(engine, Grant(Role.VIEWER))
    assert await refusal(engine, bearer(viewer)) == (
        "the engine at http://engine refused: this needs the messages.resend permission for "
        "at least one cluster (role resend); set INTEGRATOR_TOKEN to a token with "
        "the resend role; `integrator tokens create NAME --role resend` makes one"
    )


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, text="<html>Forbidden by the proxy</html>"),
        httpx.Response(403, json={"detail": "this route declares no permission"}),
        httpx.Response(403, json={"detail": "this needs the \x1b[2J screen cleared"}),
        httpx.Response(403, json={"detail": "this needs the " + "x" * 600}),
        httpx.Response(403, json=["not", "an", "object"]),
    ],
)
def test_a_403_that_names_no_permission_is_said_with_the_role_alone(
    answer: httpx.Response,
) -> None:
    """Only the engine's own naming of the permission is passed on: whatever else answers at
    the address (a proxy) may say anything, escape sequences too."""
    answer.request = httpx.Request("POST", f"http://engine{RESEND}", headers=bearer("itg_x"))
    with pytest.raises(EngineRefused) as refused:
        check_allowed(answer, Role.RESEND)
    assert str(refused.value) == NO_TOKEN


def test_a_401_to_a_request_without_a_token_is_the_missing_tokens() -> None:
    answer = httpx.Response(401, request=httpx.Request("POST", f"http://engine{RESEND}"))
    with pytest.raises(EngineRefused) as refused:
        check_allowed(answer, Role.RESEND)
    assert str(refused.value) == NO_TOKEN
    assert refused.value.accepted


@pytest.mark.parametrize("status", [200, 202, 404, 422])
def test_other_answers_are_no_refusal_of_the_token(status: int) -> None:
    check_allowed(httpx.Response(status, request=httpx.Request("GET", "http://e/")), Role.INTAKE)
