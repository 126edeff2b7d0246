"""``Store.count_audit_by_actor``: the access-log review's counts (NEN 7513), grouped in the
store on both backends: per actor and per action, distinct patients by keyed BSN hash, the
period's bounds (since inclusive, until not), only the actions asked for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text

from integrator.store import Store, bsn_hash
from integrator.store.audit_chain import GENESIS
from integrator.store.tables import audit_log
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock

KEY = b"audit-counts-key"
ANNA, BERT = "person:anna@example.nl", "token:lab-desk"
VIEW, EXPORT = "patient_data.view", "messages.export"


def _patient(bsn: str) -> str:
    return bsn_hash(bsn, KEY)


async def _view(store: Store, actor: str, bsn: str | None, target: str = "m-1") -> None:
    await store.add_audit(
        actor,
        VIEW,
        target,
        details={"view": "message", "bsn_hash": None if bsn is None else _patient(bsn)},
    )


async def test_counts_each_actors_views_exports_and_distinct_patients(
    store: Store, clock: StepClock
) -> None:
    start = clock.now
    await _view(store, ANNA, "999999990")
    await _view(store, ANNA, "999999990", "m-2")  # the same patient again
    await _view(store, ANNA, "111222333")
    await _view(store, ANNA, None)  # a message whose event held no BSN: no patient told
    await _view(store, BERT, "999999990")
    # An export by BSN names its patient among its terms; one without a BSN names none.
    await store.add_audit(
        BERT, EXPORT, "messages.csv", details={"terms": {"bsn_hash": _patient("123456782")}}
    )
    await store.add_audit(
        BERT, EXPORT, "messages.csv", reason="maandrapport", details={"terms": {"status": "x"}}
    )
    await store.add_audit(ANNA, "destination.update", "noord")  # not asked for
    end = clock.now

    actors, together = await store.count_audit_by_actor([VIEW, EXPORT])

    by_actor = {a.actor: a for a in actors}
    assert set(by_actor) == {ANNA, BERT}
    anna, bert = by_actor[ANNA], by_actor[BERT]
    assert anna.actions == {VIEW: 4, EXPORT: 0}
    assert anna.patients == 2
    assert bert.actions == {VIEW: 1, EXPORT: 2}
    assert bert.patients == 2
    assert anna.first == start + clock.step and anna.last == start + 4 * clock.step
    assert bert.first == start + 5 * clock.step and bert.last == end - clock.step
    assert together is not None and together.actor is None
    assert together.actions == {VIEW: 5, EXPORT: 2} and together.entries == 7
    # 999999990 was seen by both: one patient, not two.
    assert together.patients == 3
    # Which said no why: all but Bert's second export.
    assert (anna.unexplained, bert.unexplained, together.unexplained) == (4, 2, 6)
    assert (together.first, together.last) == (anna.first, bert.last)
    # Of each action's entries, those naming a patient: Bert's export by BSN, not his other.
    assert anna.naming_patient == {VIEW: 3, EXPORT: 0}
    assert bert.naming_patient == {VIEW: 1, EXPORT: 1}
    assert together.naming_patient == {VIEW: 4, EXPORT: 1}


async def test_an_export_by_bsn_is_told_from_one_without_by_its_terms_key(store: Store) -> None:
    """Only an export made by BSN holds patient data (its terms hold the keyed hash); a term
    whose text reads like that key is escaped in the details' JSON, and names no patient."""
    hashed = _patient("999999990")
    for terms in (
        {"bsn_hash": hashed, "status": "dead"},
        {"status": "dead"},
        {},
        {"target": f'"bsn_hash":"{hashed}"'},  # typed text, not a key
    ):
        await store.add_audit(BERT, EXPORT, "messages.csv", details={"terms": terms, "rows": 1})
    await store.add_audit(BERT, "events.export", "events.csv", details={"terms": {}})

    actors, together = await store.count_audit_by_actor([EXPORT, "events.export"])

    assert [(a.actor, a.actions, a.naming_patient, a.patients) for a in actors] == [
        (BERT, {EXPORT: 4, "events.export": 1}, {EXPORT: 1, "events.export": 0}, 1)
    ]
    assert together is not None
    assert together.naming_patient == {EXPORT: 1, "events.export": 0}


async def test_the_period_takes_since_and_leaves_out_until(store: Store, clock: StepClock) -> None:
    at = []  # each entry's time (the store's clock, one step a reading)
    for actor, bsn in ((ANNA, "999999990"), (ANNA, "111222333"), (BERT, "123456782")):
        await _view(store, actor, bsn)
        at.append(clock.now)

    actors, together = await store.count_audit_by_actor([VIEW], since=at[1], until=at[2])
    assert [(a.actor, a.entries) for a in actors] == [(ANNA, 1)] and together is not None
    assert together.patients == 1 and together.first == together.last == at[1]
    actors, together = await store.count_audit_by_actor([VIEW], since=at[1])
    assert sorted((a.actor, a.entries, a.patients) for a in actors) == [(ANNA, 1, 1), (BERT, 1, 1)]
    actors, together = await store.count_audit_by_actor([VIEW], until=at[2])
    assert [(a.actor, a.entries, a.patients) for a in actors] == [(ANNA, 2, 2)]
    assert await store.count_audit_by_actor([VIEW], until=at[0]) == ([], None)
    assert await store.count_audit_by_actor([VIEW], since=at[2] + clock.step) == ([], None)


async def test_only_the_actions_asked_for_are_counted(store: Store) -> None:
    await _view(store, ANNA, "999999990")
    await store.add_audit(BERT, EXPORT, "messages.csv", details={"terms": {}})
    await store.add_audit(BERT, "destination.update", "noord")

    actors, together = await store.count_audit_by_actor([EXPORT])
    assert [(a.actor, a.actions, a.patients) for a in actors] == [(BERT, {EXPORT: 1}, 0)]
    assert together is not None and together.entries == 1
    assert together.naming_patient == {EXPORT: 0}
    actors, _ = await store.count_audit_by_actor(["destination.update"])
    assert [(a.actor, a.entries) for a in actors] == [(BERT, 1)]
    assert await store.count_audit_by_actor(["login.failure"]) == ([], None)
    assert await store.count_audit_by_actor([]) == ([], None)


async def test_a_trail_of_many_entries_and_actors_is_counted_whole(
    store: Store, site: Site
) -> None:
    """Forty actors and five thousand patients over a month, counted whole and each patient
    once. (How long a large trail takes is measured in bench/bench_audit_summary.py.)"""
    rows = [
        {
            "at": T0 + timedelta(seconds=n),
            "actor": f"person:user{n % 40}@example.nl",
            "action": (VIEW, EXPORT, "login.success")[n % 3],
            "target": f"m-{n}",
            "reason": None,
            "details": f'{{"bsn_hash":"{n % 5000:064x}","view":"message"}}',
            "prev_hash": GENESIS,  # the chain is not what is measured here
            "hash": GENESIS,
        }
        for n in range(12_000)
    ]
    async with store._engine.begin() as conn:
        await conn.execute(insert(audit_log), rows)
    if site.backend == "postgresql":  # as autovacuum has it for a trail written over a month
        async with store._engine.connect() as conn:
            await conn.execute(text(f'ANALYZE "{site.schema}".audit_log'))
            await conn.commit()

    actors, together = await store.count_audit_by_actor(
        [VIEW, EXPORT], since=T0, until=T0 + timedelta(days=30)
    )

    assert len(actors) == 40 and together is not None
    assert together.entries == 8_000 and together.patients == 5000
    assert sum(a.entries for a in actors) == 8_000
    assert together.naming_patient == {VIEW: 4_000, EXPORT: 4_000}  # each names one
    # user0 has entries 0, 40, 80, …: every third of them a login, the rest views or exports.
    (first,) = [a for a in actors if a.actor == "person:user0@example.nl"]
    assert first.entries == sum(1 for n in range(0, 12_000, 40) if n % 3 != 2)
