"""The longest address the service takes fits every column the audit trail names a person in,
on both stores: PostgreSQL refuses a longer value where SQLite keeps it, and an unknown
300-character address at the sign-in form was a 500 there (its failed sign-in unaudited),
an invitation of a 130-character address was made and could never be accepted."""

from __future__ import annotations

import pytest

from integrator.access import AccessService, Grant, Role
from integrator.access.errors import BadAccessInput, LoginRefused
from integrator.access.limits import MAX_EMAIL_LENGTH
from integrator.clock import ManualClock
from integrator.store import AuditFilter, Store
from tests.access.conftest import LOCAL, PASSWORD, login_as, onboard


async def test_the_longest_address_is_invited_accepted_and_signs_in(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    longest = "a" * (MAX_EMAIL_LENGTH - len("@example.org")) + "@example.org"
    member = await onboard(service, clock, longest, Grant(Role.VIEWER))
    identity = await login_as(service, clock, member)
    assert identity.display == f"person:{longest}"
    with pytest.raises(BadAccessInput, match="not an e-mail address"):
        await service.invite(LOCAL, "b" + longest, [Grant(Role.VIEWER)])


async def test_an_unknown_address_too_long_to_be_one_is_refused_and_audited(
    service: AccessService, store: Store
) -> None:
    overlong = "b" * 300 + "@example.org"
    with pytest.raises(LoginRefused):
        await service.login(overlong, PASSWORD, "123456")
    [entry] = await store.list_audit(AuditFilter(action="login.failure"), limit=10)
    assert entry.target == "person:(not an e-mail address)"
    assert entry.reason == "unknown account"
