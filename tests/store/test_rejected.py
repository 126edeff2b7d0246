"""Bad input is kept exactly as it arrived, with the reasons, for support to see."""

from __future__ import annotations

import pytest

from integrator.store import Store
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

    [record] = await store.list_rejected()
    assert record.id == rejected_id
    assert record.raw == raw
    assert record.reason == reason
    assert record.source == "amqp"
    assert record.received_at == clock.now


async def test_rejected_events_list_newest_first_with_a_limit(store: Store) -> None:
    ids = [await store.reject_event(f"bad {n}".encode(), "http", []) for n in range(5)]

    listed = await store.list_rejected(limit=3)

    assert [record.id for record in listed] == ids[::-1][:3]
    assert listed[0].raw == b"bad 4"


async def test_unknown_source_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="not a valid EventSource"):
        await store.reject_event(b"{}", "carrier-pigeon", [])
    assert await store.list_rejected() == []
