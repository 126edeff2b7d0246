"""``GET /api/v1/audit/summary``: the access-log review (NEN 7513) through the API, behind the
audit trail's own permission; a bad period is a 422 naming it; every summary is recorded."""

from __future__ import annotations

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.http.support import api_client, token_for

ANNA, BERT = "person:anna@example.nl", "token:lab-desk"
PATH = "/api/v1/audit/summary"


async def _fill(engine: Engine) -> None:
    store, key = engine.store, engine.settings.bsn_hash
    for bsn in ("999999990", "999999990", "111222333"):
        await store.add_audit(
            ANNA, "patient_data.view", "m-1", details={"view": "message", "bsn_hash": key(bsn)}
        )
    await store.add_audit(
        BERT, "patient_data.view", "m-2", details={"view": "event", "bsn_hash": key("123456782")}
    )
    await store.add_audit(
        BERT, "messages.export", "messages.csv", reason="maandrapport", details={"terms": {}}
    )
    await store.add_audit(  # by BSN: that patient's data, told from the listing above
        BERT,
        "events.export",
        "events.csv",
        reason="verwijzer belde",
        details={"terms": {"bsn_hash": key("123456782")}},
    )
    await store.add_audit(BERT, "destination.update", "noord")


async def test_an_admin_gets_each_actors_views_exports_and_patients(engine: Engine) -> None:
    auditor = await token_for(engine, Grant(Role.ADMIN), name="privacy-officer")
    async with api_client(engine, auditor) as api:
        await _fill(engine)
        answer = await api.get(PATH)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows = [(a["actor"], a["views"], a["exports"], a["patients"]) for a in body["actors"]]
        assert rows == [(ANNA, 3, 0, 2), (BERT, 1, 2, 1)]  # most views first
        total = body["total"]
        assert (total["actor"], total["views"], total["exports"], total["patients"]) == (
            None,
            4,
            2,
            3,
        )
        assert total["actors"] == 2
        # The exports apart: by BSN (patient data) and a listing's without; ``exports`` both.
        split = [(a["exports_by_bsn"], a["exports_without_bsn"]) for a in body["actors"]]
        assert split == [(0, 0), (1, 1)]
        assert (total["exports_by_bsn"], total["exports_without_bsn"]) == (1, 1)
        # Who said no why (docs/product.md §8): Bert's export said it, nothing else did.
        assert [(a["actor"], a["without_reason"]) for a in body["actors"]] == [(ANNA, 3), (BERT, 1)]
        assert total["without_reason"] == 4
        assert body["actions"] == ["patient_data.view", "messages.export", "events.export"]
        assert body["actors"][0]["first"] <= body["actors"][0]["last"]

        one = await api.get(PATH, params={"action": "destination.update"})
        assert one.status_code == 200, one.text
        assert [(a["actor"], a["entries"]) for a in one.json()["actors"]] == [(BERT, 1)]
        before = await api.get(PATH, params={"until": "2000-01-01"})
        assert before.status_code == 200 and before.json()["actors"] == []
        assert before.json()["total"]["first"] is None


async def test_the_summary_is_recorded_in_the_audit_trail(engine: Engine) -> None:
    auditor = await token_for(engine, Grant(Role.ADMIN), name="privacy-officer")
    async with api_client(engine, auditor) as api:
        await _fill(engine)
        answer = await api.get(PATH, params={"since": "2000-01-01"})
        assert answer.status_code == 200, answer.text
        recorded = await engine.store.list_audit(AuditFilter(action="audit.summary"))
        [entry] = recorded
        assert entry.actor == "token:privacy-officer"
        assert entry.details["actions"] == answer.json()["actions"]
        assert entry.details["actors"] == 2 and entry.details["source"]
        assert entry.details["since"].startswith("1999-12-31T23:00:00")  # 2000-01-01 local
        # 2000-01-01 in the engine's zone (Amsterdam), said in UTC as every time the API gives
        assert answer.json()["start"] == "1999-12-31T23:00:00+00:00"
        # A HEAD shows nothing, so records nothing.
        assert (await api.head(PATH)).status_code == 200
        assert len(await engine.store.list_audit(AuditFilter(action="audit.summary"))) == 1


@pytest.mark.parametrize("role", [Role.RESEND, Role.REPORTS, Role.VIEWER])
async def test_a_role_that_may_not_read_the_audit_trail_is_refused(
    engine: Engine, role: Role
) -> None:
    token = await token_for(engine, Grant(role), name=f"no-{role.value}")
    async with api_client(engine, token) as api:
        refused = await api.get(PATH)
    assert refused.status_code == 403, refused.text
    assert "audit.read" in refused.text
    assert await engine.store.list_audit(AuditFilter(action="audit.summary")) == []


async def test_a_bad_period_or_action_is_a_422_naming_it_without_its_value(
    engine: Engine,
) -> None:
    async with api_client(engine) as api:
        not_a_time = await api.get(PATH, params={"since": "1985-13-45"})
        assert not_a_time.status_code == 422, not_a_time.text
        assert not_a_time.json()["detail"].startswith("since: ")
        assert "1985" not in not_a_time.text
        backwards = await api.get(PATH, params={"since": "2026-12-02", "until": "2026-12-01"})
        assert backwards.status_code == 422, backwards.text
        assert backwards.json()["detail"] == (
            "since and until: the period starts at or after it ends; give a since earlier than "
            "the until"
        )
        # A since after now, with no until: the period (ending now) would hold nothing.
        ahead = await api.get(PATH, params={"since": "2999-01-01"})
        assert ahead.status_code == 422 and "since and until" in ahead.json()["detail"]
        unknown = await api.get(PATH, params={"action": "patient.view"})
        assert unknown.status_code == 422
        assert unknown.json()["detail"].startswith("action: not an audit action; one of ")
        assert "patient.view" not in unknown.text
        assert await engine.store.list_audit(AuditFilter(action="audit.summary")) == []
