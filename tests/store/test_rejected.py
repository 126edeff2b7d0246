"""Bad input is kept exactly as it arrived, with the reasons, for support to see."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from integrator.store import RejectedFilter, Store
from integrator.store.sealing import MAGIC, DataKey, Sealer
from tests.store.conftest import Site
from tests.store.factories import StepClock


async def test_rejected_input_keeps_its_raw_bytes_and_reasons(
    store: Store, clock: StepClock
) -> None:
    raw = b'{"event_id": "x", "zd_number": "ZD1"\x00\xff\xfe not even utf-8 \r\n}'
    reason = [
        {"path": "zd_number", "rule": "pattern", "message": "must be ZD and 9 digits"},
        {"path": "patient", "rule": "required", "message": "field required"},
    ]

    rejected_id = await store.reject_event(raw, "amqp", reason)

    [listed] = await store.list_rejected()
    record = await store.get_rejected(rejected_id)
    assert record is not None
    assert listed.id == record.id == rejected_id
    assert record.raw == raw
    assert listed.size == len(raw)
    assert listed.reason == record.reason == reason
    assert listed.source == record.source == "amqp"
    assert listed.received_at == record.received_at == clock.now


async def test_rejected_events_list_newest_first_with_a_limit(store: Store) -> None:
    ids = [await store.reject_event(f"bad {n}".encode(), "http", []) for n in range(5)]

    listed = await store.list_rejected(limit=3)

    assert [record.id for record in listed] == ids[::-1][:3]
    assert listed[0].size == len(b"bad 4")


async def test_a_period_and_a_source_narrow_the_listing_and_its_count(
    store: Store, clock: StepClock
) -> None:
    """``since`` includes its moment and ``until`` does not, as for messages and events; the
    count takes the same rows however many the listing's limit lets through."""
    start = clock.now
    kept: dict[tuple[int, str], str] = {}
    for hour in range(4):
        for source in ("http", "amqp"):
            clock.now = start + timedelta(hours=hour) - clock.step  # the next reading: the hour
            kept[hour, source] = await store.reject_event(b"{}", source, [])

    def ids(flt: RejectedFilter) -> set[str]:
        return {k for (hour, source), k in kept.items() if _takes(flt, start, hour, source)}

    for flt in [
        RejectedFilter(),
        RejectedFilter(since=start + timedelta(hours=1)),
        RejectedFilter(until=start + timedelta(hours=2)),
        RejectedFilter(since=start + timedelta(hours=1), until=start + timedelta(hours=3)),
        RejectedFilter(source="amqp"),
        RejectedFilter(since=start + timedelta(hours=2), source="http"),
        RejectedFilter(source="demo"),
    ]:
        listed = await store.list_rejected(flt, limit=100)
        assert {r.id for r in listed} == ids(flt), flt
        assert await store.count_rejected(flt) == len(ids(flt)), flt
        assert [r.received_at for r in listed] == sorted(
            (r.received_at for r in listed), reverse=True
        )

    amqp = RejectedFilter(source="amqp")
    assert len(await store.list_rejected(amqp, limit=1)) == 1
    assert await store.count_rejected(amqp) == 4
    assert await store.count_rejected() == 8


def _takes(flt: RejectedFilter, start: datetime, hour: int, source: str) -> bool:
    at = start + timedelta(hours=hour)
    return (
        (flt.since is None or at >= flt.since)
        and (flt.until is None or at < flt.until)
        and (flt.source is None or source == flt.source)
    )


def test_a_filter_refuses_a_source_the_store_cannot_hold() -> None:
    with pytest.raises(ValueError, match="not a valid EventSource"):
        RejectedFilter(source="carrier-pigeon")


async def test_unknown_source_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="not a valid EventSource"):
        await store.reject_event(b"{}", "carrier-pigeon", [])
    assert await store.list_rejected() == []


@pytest.mark.parametrize("kid", ["k", "a-kid-of-the-longest-length-32ch"])
async def test_a_listing_gives_each_size_as_it_arrived_sealed_or_not(
    site: Site, clock: StepClock, kid: str
) -> None:
    """The listing reads sizes from the stored length and the envelope's head, not the bytes:
    plain values, values that start like an envelope (kept escaped) and sealed values alike."""
    bodies = [b"", b"{}", MAGIC + b"\x01 starts like an envelope", b"x" * 70_000]
    plain = await site.open(clock)
    try:
        for body in bodies:
            await plain.reject_event(body, "http", [])
    finally:
        await plain.close()
    sealed = await site.open(clock, sealer=Sealer([DataKey(kid, bytes(32))]))
    try:
        for body in bodies:
            await sealed.reject_event(body, "http", [])
        listed = await sealed.list_rejected(limit=20)
    finally:
        await sealed.close()
    assert sorted(r.size for r in listed) == sorted(len(b) for b in bodies * 2)
