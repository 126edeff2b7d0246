"""A console session's reason (why its person looks at patient data): stated, changed and
cleared by ``AccessService.state_session_reason``, returned by ``authenticate_session`` as the
identity's ``session_reason``; checked as every reason is (``reasons.bounded``) before it is
kept; one session's alone, not its person's. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrator.access import AccessService, Grant, Role
from integrator.access.errors import BadAccessInput
from integrator.clock import ManualClock
from integrator.reasons import HOLDS_BSN, TOO_LONG
from tests.access.conftest import Member, next_code, onboard


async def _session(service: AccessService, clock: ManualClock, member: Member) -> str:
    result = await service.login(member.email, member.password, next_code(member, clock))
    return result.session


async def _reason(service: AccessService, session: str) -> str | None:
    identity = await service.authenticate_session(session)
    assert identity is not None
    return identity.session_reason


async def test_a_reason_is_stated_changed_and_cleared_for_one_session_only(
    service: AccessService, clock: ManualClock
) -> None:
    anna = await onboard(service, clock, "anna@example.nl", Grant(Role.RESEND))
    first, second = await _session(service, clock, anna), await _session(service, clock, anna)
    assert await _reason(service, first) is None

    assert await service.state_session_reason(first, "  huisarts belde over ZD100000001  ")
    assert await _reason(service, first) == "huisarts belde over ZD100000001"
    assert await _reason(service, second) is None  # the session's, not the person's

    assert await service.state_session_reason(first, "storing bij noord")
    assert await _reason(service, first) == "storing bij noord"
    for cleared in (None, "", "   "):
        assert await service.state_session_reason(second, "iets")
        assert await service.state_session_reason(second, cleared)
        assert await _reason(service, second) is None
    assert await _reason(service, first) == "storing bij noord"


@pytest.mark.parametrize(
    ("given", "code", "rule"),
    [
        ("mevrouw belde, bsn 999990019", "reason.holds_bsn", HOLDS_BSN),
        ("999 990 019", "reason.holds_bsn", HOLDS_BSN),
        ("x" * 1001, "reason.too_long", TOO_LONG),
    ],
)
async def test_a_reason_that_breaks_a_rule_is_refused_and_the_one_before_kept(
    service: AccessService, clock: ManualClock, given: str, code: str, rule: str
) -> None:
    anna = await onboard(service, clock, "anna@example.nl", Grant(Role.RESEND))
    session = await _session(service, clock, anna)
    assert await service.state_session_reason(session, "eerste vraag")
    with pytest.raises(BadAccessInput) as refused:
        await service.state_session_reason(session, given)
    assert refused.value.field == "reason" and refused.value.rule == rule
    assert refused.value.code == code
    assert "999" not in str(refused.value)
    assert await _reason(service, session) == "eerste vraag"


async def test_an_ended_session_states_nothing(service: AccessService, clock: ManualClock) -> None:
    anna = await onboard(service, clock, "anna@example.nl", Grant(Role.RESEND))
    signed_out = await _session(service, clock, anna)
    await service.logout(signed_out)
    assert not await service.state_session_reason(signed_out, "te laat")
    idle = await _session(service, clock, anna)
    clock.advance(timedelta(hours=1))  # past the idle timeout
    assert not await service.state_session_reason(idle, "te laat")
    assert not await service.state_session_reason("no-such-session", "te laat")
