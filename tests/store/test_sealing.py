"""Payloads sealed at rest, on both stores, through the real Store API.

What a reader of the database sees (the raw columns) is checked directly: no BSN, no name. What
the API returns is checked to be exactly what went in, with a key, without one, across adding a
key and across rotating keys; and a value that does not open is an error, never garbage.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from integrator.store import (
    AttemptRecord,
    AuditFilter,
    EventRecord,
    MessageFilter,
    NewMessage,
    Store,
)
from integrator.store.errors import DataKeyError, TamperedValue, UnknownDataKey
from integrator.store.sealing import MAGIC, TEXT_MAGIC, DataKey, Sealer
from integrator.store.tables import attempts, events, messages, rejected_events
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message
from tests.store.helpers import raw_connection

BSN = "999990019"
NAME = "Vermeulen-Ödegaard"

KEY1 = DataKey("kid1", os.urandom(32))
KEY2 = DataKey("kid2", os.urandom(32))


def patient_event() -> EventRecord:
    return make_event(
        payload={"patient": {"bsn": BSN, "name": {"family": NAME}}, "note": "café ł"},
        bsn_hash="0" * 64,
    )


def patient_message(**overrides: Any) -> NewMessage:
    payload = (
        "MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120||REF^I12^REF_I12|x|P|2.5.1\r"
        f"PID|1||{BSN}^^^NLMINBIZA^NNNLD||{NAME}^Jan\r"
    )
    return make_message(payload=payload.encode("utf-8"), **overrides)


def ack_attempt(message_id: str, number: int = 1) -> AttemptRecord:
    ack = f"MSH|^~\\&|HIS|ZNOORD|||20261120||ACK|a|P|2.5.1\rMSA|AE|x|patient {NAME} unknown\r"
    return AttemptRecord(
        message_id=message_id,
        number=number,
        started_at=T0 + timedelta(seconds=number),
        duration_ms=3.0,
        outcome="retry",
        ack_code="AE",
        ack_bytes=ack.encode("utf-8"),
        error=f"ACK AE: patient {NAME} unknown",
    )


async def write_patient_data(store: Store) -> dict[str, Any]:
    """Every kind of sealed value once; returns what was written, to compare with reads."""
    event = patient_event()
    message = patient_message()
    held = patient_message(status="held")
    assert await store.accept_event(event, [message, held])
    attempt = ack_attempt(message.id)
    await store.record_attempt(
        attempt, status="retrying", next_attempt_at=T0, last_error=attempt.error
    )
    released = f"MSH|released\rPID|1||{BSN}||{NAME}\r".encode()
    assert await store.release_held(
        held.id, version="ref-v2", message_type="REF^I12^REF_I12", payload=released
    )
    rejected_id = await store.reject_event(
        f'{{"bsn": "{BSN}", "name": "{NAME}"}}'.encode(),
        "http",
        [{"path": "$.bsn", "rule": "elfproef", "message": "not a valid BSN"}],
    )
    return {
        "event": event,
        "message": message,
        "held": (held.id, released),
        "attempt": attempt,
        "rejected": rejected_id,
    }


async def assert_reads_back(store: Store, written: dict[str, Any]) -> None:
    event = written["event"]
    stored_event = await store.get_event(event.id)
    assert stored_event is not None and stored_event.payload == event.payload
    message = written["message"]
    stored = await store.get_message(message.id)
    assert stored is not None
    assert stored.payload == message.payload
    assert stored.last_error == written["attempt"].error
    held_id, released = written["held"]
    stored_held = await store.get_message(held_id)
    assert stored_held is not None and stored_held.payload == released
    assert await store.list_attempts(message.id) == [written["attempt"]]
    rejected = await store.get_rejected(written["rejected"])
    assert rejected is not None and BSN.encode() in rejected.raw
    [summary] = [r for r in await store.list_rejected() if r.id == written["rejected"]]
    assert summary.size == len(rejected.raw)  # the listing's size, read without opening it
    listed = {m.id: m.payload for m in await store.list_messages()}
    assert listed[message.id] == message.payload


async def raw_values(site: Site) -> list[bytes]:
    """Every value of every sealed column as the database holds it."""
    values: list[bytes] = []
    async with raw_connection(site) as conn:
        for column in (
            events.c.payload,
            messages.c.payload,
            messages.c.last_error,
            rejected_events.c.raw,
            attempts.c.ack_bytes,
            attempts.c.error,
        ):
            for (value,) in await conn.execute(select(column).where(column.is_not(None))):
                values.append(value.encode() if isinstance(value, str) else bytes(value))
    return values


def under(value: bytes, kid: str) -> bool:
    return value.startswith(MAGIC + bytes([1, len(kid)]) + kid.encode()) or value.startswith(
        f"{TEXT_MAGIC}1${kid}$".encode()
    )


async def test_sealed_values_read_back_equal_and_hold_no_bsn_or_name(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        written = await write_patient_data(store)
        await assert_reads_back(store, written)
    finally:
        await store.close()
    values = await raw_values(site)
    assert len(values) == 7  # event, 2 message payloads, last_error, raw, ACK, attempt error
    for value in values:
        assert BSN.encode() not in value
        assert NAME.encode() not in value and b"Vermeulen" not in value
        assert under(value, "kid1")
    async with raw_connection(site) as conn:
        reason = (await conn.execute(select(rejected_events.c.reason))).scalar_one()
    assert "elfproef" in reason  # the reason names path and rule only: kept clear


async def test_a_plain_store_keeps_working_after_a_key_is_added(site: Site) -> None:
    plain = await site.open()
    try:
        old = await write_patient_data(plain)
    finally:
        await plain.close()
    assert not any(under(v, "kid1") for v in await raw_values(site))
    keyed = await site.open(sealer=Sealer([KEY1]))
    try:
        await assert_reads_back(keyed, old)
        new = await write_patient_data(keyed)
        await assert_reads_back(keyed, new)
        assert await keyed.count_to_reseal() == {
            "events.payload": 1,
            "messages.payload": 2,
            "messages.last_error": 1,
            "rejected_events.raw": 1,
            "attempts.ack_bytes": 1,
            "attempts.error": 1,
            "people.totp_secret": 0,  # no person here: tests/store/test_sealed_totp.py
            "console_searches.terms": 0,  # none kept: tests/store/test_sealed_kept_searches.py
        }
    finally:
        await keyed.close()
    sealed = [v for v in await raw_values(site) if under(v, "kid1")]
    assert len(sealed) == 7 and not any(BSN.encode() in v for v in sealed)


async def test_rotate_to_a_new_key_then_drop_the_old_one(site: Site) -> None:
    plain = await site.open()
    try:
        old = await write_patient_data(plain)
    finally:
        await plain.close()
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        sealed = await write_patient_data(first)
    finally:
        await first.close()

    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        newest = await write_patient_data(both)
        assert sum((await both.count_to_reseal()).values()) == 14  # plain 7 + kid1 7
        handled: list[int] = []
        report = await both.rotate_data_keys(actor="local:tester", batch=3, progress=handled.append)
        assert report.to_kid == "kid2" and report.resealed == 14 and report.skipped == 0
        assert sum(handled) == 14 and max(handled) <= 3
        assert report.retired == ("kid1",)
        assert sum((await both.count_to_reseal()).values()) == 0
        actions = [e.action for e in await both.list_audit(AuditFilter(target="datakeys"))]
        assert actions[:3] == ["datakey.rotate", "datakey.retire", "datakey.rotate"]
    finally:
        await both.close()
    assert all(under(v, "kid2") for v in await raw_values(site))

    only_new = await site.open(sealer=Sealer([KEY2]))
    try:
        for written in (old, sealed, newest):
            await assert_reads_back(only_new, written)
    finally:
        await only_new.close()


async def test_a_rotation_stopped_halfway_resumes(site: Site) -> None:
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        written = [await write_patient_data(first) for _ in range(3)]
    finally:
        await first.close()
    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:

        def stop_after_one_batch(_: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            await both.rotate_data_keys(
                actor="local:tester", batch=2, progress=stop_after_one_batch
            )
        left = sum((await both.count_to_reseal()).values())
        assert left == 21 - 2
        report = await both.rotate_data_keys(actor="local:tester", batch=2)
        assert report.resealed == left and report.retired == ("kid1",)
        for item in written:
            await assert_reads_back(both, item)
    finally:
        await both.close()


async def test_a_missing_key_is_refused_at_open_naming_it(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        await write_patient_data(store)
    finally:
        await store.close()
    with pytest.raises(DataKeyError, match=r"'kid1' and INTEGRATOR_DATA_KEYS is not set"):
        await site.open()
    with pytest.raises(DataKeyError, match=r"'kid1' and INTEGRATOR_DATA_KEYS lacks it") as lacks:
        await site.open(sealer=Sealer([KEY2]))
    # A key retired and dropped from the setting is still needed by older backups: say so.
    assert "backup made before a rotation" in str(lacks.value)
    assert "docs/operators.md#retired-keys-and-older-backups" in str(lacks.value)
    with pytest.raises(DataKeyError, match=r"'kid1'"):
        await Store.open_existing(site.url, schema=site.schema, sealer=Sealer([KEY2]))


async def test_a_wrong_key_under_a_known_id_is_refused_at_open(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        await write_patient_data(store)
    finally:
        await store.close()
    wrong = DataKey("kid1", os.urandom(32))
    with pytest.raises(DataKeyError, match=r"the key under id 'kid1' is not the key") as caught:
        await site.open(sealer=Sealer([wrong]))
    text = str(caught.value)
    for key in (wrong.key, KEY1.key):
        assert base64.b64encode(key).decode() not in text and key.hex() not in text
    # Also as an older key, beside a right current one.
    with pytest.raises(DataKeyError, match=r"'kid1'"):
        await site.open(sealer=Sealer([KEY2, wrong]))


async def test_a_changed_or_moved_value_is_refused_never_garbage(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        one = await write_patient_data(store)
        two = await write_patient_data(store)
        one_id, two_id = one["message"].id, two["message"].id
        async with raw_connection(site) as conn:
            payload = (
                await conn.execute(select(messages.c.payload).where(messages.c.id == one_id))
            ).scalar_one()
            changed = bytes(payload[:-1]) + bytes([payload[-1] ^ 1])
            await conn.execute(
                update(messages).where(messages.c.id == one_id).values(payload=changed)
            )
            # Another row's sealed value, copied: it names the right key but not this row.
            await conn.execute(
                update(events)
                .where(events.c.id == two["event"].id)
                .values(
                    payload=select(events.c.payload)
                    .where(events.c.id == one["event"].id)
                    .scalar_subquery()
                )
            )
            await conn.commit()
        with pytest.raises(TamperedValue, match=rf"^messages.payload of {one_id}: sealed with"):
            await store.get_message(one_id)
        with pytest.raises(TamperedValue):
            await store.get_event(two["event"].id)
        stored = await store.get_message(two_id)  # the rest reads as before
        assert stored is not None and stored.payload == two["message"].payload
    finally:
        await store.close()


async def test_a_value_under_an_unknown_key_id_names_it(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        written = await write_patient_data(store)
    finally:
        await store.close()
    alien = Sealer([DataKey("kid9", os.urandom(32))])
    event_id = written["event"].id
    async with raw_connection(site) as conn:
        await conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(payload=alien.seal_text("{}", b"events.payload\x00" + event_id.encode()))
        )
        await conn.commit()
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        with pytest.raises(
            UnknownDataKey, match=rf"^events.payload of {event_id}: .*'kid9', which"
        ):
            await store.get_event(event_id)
    finally:
        await store.close()


async def deliver_and_prune(store: Store, count: int, pruned: int) -> list[str]:
    """``count`` events with one delivered message each (ACK kept); the first ``pruned`` of
    them pruned as retention does. Returns the message ids."""
    ids = []
    for _ in range(count):
        event = patient_event()
        message = patient_message()
        assert await store.accept_event(event, [message])
        ack = ack_attempt(message.id)
        delivered = AttemptRecord(message.id, 1, T0, 2.0, "delivered", "AA", ack.ack_bytes, None)
        await store.record_attempt(delivered, status="delivered")
        ids.append(message.id)
    now = T0 + timedelta(days=400)
    assert await store.prune_messages(ids[:pruned], now) == pruned
    events_of = {m.id: m.event_id for m in await store.list_messages()}
    assert await store.prune_events([events_of[i] for i in ids[:pruned]], now) == pruned
    return ids


async def test_a_rotation_leaves_pruned_payloads_alone_and_retires_the_old_key(
    site: Site,
) -> None:
    """Retention empties a payload to a plain constant, also in a store with keys: nothing to
    seal, so neither counted nor rewritten, and no reason to keep the old key."""
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        ids = await deliver_and_prune(first, count=3, pruned=2)
    finally:
        await first.close()
    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        counts = await both.count_to_reseal()
        assert counts["events.payload"] == 1 and counts["messages.payload"] == 1
        assert counts["attempts.ack_bytes"] == 1  # pruning dropped the other two
        assert sum(counts.values()) == 3
        report = await both.rotate_data_keys(actor="local:tester")
        assert report.resealed == 3 and report.skipped == 0 and report.retired == ("kid1",)
        assert sum((await both.count_to_reseal()).values()) == 0
    finally:
        await both.close()
    async with raw_connection(site) as conn:
        payloads = dict((await conn.execute(select(messages.c.id, messages.c.payload))).all())
        emptied = (
            await conn.execute(select(events.c.payload).where(events.c.pruned_at.is_not(None)))
        ).scalars()
        assert sorted(emptied) == ["{}", "{}"]  # left plain
    assert [bytes(payloads[i]) for i in ids[:2]] == [b"", b""]
    assert under(bytes(payloads[ids[2]]), "kid2")
    only_new = await site.open(sealer=Sealer([KEY2]))
    try:
        for message_id in ids[:2]:
            pruned = await only_new.get_message(message_id)
            assert pruned is not None and pruned.payload == b"" and pruned.pruned_at is not None
        kept = await only_new.get_message(ids[2])
        assert kept is not None and BSN.encode() in kept.payload
    finally:
        await only_new.close()


async def test_a_status_changed_with_its_audit_entry_keeps_its_error_sealed(site: Site) -> None:
    """A discard (``set_statuses_audited``) and a removal's dead-lettering
    (``set_status_audited``) write ``last_error`` again: sealed as every other write of it, or
    the receiver's words naming the patient lay in the database in clear text from then on."""
    from integrator.store.store import AuditedStatus

    store = await site.open(sealer=Sealer([KEY1]))
    try:
        event = patient_event()
        discarded, removed = patient_message(), patient_message()
        assert await store.accept_event(event, [discarded, removed])
        said = f"ACK AR: patient {NAME} unknown"
        await store.set_statuses_audited(
            [AuditedStatus(discarded.id, said, {})],
            "cancelled",
            actor="local:tester",
            action="deadletter.discard",
            reason="duplicate referral",
        )
        await store.set_status_audited(
            [removed.id],
            "dead",
            last_error=said,
            actor="local:tester",
            action="destination.remove",
            target="noord",
        )
        for message_id in (discarded.id, removed.id):
            stored = await store.get_message(message_id)
            assert stored is not None and stored.last_error == said
    finally:
        await store.close()
    async with raw_connection(site) as conn:
        errors = [value for (value,) in await conn.execute(select(messages.c.last_error))]
    assert len(errors) == 2
    for value in errors:
        assert NAME not in value and under(value.encode(), "kid1")


async def test_a_listing_reads_no_message_body(site: Site) -> None:
    """Listings unsealed every message's HL7 for a page of ids and states: a thousand referrals
    with a PDF each held some 2 GB in the engine. ``payloads=False`` leaves the bodies unread:
    a body that cannot be opened no longer even comes into it, while every other field does."""
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        written = await write_patient_data(store)
        message_id = written["message"].id
        flt = MessageFilter(event_id=written["event"].id)
        whole = await store.list_messages(flt)
        async with raw_connection(site) as conn:
            payload = (
                await conn.execute(select(messages.c.payload).where(messages.c.id == message_id))
            ).scalar_one()
            changed = bytes(payload[:-1]) + bytes([payload[-1] ^ 1])
            await conn.execute(
                update(messages).where(messages.c.id == message_id).values(payload=changed)
            )
            await conn.commit()
        with pytest.raises(TamperedValue):
            await store.list_messages(flt)
        listed = await store.list_messages(flt, payloads=False)
        assert message_id in [m.id for m in listed]
        assert listed == [dataclasses.replace(m, payload=b"") for m in whole]
    finally:
        await store.close()


async def test_a_retired_key_put_first_again_is_refused_naming_it_and_the_fix(site: Site) -> None:
    """kid1 retired by a rotation to kid2: a setting with kid1 first again (entries swapped)
    used to register kid1 as "a new data key" and seal new values with it. Refused at open,
    writer or reader, with nothing written; kid1 after the current key still opens."""
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        written = await write_patient_data(first)
    finally:
        await first.close()
    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        assert (await both.rotate_data_keys(actor="local:tester")).retired == ("kid1",)
        entries = len(await both.list_audit(AuditFilter(target="datakeys")))
    finally:
        await both.close()

    async def open_as(keys: list[DataKey], *, reader: bool = False) -> Store:
        if reader:
            return await Store.open_existing(site.url, schema=site.schema, sealer=Sealer(keys))
        return await site.open(sealer=Sealer(keys))

    for keys, reader in (([KEY1, KEY2], False), ([KEY1, KEY2], True), ([KEY1], False)):
        with pytest.raises(DataKeyError) as refused:
            await open_as(keys, reader=reader)
        said = str(refused.value)
        assert "data key 'kid1', its first entry" in said
        assert "was retired by integrator keys rotate" in said
        assert "put the current key first (the store's keys in use: 'kid2')" in said
        assert "Nothing was written" in said

    again = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        assert len(await again.list_audit(AuditFilter(target="datakeys"))) == entries
        assert await again.known_data_keys() == {"kid1": False, "kid2": True}
        await assert_reads_back(again, written)
    finally:
        await again.close()


@pytest.mark.parametrize("turned_on", [True, False], ids=["encryption turned on", "key to key"])
async def test_a_rotation_leaves_no_old_value_in_the_sqlite_files(
    tmp_path: Path, turned_on: bool
) -> None:
    """The report says the old key seals nothing (or nothing is clear) any more, so a copy of
    the files must agree while the engine keeps the store open: the rewritten pages sat in the
    WAL and the old ones in the database file until the engine next wrote enough to checkpoint,
    which a quiet store (a night-time rotation) did not do."""
    site = Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}")
    before = await site.open(sealer=None if turned_on else Sealer([KEY1]))
    try:
        await write_patient_data(before)
    finally:
        await before.close()  # its last connection checkpoints: the values are in the file
    files = [tmp_path / "store.db", tmp_path / "store.db-wal"]
    old = [v[-16:] for v in await raw_values(site)] if not turned_on else [BSN.encode()]
    assert any(part in files[0].read_bytes() for part in old)

    rotating = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:  # open throughout, as a running engine keeps it
        report = await rotating.rotate_data_keys(actor="local:tester")
        assert report.resealed == 7
        held = b"".join(f.read_bytes() for f in files if f.exists())
        assert [part for part in old if part in held] == []
        assert NAME.encode() not in held
    finally:
        await rotating.close()


async def test_a_rotation_says_when_a_reader_kept_the_old_values_in_the_files(
    tmp_path: Path,
) -> None:
    """A backup or an export reading on an older snapshot keeps the checkpoint from finishing:
    the report says so (the command warns), and a run after the reader ended finishes it."""
    site = Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}")
    before = await site.open()
    try:
        await write_patient_data(before)
    finally:
        await before.close()
    files = [tmp_path / "store.db", tmp_path / "store.db-wal"]
    rotating = await site.open(sealer=Sealer([KEY1]))
    reader = sqlite3.connect(tmp_path / "store.db")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()  # a snapshot, held open
        report = await rotating.rotate_data_keys(actor="local:tester")
        assert report.resealed == 7 and report.old_pages_left
        reader.rollback()
        again = await rotating.rotate_data_keys(actor="local:tester")
        assert again.resealed == 0 and not again.old_pages_left
        held = b"".join(f.read_bytes() for f in files if f.exists())
        assert BSN.encode() not in held
    finally:
        reader.close()
        await rotating.close()
