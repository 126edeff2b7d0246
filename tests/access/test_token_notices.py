"""Why a known token no longer works is told in the log, by name (``token_notices``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from structlog.testing import capture_logs

from integrator.access import AccessService, Grant, Role
from integrator.access.token_notices import REFUSED_EVERY, TokenNotices
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import LOCAL, login_as, onboard


def refused(logs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(line["token"], line["why"]) for line in logs if line["event"] == "API token refused"]


async def test_a_deactivated_owners_token_is_named_with_why(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    eva = await onboard(service, clock, "eva@example.nl", Grant(Role.VIEWER))
    signed_in = await login_as(service, clock, eva)
    own = await service.create_token(signed_in, "eva-script", [Grant(Role.VIEWER)])
    await service.deactivate_person(LOCAL, eva.email, reason="left")
    assert await service.authenticate_token(own.token) is None
    notices = TokenNotices(store, clock.now)
    with capture_logs() as logs:
        await notices.refused(own.token)
        await notices.refused(own.token)  # within the hour: not again
        clock.advance(REFUSED_EVERY)
        await notices.refused(own.token)
    assert refused(logs) == [("token:eva-script", "owner deactivated")] * 2
    assert own.token not in repr(logs)


async def test_a_working_token_or_no_token_shape_is_not_told(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    working = await service.create_token(LOCAL, "fine", [Grant(Role.VIEWER)])
    notices = TokenNotices(store, clock.now)
    with capture_logs() as logs:
        await notices.refused(working.token)  # refused elsewhere, say, but it works: no why
        await notices.refused("not-a-token")
    assert refused(logs) == []
