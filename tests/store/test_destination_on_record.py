"""``Store.destination_on_record``: whether the audit trail can hold entries about a destination
(an entry's target, a stored message), answered from indexes, one row at most, on both backends:
an audit search by a mistyped destination is refused with it, and must cost no scan of the trail.
"""

from __future__ import annotations

from integrator.store import Store
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message
from tests.store.helpers import statements_sent


async def test_a_target_or_a_message_puts_a_destination_on_record(store: Store) -> None:
    await store.add_audit("person:anna@example.nl", "destination.remove", "kliniek-oud")
    await store.accept_event(make_event(), [make_message(destination_id="lab-west")])
    # Only in details (here a made-up entry; the engine's are each about a stored message).
    await store.add_audit("token:bert", "message.resend", "m-1", details={"destination": "zuid"})

    assert await store.destination_on_record("kliniek-oud")
    assert await store.destination_on_record("lab-west")
    assert not await store.destination_on_record("zuid")
    assert not await store.destination_on_record("nosuch")
    assert not await store.destination_on_record("kliniek")  # a start is no match


async def test_each_lookup_is_an_index_read_of_one_row(store: Store, site: Site) -> None:
    await store.add_audit("person:anna@example.nl", "destination.update", "noord")
    await store.accept_event(make_event(), [make_message(destination_id="noord")])
    with statements_sent(store) as statements:
        assert not await store.destination_on_record("nosuch")  # both lookups run

    assert len(statements) == 2
    async with store._engine.connect() as conn:
        if site.backend == "postgresql":
            # Two rows are too few for the planner to prefer an index unless told to.
            await conn.exec_driver_sql("SET enable_seqscan = off")
        for sql, params in statements:
            assert "LIMIT" in sql.upper(), sql
            prefix = "EXPLAIN QUERY PLAN " if site.backend == "sqlite" else "EXPLAIN "
            plan = " ".join(
                str(row[-1]) for row in await conn.exec_driver_sql(prefix + sql, params)
            )
            if site.backend == "sqlite":
                assert "USING COVERING INDEX" in plan, plan
            else:
                assert "Index Only Scan" in plan or "Index Scan" in plan, plan
                assert "Seq Scan" not in plan, plan
