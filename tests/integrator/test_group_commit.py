"""Concurrent intake calls without a turn share one store commit (``integrator.group_commit``):
what each caller gets is what it would have got alone, and nothing of one caller is lost or
stored by another's failure. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.group_commit import GroupCommit
from integrator.intake import IntakeResult
from integrator.store import EventRecord, MessageFilter, NewMessage
from integrator.store.errors import StoreUnavailable
from integrator.store.zd_history import HistoryJudge
from integrator.zd_sequence import CANCEL_WITHOUT_NEW, NEW_REPEATED
from tests.integrator.support import destination, settings_for
from tests.services import scratch_database
from tests.transport.helpers import eventually

TODAY = datetime.now(UTC).date()
SEARCH_KEY = "group-commit-tests-search-key"


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, receiver: MllpReceiver
) -> AsyncIterator[Engine]:
    config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    catalog = build_catalog([("noord.yaml", config)], today=TODAY)
    if request.param == "sqlite":
        started = Engine(settings_for(tmp_path), catalog=catalog)
        await started.start()
        yield started
        await started.stop()
        return
    async with scratch_database() as (_, url):
        settings = settings_for(tmp_path, database_url=url, search_key=SEARCH_KEY)
        started = Engine(settings, catalog=catalog)
        await started.start()
        yield started
        await started.stop()


class HeldStore:
    """The engine's ``Store.accept_events``, its first call held until ``let_go``; the number
    of events of every call is noted, and a call holding an event of ``refused_zd`` fails."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[int] = []
        self.gate = asyncio.Event()
        self.refused_zd: str | None = None
        self.away = False  # every call after the first fails as a store that is away does
        self._real = engine.store.accept_events
        monkeypatch.setattr(engine.store, "accept_events", self)

    async def __call__(
        self,
        batch: Sequence[tuple[EventRecord, Sequence[NewMessage]]],
        *,
        judge: HistoryJudge | None = None,
    ) -> list[bool]:
        self.calls.append(len(batch))
        if len(self.calls) == 1:
            await self.gate.wait()
        if any(event.zd_number == self.refused_zd for event, _ in batch):
            raise RuntimeError("the store refused this batch")
        if self.away and len(self.calls) > 1:
            raise StoreUnavailable("accept events failed: the store is away")
        return await self._real(batch, judge=judge)


def event(data: dict[str, Any], **changes: Any) -> str:
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    copied.update(changes)
    return json.dumps(copied)


async def submitted_while_held(
    engine: Engine, store: HeldStore, first: str, others: list[str]
) -> list[IntakeResult | BaseException]:
    """``first`` submitted and its commit held; ``others`` submitted meanwhile, all waiting for
    the next group when the first commit is let go. Each call's outcome, in order."""
    calls = [asyncio.create_task(engine.intake.submit(first, source="http"))]
    assert await eventually(lambda: store.calls == [1], poll=0.01)
    calls += [asyncio.create_task(engine.intake.submit(raw, source="http")) for raw in others]
    assert await eventually(lambda: len(waiting(engine)) == len(others), poll=0.01)
    store.gate.set()
    return list(await asyncio.gather(*calls, return_exceptions=True))


def waiting(engine: Engine) -> list[Any]:
    group: GroupCommit = engine.intake._group
    return group._waiting


async def stored(engine: Engine, event_id: str) -> bool:
    return await engine.store.get_event(event_id) is not None


async def test_calls_that_arrive_while_a_commit_runs_are_committed_together(
    engine: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = HeldStore(engine, monkeypatch)
    raws = [event(referral_data, zd_number=f"ZD30000000{n}") for n in range(8)]
    results = await submitted_while_held(engine, store, raws[0], raws[1:])

    assert store.calls == [1, 7]  # a transaction each before: eight
    assert all(isinstance(r, IntakeResult) for r in results), results
    answers = [r for r in results if isinstance(r, IntakeResult)]
    # Each caller is answered for its own event, with its own message.
    assert [a.event_id for a in answers] == [json.loads(raw)["event_id"] for raw in raws]
    assert [a.zd_number for a in answers] == [f"ZD30000000{n}" for n in range(8)]
    assert not any(a.duplicate or a.warnings for a in answers)
    assert len({a.messages[0].message_id for a in answers}) == 8
    assert await engine.wait_settled(timeout=10)
    for answer in answers:
        [message] = await engine.store.list_messages(MessageFilter(event_id=answer.event_id))
        assert message.status == "delivered"
    assert len(receiver.received) == 8


async def test_a_group_holds_at_most_its_share_of_events_and_never_splits_a_call(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.intake, "_group", GroupCommit(engine.store, most=3))
    store = HeldStore(engine, monkeypatch)
    raws = [event(referral_data, zd_number=f"ZD30000001{n}") for n in range(8)]
    results = await submitted_while_held(engine, store, raws[0], raws[1:])
    assert store.calls == [1, 3, 3, 1]
    assert all(isinstance(r, IntakeResult) for r in results), results
    assert await engine.wait_settled(timeout=10)

    # One call of five events alone: a group of five, not split.
    store.calls.clear()
    batch = [event(referral_data, zd_number=f"ZD30000002{n}") for n in range(5)]
    await engine.intake.submit_many(batch, source="http")
    assert store.calls == [5]


async def test_a_call_whose_events_the_store_refuses_fails_alone(
    engine: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = HeldStore(engine, monkeypatch)
    store.refused_zd = "ZD300000031"
    first, good, bad, later = (
        event(referral_data, zd_number=f"ZD30000003{n}") for n in (0, 2, 1, 3)
    )
    results = await submitted_while_held(engine, store, first, [good, bad, later])

    # The group of three failed; each was then committed alone.
    assert store.calls == [1, 3, 1, 1, 1]
    accepted_first, accepted_good, refused, accepted_later = results
    assert isinstance(refused, RuntimeError) and str(refused) == "the store refused this batch"
    for answer, raw in ((accepted_first, first), (accepted_good, good), (accepted_later, later)):
        assert isinstance(answer, IntakeResult) and not answer.duplicate, answer
        assert answer.event_id == json.loads(raw)["event_id"]
    assert not await stored(engine, json.loads(bad)["event_id"])
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 3


async def test_a_store_away_fails_the_group_at_once_not_call_by_call(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retried call by call, each would wait for the store again (SQLite's busy timeout)."""
    store = HeldStore(engine, monkeypatch)
    store.away = True
    raws = [event(referral_data, zd_number=f"ZD30000007{n}") for n in range(4)]
    first, *others = await submitted_while_held(engine, store, raws[0], raws[1:])
    assert store.calls == [1, 3]  # the group once, no call alone
    assert isinstance(first, IntakeResult)
    assert all(isinstance(failed, StoreUnavailable) for failed in others), others
    for raw in raws[1:]:
        assert not await stored(engine, json.loads(raw)["event_id"])


async def test_a_group_is_judged_against_the_zd_history_in_the_order_its_calls_came(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = HeldStore(engine, monkeypatch)
    zd = "ZD300000040"
    new = event(referral_data, zd_number=zd)
    again = event(referral_data, zd_number=zd)
    cancel = event(referral_data, zd_number=zd, action="cancel")
    lone_cancel = event(referral_data, zd_number="ZD300000041", action="cancel")
    results = await submitted_while_held(engine, store, lone_cancel, [new, again, cancel])
    assert store.calls == [1, 3]
    warned_cancel, accepted_new, second_new, accepted_cancel = results
    assert isinstance(warned_cancel, IntakeResult)
    [without] = warned_cancel.warnings
    assert without.startswith(f"{CANCEL_WITHOUT_NEW}: ")
    assert isinstance(accepted_new, IntakeResult) and accepted_new.warnings == ()
    # The cancel came after its new within the group: it fits.
    assert isinstance(accepted_cancel, IntakeResult) and accepted_cancel.warnings == ()
    assert isinstance(second_new, IntakeResult)
    [repeated] = second_new.warnings
    assert repeated.startswith(f"{NEW_REPEATED}: ") and accepted_new.event_id in repeated
    # Stored with the message, as a lone call's warning is.
    [message] = await engine.store.list_messages(MessageFilter(event_id=second_new.event_id))
    assert repeated in message.warnings


async def test_one_event_sent_twice_in_one_group_is_accepted_once(
    engine: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = HeldStore(engine, monkeypatch)
    raw = event(referral_data, zd_number="ZD300000050")
    first = event(referral_data, zd_number="ZD300000051")
    _, once, twice = await submitted_while_held(engine, store, first, [raw, raw])
    assert store.calls == [1, 2]
    assert isinstance(once, IntakeResult) and not once.duplicate
    assert isinstance(twice, IntakeResult) and twice.duplicate
    assert once.event_id == twice.event_id
    assert [m.message_id for m in twice.messages] == [m.message_id for m in once.messages]
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 2


async def test_a_call_cancelled_while_it_waits_for_its_group_stores_nothing(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = HeldStore(engine, monkeypatch)
    first = event(referral_data, zd_number="ZD300000060")
    gone, kept = (event(referral_data, zd_number=f"ZD30000006{n}") for n in (1, 2))
    calls = [asyncio.create_task(engine.intake.submit(first, source="http"))]
    assert await eventually(lambda: store.calls == [1], poll=0.01)
    calls.append(asyncio.create_task(engine.intake.submit(gone, source="http")))
    assert await eventually(lambda: len(waiting(engine)) == 1, poll=0.01)
    calls[1].cancel()
    calls.append(asyncio.create_task(engine.intake.submit(kept, source="http")))
    assert await eventually(lambda: len(waiting(engine)) == 1, poll=0.01)
    store.gate.set()
    first_result, cancelled, kept_result = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(cancelled, asyncio.CancelledError)
    assert isinstance(first_result, IntakeResult) and isinstance(kept_result, IntakeResult)
    assert store.calls == [1, 1]  # the cancelled call's event was in no commit
    assert not await stored(engine, json.loads(gone)["event_id"])
    assert await stored(engine, kept_result.event_id)
