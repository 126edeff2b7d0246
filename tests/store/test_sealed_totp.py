"""TOTP secrets sealed at rest (``people.totp_secret``), on both stores, through the Store API.

The raw column is read with plain SQL: under a data key it holds no secret. Read back it is the
secret, with a key, without one, across adding a key and across rotating; moved to another
person's row or changed, it does not open. Migration 0008 widens the column and keeps the
secrets already there.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, inspect, select, update

from integrator.access import totp
from integrator.store import NewInvitation, PersonRecord, Store
from integrator.store.errors import TamperedValue, UnknownDataKey
from integrator.store.sealing import TEXT_MAGIC, DataKey, Sealer
from integrator.store.tables import grants, people
from tests.store.conftest import Site
from tests.store.factories import T0
from tests.store.helpers import migrate_to, raw_connection

KEY1 = DataKey("kid1", os.urandom(32))
KEY2 = DataKey("kid2", os.urandom(32))
LONGEST_KID = DataKey("k" * 32, os.urandom(32))  # the longest key id: the longest sealed value


async def add_person(store: Store, email: str) -> str:
    """An invited person whose TOTP secret is pending (as after opening the link)."""
    person_id = str(uuid.uuid4())
    invitation = NewInvitation(
        id=str(uuid.uuid4()),
        token_hash=uuid.uuid4().hex * 2,
        created_by="local:tester",
        created_at=T0,
        expires_at=T0 + timedelta(days=7),
    )
    await store.add_person(
        person_id, email=email, name=email, grant_specs=[("viewer", None)], invitation=invitation
    )
    return person_id


async def enrolled(store: Store, email: str) -> tuple[str, str]:
    """(person id, secret) of a person with a pending TOTP secret."""
    person_id = await add_person(store, email)
    secret = totp.new_secret()
    assert await store.set_pending_totp_secret(person_id, secret)
    return person_id, secret


async def person(store: Store, person_id: str) -> PersonRecord:
    found = await store.get_person(person_id=person_id)
    assert found is not None
    return found


async def raw_secret(site: Site, person_id: str) -> str:
    async with raw_connection(site) as conn:
        value = await conn.scalar(select(people.c.totp_secret).where(people.c.id == person_id))
    assert isinstance(value, str)
    return value


async def test_under_a_key_the_column_holds_no_secret_and_reads_back(site: Site) -> None:
    store = await site.open(sealer=Sealer([LONGEST_KID]))
    try:
        person_id, secret = await enrolled(store, "anna@example.nl")
        found = await person(store, person_id)
        assert store.open_totp_secret(found) == secret
        assert (await store.count_to_reseal())["people.totp_secret"] == 0
    finally:
        await store.close()
    stored = await raw_secret(site, person_id)
    assert secret not in stored
    assert stored.startswith(f"{TEXT_MAGIC}1${LONGEST_KID.kid}$")
    # The longest a sealed secret gets (PostgreSQL would refuse it in the old VARCHAR(64)).
    assert len(stored) == 120


async def test_without_a_key_the_secret_is_stored_and_read_as_before(site: Site) -> None:
    store = await site.open()
    try:
        person_id, secret = await enrolled(store, "anna@example.nl")
        assert store.open_totp_secret(await person(store, person_id)) == secret
        assert await raw_secret(site, person_id) == secret
        assert (
            store.open_totp_secret(await person(store, await add_person(store, "b@x.nl"))) is None
        )
    finally:
        await store.close()


async def test_a_plain_secret_works_after_a_key_and_rotation_seals_it(site: Site) -> None:
    plain = await site.open()
    try:
        old_id, old_secret = await enrolled(plain, "anna@example.nl")
    finally:
        await plain.close()

    keyed = await site.open(sealer=Sealer([KEY1]))
    try:
        assert keyed.open_totp_secret(await person(keyed, old_id)) == old_secret
        new_id, new_secret = await enrolled(keyed, "bert@example.nl")
        assert (await keyed.count_to_reseal())["people.totp_secret"] == 1
        report = await keyed.rotate_data_keys(actor="local:tester")
        assert report.counts["people.totp_secret"] == 1 and report.resealed == 1
        assert (await keyed.count_to_reseal())["people.totp_secret"] == 0
    finally:
        await keyed.close()
    assert (await raw_secret(site, old_id)).startswith(f"{TEXT_MAGIC}1$kid1$")

    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        counts = await both.count_to_reseal()
        assert counts["people.totp_secret"] == 2 and sum(counts.values()) == 2
        handled: list[int] = []
        report = await both.rotate_data_keys(actor="local:tester", batch=1, progress=handled.append)
        assert report.resealed == 2 and handled == [1, 1] and report.retired == ("kid1",)
    finally:
        await both.close()
    for person_id in (old_id, new_id):
        assert (await raw_secret(site, person_id)).startswith(f"{TEXT_MAGIC}1$kid2$")

    only_new = await site.open(sealer=Sealer([KEY2]))
    try:
        assert only_new.open_totp_secret(await person(only_new, old_id)) == old_secret
        assert only_new.open_totp_secret(await person(only_new, new_id)) == new_secret
    finally:
        await only_new.close()


async def test_a_rotation_keeps_a_secret_sealed_under_an_old_key_readable(site: Site) -> None:
    """The old key is retired only when no secret is left under it: had rotation skipped the
    column, the secret would be lost once the retired key is dropped from the setting."""
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        person_id, secret = await enrolled(first, "anna@example.nl")
    finally:
        await first.close()
    both = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        assert (await both.rotate_data_keys(actor="local:tester")).retired == ("kid1",)
    finally:
        await both.close()
    only_new = await site.open(sealer=Sealer([KEY2]))
    try:
        assert only_new.open_totp_secret(await person(only_new, person_id)) == secret
    finally:
        await only_new.close()


async def test_a_secret_moved_to_another_row_or_changed_does_not_open(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        anna, anna_secret = await enrolled(store, "anna@example.nl")
        bert, bert_secret = await enrolled(store, "bert@example.nl")
        carla, _ = await enrolled(store, "carla@example.nl")
        anna_stored = await raw_secret(site, anna)
        changed = anna_stored[:-2] + ("A" if anna_stored[-2] != "A" else "B") + anna_stored[-1]
        async with raw_connection(site) as conn:
            await conn.execute(
                update(people).where(people.c.id == bert).values(totp_secret=anna_stored)
            )
            await conn.execute(
                update(people).where(people.c.id == carla).values(totp_secret=changed)
            )
            await conn.commit()
        with pytest.raises(
            TamperedValue, match=rf"^people.totp_secret of {bert}: sealed with"
        ) as moved:
            store.open_totp_secret(await person(store, bert))
        with pytest.raises(TamperedValue, match=rf"^people.totp_secret of {carla}: "):
            store.open_totp_secret(await person(store, carla))
        for secret in (anna_secret, bert_secret, anna_stored):
            assert secret not in str(moved.value)
        assert store.open_totp_secret(await person(store, anna)) == anna_secret
        # The person is still read (listings, the admin's view): only the secret does not open.
        assert {p.id for p in await store.list_people()} == {anna, bert, carla}
        # Rotation stops at it, naming the row, rather than sealing a secret it cannot read.
        both = await site.open(sealer=Sealer([KEY2, KEY1]))
        try:
            with pytest.raises(TamperedValue, match=r"^people.totp_secret of "):
                await both.rotate_data_keys(actor="local:tester")
        finally:
            await both.close()
    finally:
        await store.close()


async def test_a_secret_under_a_key_not_configured_names_the_key(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        person_id, secret = await enrolled(store, "anna@example.nl")
        alien = Sealer([DataKey("kid9", os.urandom(32))])
        stored = alien.seal_text(secret, b"people.totp_secret\x00" + person_id.encode())
        async with raw_connection(site) as conn:
            await conn.execute(
                update(people).where(people.c.id == person_id).values(totp_secret=stored)
            )
            await conn.commit()
        with pytest.raises(UnknownDataKey, match=r"'kid9', which INTEGRATOR_DATA_KEYS") as caught:
            store.open_totp_secret(await person(store, person_id))
        assert secret not in str(caught.value)
    finally:
        await store.close()


# -- migration 0008 ------------------------------------------------------------------------------


def _totp_column_type(conn: Connection) -> str:
    [column] = [c for c in inspect(conn).get_columns("people") if c["name"] == "totp_secret"]
    return str(column["type"])


async def test_migration_0008_widens_the_column_and_keeps_the_secrets(site: Site) -> None:
    await migrate_to(site, "0007")
    secrets = {str(uuid.uuid4()): totp.new_secret() for _ in range(3)}
    async with raw_connection(site) as conn:
        assert await conn.run_sync(_totp_column_type) == "VARCHAR(64)"
        for n, (person_id, secret) in enumerate(secrets.items()):
            await conn.execute(
                insert(people).values(
                    id=person_id,
                    email=f"p{n}@example.nl",
                    name="x",
                    status="active",
                    totp_secret=secret,
                    totp_last_step=7,
                    failed_logins=0,
                    created_at=T0,
                )
            )
            # Rows referring to the person: SQLite must not rebuild ``people`` under them.
            await conn.execute(
                insert(grants).values(person_id=person_id, role="viewer", created_at=T0)
            )
        await conn.commit()

    store = await site.open(sealer=Sealer([KEY1]))  # migrates to head
    try:
        for person_id, secret in secrets.items():
            found = await person(store, person_id)
            assert store.open_totp_secret(found) == secret
            assert found.totp_last_step == 7 and found.grants[0].role == "viewer"
        assert (await store.rotate_data_keys(actor="local:tester")).resealed == 3
        for person_id, secret in secrets.items():
            assert store.open_totp_secret(await person(store, person_id)) == secret
    finally:
        await store.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(_totp_column_type) == "TEXT"
        for person_id in secrets:
            assert len(await raw_secret(site, person_id)) > 64  # sealed, and it fit
        if site.backend == "sqlite":
            assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
            assert (await conn.exec_driver_sql("PRAGMA integrity_check")).scalar() == "ok"


async def test_migration_0008_on_an_old_sqlite_says_which_version_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Site("sqlite", url, None)
    await migrate_to(old, "0007")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    with pytest.raises(Exception, match=r"needs SQLite 3\.35 or newer .*uses SQLite 3\.34\.1"):
        await migrate_to(old, "0008")
    async with raw_connection(old) as conn:  # nothing half done: the column is as it was
        assert await conn.run_sync(_totp_column_type) == "VARCHAR(64)"
