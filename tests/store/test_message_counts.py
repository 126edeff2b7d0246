"""``Store.count_messages`` counts what ``list_messages`` lists, with or without the events.

The count joins the events only for a term of theirs (ZD number, event type, BSN): every
message has its event, so the join changes no count, and without it a count of many messages
reads no events. These checks hold the two together for every kind of term.
"""

from __future__ import annotations

from integrator.store import MessageFilter, Store
from tests.store.factories import make_event, make_message

HASH = "ab" * 32


async def test_every_count_is_the_listing_it_counts(store: Store) -> None:
    for n in range(6):
        event = make_event(
            zd_number=f"ZD10000000{n % 2}",
            type="referral" if n % 3 else "diagnostic_request",
            bsn_hash=HASH if n < 2 else None,
        )
        messages = [
            make_message(destination_id="noord" if n % 2 else "zuid"),
            make_message(destination_id="lab", version="orm-v3"),
        ]
        await store.accept_event(event, messages)
    filters = [
        MessageFilter(),
        MessageFilter(destination_id="noord"),
        MessageFilter(version="orm-v3", status="queued"),
        MessageFilter(zd_number="ZD100000001"),
        MessageFilter(event_type="diagnostic_request"),
        MessageFilter(bsn_hash=HASH, destination_id="lab"),
        MessageFilter(zd_number="ZD100000000", destination_ids=frozenset({"zuid", "lab"})),
    ]
    for flt in filters:
        listed = await store.list_messages(flt, limit=1000)
        assert await store.count_messages(flt) == len(listed), flt
    assert await store.count_messages() == 12
    assert await store.count_messages(MessageFilter(zd_number="ZD100000001")) == 6
