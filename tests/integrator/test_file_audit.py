"""Hand edits of destination files are in the audit trail (actor ``file``), each written once.

A hand edit goes live within a second and can move a hospital's traffic elsewhere: the trail
must say it happened and what it changed, like a change made through a tool, and not once per
reload or per engine watching the directory.
"""

from __future__ import annotations

import asyncio

from integrator import file_audit
from integrator.operators import DestinationAdmin
from integrator.settings import Settings
from integrator.store import AuditRecord, Store
from tests.integrator import test_destination_edits as edits
from tests.integrator.test_destination_edits import NOORD, WEST, Files, both_backends
from tests.store.conftest import Site, site  # noqa: F401  (both backends)

# The examples' directory and the service on them, as the edits' tests set them up.
files = edits.files
any_site = edits.any_site
store = edits.store
admin = edits.admin


async def file_entries(store: Store, dest_id: str) -> list[AuditRecord]:
    """The entries with actor ``file`` about ``dest_id``, oldest first."""
    entries = await store.list_audit(target=dest_id, limit=1000)
    return [e for e in reversed(entries) if e.actor == "file"]


async def reload(admin: DestinationAdmin) -> int:
    """What an engine's reload does with the files."""
    return await admin.record_file_changes(await admin.catalog())


@both_backends
async def test_a_hand_edit_is_audited_once_with_what_it_changed(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    [added] = await file_entries(store, NOORD)  # the first reading of the examples
    assert added.action == "destination.file" and added.details["added"] is True
    assert added.details["changes"]["port"] == {"from": None, "to": 2575}

    text = files.text(NOORD).replace("port: 2575", "port: 2590")
    files.path(NOORD).write_text(text.replace("enabled: true", "enabled: false"))
    assert await reload(admin) == 1
    assert await reload(admin) == 0  # the next reload, or SIGHUP, records nothing again

    [_, edit] = await file_entries(store, NOORD)
    assert (edit.actor, edit.action, edit.target) == ("file", "destination.file", NOORD)
    assert edit.details == {
        "keys": ["enabled", "port"],
        "changes": {
            "enabled": {"from": True, "to": False},
            "port": {"from": 2575, "to": 2590},
        },
        "file": f"{NOORD}.yaml",
        "revision": 2,
    }
    assert len(await file_entries(store, WEST)) == 1  # only the first reading
    assert (await store.verify_audit()).broken_id is None


@both_backends
async def test_engines_watching_the_same_directory_audit_a_hand_edit_once(
    admin: DestinationAdmin, files: Files, any_site: Site
) -> None:
    files.path(WEST).write_text(files.text(WEST).replace("host: 127.0.0.1", "host: 10.0.0.9"))
    stores = [await any_site.open() for _ in range(3)]
    try:
        admins = [
            DestinationAdmin(
                store=s,
                settings=Settings(database_url=any_site.url, destinations_dir=files.directory),
                today=lambda: admin._today(),
                now=lambda: admin._now(),
            )
            for s in stores
        ]
        catalog = await admins[0].catalog()
        recorded = await asyncio.gather(*(a.record_file_changes(catalog) for a in admins))
        assert sum(recorded) == 1
        entries = await file_entries(stores[0], WEST)
        assert [e.details.get("changes", {}).get("host") for e in entries[1:]] == [
            {"from": "127.0.0.1", "to": "10.0.0.9"}
        ]
    finally:
        for s in stores:
            await s.close()


@both_backends
async def test_a_refused_file_is_audited_once_and_again_only_for_a_new_refusal(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    good = files.text(NOORD)
    files.path(NOORD).write_text(good.replace("port: 2575", "port: 99999"))
    for _ in range(2):
        assert await reload(admin) == 0  # refused: nothing in service changes
    [_, refused] = await file_entries(store, NOORD)
    assert (refused.action, refused.target) == (file_audit.REFUSED, NOORD)
    assert refused.details["keys"] == ["port"]
    assert [p["key"] for p in refused.details["problems"]] == ["port"]
    assert refused.details["revision"] == 1 and refused.details["file"] == f"{NOORD}.yaml"
    assert "99999" not in str(refused.details)  # a refused value was not accepted: not kept

    files.path(NOORD).write_text(good)  # put back by hand …
    await reload(admin)
    await reload(admin)
    files.path(NOORD).write_text(good.replace("port: 2575", "port: 99999"))  # … and again
    await reload(admin)
    actions = [e.action for e in await file_entries(store, NOORD)]
    assert actions == [
        "destination.file",
        file_audit.REFUSED,
        file_audit.RESTORED,
        file_audit.REFUSED,
    ]


@both_backends
async def test_a_file_deleted_by_hand_is_recorded_and_audited_as_its_removal(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    text = files.text(WEST)
    files.path(WEST).unlink()
    assert await reload(admin) == 1
    assert await reload(admin) == 0
    [*_, removed] = await store.list_destination_revisions(WEST)
    assert (removed.revision, removed.actor, removed.action, removed.config) == (
        2,
        "file",
        "file",
        None,
    )
    [_, entry] = await file_entries(store, WEST)
    assert entry.action == "destination.file" and entry.details["removed"] is True
    assert entry.details["changes"]["port"] == {"from": 2576, "to": None}

    files.path(WEST).write_text(text)  # back again: a new revision, audited as added
    assert await reload(admin) == 1
    [*_, back] = await file_entries(store, WEST)
    assert back.details["added"] is True and back.details["revision"] == 3


async def test_a_directory_that_cannot_be_read_removes_nothing(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    moved = files.directory.rename(files.directory.with_name("elsewhere"))
    assert await reload(admin) == 0  # a mount gone is not every file deleted
    assert len(await file_entries(store, NOORD)) == 1
    moved.rename(files.directory)


def test_changes_name_nested_settings_by_their_path() -> None:
    before = {"port": 1, "retry": {"initial": "2s", "max_attempts": 20}, "tls": None}
    after = {
        "port": 1,
        "retry": {"initial": "2s", "max_attempts": 5},
        "tls": {"ca_file": "ca.pem", "server_name": None},
    }
    assert file_audit.changes(before, after) == {
        "keys": ["retry", "tls"],
        "changes": {
            "retry.max_attempts": {"from": 20, "to": 5},
            "tls.ca_file": {"from": None, "to": "ca.pem"},
        },
    }
