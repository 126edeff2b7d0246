"""The tokens page with what a hand-made request or a second click sends: a number of days
written with other digits ("²") is refused beside its field (it was a 500), and revoking a
token twice leads back to the list as the first time did (it was a bare refusal page),
auditing one revocation."""

from __future__ import annotations

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.console.test_saved_searches import engine, post, signed_in  # noqa: F401


async def test_days_in_other_digits_and_a_second_revoke(engine: Engine) -> None:  # noqa: F811
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        odd = await post(ann, "/tokens", {"name": "feed", "role": "viewer", "days": "²"})
        made = await post(ann, "/tokens", {"name": "feed", "role": "viewer", "days": "30"})
        [token] = [t for t in await engine.store.list_tokens() if t.name == "feed"]
        url = f"/tokens/{token.id}/revoke"
        first = await post(ann, url, {"reason": "laptop replaced"})
        second = await post(ann, url, {"reason": "laptop replaced"})
    assert odd.status_code == 422, odd.text
    assert "a whole number of days" in odd.text  # beside the field, the form kept
    assert made.status_code == 200, made.text
    for answer in (first, second):
        assert answer.status_code == 303 and answer.headers["location"] == "/tokens"
    revoked = await engine.store.list_audit(AuditFilter(action="token.revoke"))
    assert len(revoked) == 1
