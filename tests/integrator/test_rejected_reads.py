"""``integrator.rejected_reads`` holds who may read rejected input, so the API, the console and
the CLI cannot disagree: rejected input lies in no cluster, so the listing and one piece's rules
need ``messages.read`` for all clusters and a body ``patient_data.read`` for all clusters; a
refused body is neither read nor audited; an id is looked up whole or by its start, and text
that cannot be one is told apart from an id nobody has."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrator.access.permissions import Grant, Identity, IdentityKind, Role, local_identity
from integrator.rejected_reads import (
    SOURCES,
    BadRejectedId,
    NeedsEveryCluster,
    RejectedListing,
    RejectedNotFound,
    describe_rejected,
    find_rejected,
    list_rejected,
    locate_rejected,
    may_list,
    may_read_body,
    read_rejected,
    rejected_lately,
)
from integrator.search import BadSearch
from integrator.store import Store
from tests.integrator.support import settings_for
from tests.store.factories import StepClock

BODY = {"event_id": "not-a-uuid", "patient": {"bsn": "123456782"}}
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]


def person(*grants: Grant) -> Identity:
    """A person signed in with a second factor (which patient data needs)."""
    return Identity(
        kind=IdentityKind.PERSON,
        id="p1",
        display="person:sam@example.org",
        grants=frozenset(grants),
        two_factor=True,
    )


EVERYWHERE = person(Grant(Role.RESEND))
VIEWER = person(Grant(Role.VIEWER))
ONE_CLUSTER = person(Grant(Role.RESEND, "CARD"))
BODY_IN_ONE = person(Grant(Role.VIEWER), Grant(Role.RESEND, "CARD"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


async def _reject(store: Store) -> str:
    return await store.reject_event(json.dumps(BODY).encode(), "http", RULES)


async def _views(store: Store) -> list[str]:
    return [e.target for e in await store.list_audit(limit=50) if e.action == "patient_data.view"]


def test_who_may_what_is_for_all_clusters() -> None:
    assert may_list(EVERYWHERE) and may_read_body(EVERYWHERE)
    assert may_list(VIEWER) and not may_read_body(VIEWER)
    assert not may_list(ONE_CLUSTER) and not may_read_body(ONE_CLUSTER)
    assert may_list(BODY_IN_ONE) and not may_read_body(BODY_IN_ONE)
    trusted = local_identity("local:root")
    assert may_list(trusted) and may_read_body(trusted)


async def test_the_listing_and_the_rules_need_messages_read_everywhere(store: Store) -> None:
    rejected_id = await _reject(store)
    [row] = await list_rejected(store, VIEWER, limit=10)
    assert row["problems"] == ["event_id: uuid_format"] and "body" not in row
    described = await describe_rejected(store, VIEWER, rejected_id)
    assert described is not None
    assert described["reason"] == RULES and "body" not in described
    for call in (
        list_rejected(store, ONE_CLUSTER, limit=10),
        describe_rejected(store, ONE_CLUSTER, rejected_id),
        locate_rejected(store, ONE_CLUSTER, rejected_id),
    ):
        with pytest.raises(NeedsEveryCluster, match=r"messages\.read permission for all clusters"):
            await call
    assert await _views(store) == []  # neither is a view of patient data


async def test_a_body_needs_patient_data_everywhere_and_is_audited_first(store: Store) -> None:
    rejected_id = await _reject(store)
    for refused in (VIEWER, BODY_IN_ONE):
        with pytest.raises(NeedsEveryCluster, match=r"patient_data\.read permission for all"):
            await read_rejected(store, refused, rejected_id)
    assert await _views(store) == []
    detail = await read_rejected(store, EVERYWHERE, rejected_id, source="10.0.0.1")
    assert detail is not None and json.loads(detail["body"]) == BODY
    [view] = [e for e in await store.list_audit(limit=50) if e.action == "patient_data.view"]
    assert (view.actor, view.target) == ("person:sam@example.org", rejected_id)
    assert view.details == {"view": "rejected", "bsn_hash": None, "source": "10.0.0.1"}
    assert await read_rejected(store, EVERYWHERE, "00000000-0000-0000-0000-000000000000") is None
    assert len(await _views(store)) == 1  # an unknown id records nothing


async def test_an_id_is_found_whole_or_by_its_start_and_bad_text_is_told_apart(
    store: Store,
) -> None:
    rejected_id = await _reject(store)
    assert await locate_rejected(store, VIEWER, rejected_id) == rejected_id
    assert await locate_rejected(store, VIEWER, rejected_id[:8].upper()) == rejected_id
    with pytest.raises(RejectedNotFound):
        await locate_rejected(store, VIEWER, "00000000-0000-0000-0000-000000000000")
    for bad in ("not-an-id", "abc", "0" * 40, " ZD123 "):
        with pytest.raises(BadRejectedId) as refused:
            await locate_rejected(store, VIEWER, bad)
        assert bad.strip() not in str(refused.value)  # never repeated: it may be a BSN


async def test_a_listing_is_narrowed_by_period_and_source_and_says_how_many_in_all(
    tmp_path: Path,
) -> None:
    """Periods read as every listing reads them (``2h`` back from now, a date, a date-time);
    ``total`` counts what the terms take beyond the page's limit."""
    settings = settings_for(tmp_path)
    clock = StepClock(now=datetime.now(UTC) - timedelta(days=3))
    async with await Store.open(settings.database_url, clock=clock) as store:
        old = await store.reject_event(b"{}", "http", RULES)
        clock.now = datetime.now(UTC) - timedelta(hours=1)
        recent = [await store.reject_event(b"{}", src, RULES) for src in ("amqp", "amqp", "cli")]

        def ids(listing: RejectedListing) -> list[str]:
            return [r["id"] for r in listing.rows]

        everything = await find_rejected(store, settings, VIEWER, limit=10)
        assert (ids(everything), everything.total) == ([*recent[::-1], old], 4)
        lately = await find_rejected(store, settings, VIEWER, limit=10, since="2h")
        assert (ids(lately), lately.total) == (recent[::-1], 3)
        before = await find_rejected(store, settings, VIEWER, limit=10, until="2h")
        assert (ids(before), before.total) == ([old], 1)
        cut = await find_rejected(store, settings, VIEWER, limit=1, source=" AMQP ")
        assert (ids(cut), cut.total) == ([recent[1]], 2)
        since_day = (datetime.now(settings.zone) - timedelta(days=1)).date().isoformat()
        assert (await find_rejected(store, settings, VIEWER, limit=10, since=since_day)).total == 3
        assert await rejected_lately(store, settings, VIEWER) == 3
        assert await rejected_lately(store, settings, ONE_CLUSTER) is None


async def test_a_term_that_cannot_be_used_is_refused_naming_the_rule_not_the_value(
    tmp_path: Path, store: Store
) -> None:
    settings = settings_for(tmp_path)
    with pytest.raises(BadSearch) as refused:
        await find_rejected(store, settings, VIEWER, limit=10, source="123456782")
    assert refused.value.field == "source" and refused.value.code == "rejected.source"
    assert all(name in refused.value.rule for name in SOURCES)
    assert "123456782" not in str(refused.value)
    with pytest.raises(BadSearch) as refused:
        await find_rejected(store, settings, VIEWER, limit=10, since="123456782")
    assert refused.value.field == "since" and "123456782" not in str(refused.value)
    with pytest.raises(NeedsEveryCluster):  # the permission first: no rule learnt without it
        await find_rejected(store, settings, ONE_CLUSTER, limit=10, source="pigeon")


async def test_a_view_of_rejected_input_with_a_bsn_is_found_by_that_patient(store: Store) -> None:
    """Who looked at this patient? That is asked by the BSN's keyed hash: a view of rejected input
    that held a well-formed BSN records that hash (it was always null), so the audit trail's
    search by BSN finds it; one without a BSN that can be read records null."""
    from integrator.rejected_keys import read_keys
    from integrator.settings import Settings
    from integrator.store import AuditFilter

    settings = Settings(search_key="rejected-views-search-key")
    raw = json.dumps(BODY).encode()
    with_bsn = await store.reject_event(raw, "http", RULES, read_keys(raw, settings.bsn_hash))
    without = await store.reject_event(b'{"patient": {"bsn": "12"}}', "http", RULES)
    for rejected_id in (with_bsn, without):
        assert await read_rejected(store, EVERYWHERE, rejected_id) is not None
    hashed = settings.bsn_hash("123456782")
    found = await store.list_audit(AuditFilter(bsn_hash=hashed), limit=50)
    assert [(e.action, e.target) for e in found] == [("patient_data.view", with_bsn)]
    assert found[0].details["bsn_hash"] == hashed
    [other] = [e for e in await store.list_audit(limit=50) if e.target == without]
    assert other.details["bsn_hash"] is None
