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


def _engine_admin(
    store: Store, admin: DestinationAdmin, files: Files, on: Site
) -> DestinationAdmin:
    """Another engine's view of the same directory and store, on the same clock as ``admin``."""
    return DestinationAdmin(
        store=store,
        settings=Settings(database_url=on.url, destinations_dir=files.directory),
        today=lambda: admin._today(),
        now=lambda: admin._now(),
    )


@both_backends
async def test_engines_watching_the_same_directory_audit_a_hand_edit_once(
    admin: DestinationAdmin, files: Files, any_site: Site
) -> None:
    files.path(WEST).write_text(files.text(WEST).replace("host: 127.0.0.1", "host: 10.0.0.9"))
    stores = [await any_site.open() for _ in range(3)]
    try:
        admins = [_engine_admin(s, admin, files, any_site) for s in stores]
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
    # … nor a refused file: the directory is no file in it
    assert not [e for e in await store.list_audit(limit=100) if e.action == file_audit.REFUSED]
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


# -- refused files that are no destination's own ----------------------------------------------

OF_ANOTHER = {
    "key": "id",
    "code": "file_of_another",
    "rule": "the id inside is that of a destination whose own file is another one; a "
    "destination's file is named <id>.yaml, so this file is refused",
}
MISNAMED = {
    "key": "id",
    "code": "file_misnamed",
    "rule": "the id inside does not match the file name; a destination's file is named "
    "<id>.yaml, so this file is refused",
}


async def in_service(admin: DestinationAdmin) -> tuple[object, ...]:
    """What runs: each destination's definition and its recorded revisions."""
    catalog = await admin.catalog()
    return (
        catalog.destinations,
        [await admin._store.list_destination_revisions(d) for d in (NOORD, WEST)],
    )


@both_backends
async def test_a_second_file_claiming_an_id_is_audited_once_under_that_id(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    before = await in_service(admin)
    copy = files.directory / f"{WEST}.yml"
    copy.write_text(files.text(WEST).replace("port: 2576", "port: 2599"))
    for _ in range(3):
        assert await reload(admin) == 0
    assert await in_service(admin) == before  # refused: nothing in service changes

    [added, refused] = await file_entries(store, WEST)
    assert added.action == "destination.file"
    assert (refused.action, refused.target) == (file_audit.REFUSED, WEST)
    assert refused.details == {
        "keys": ["port"],  # what the copy says otherwise: the edit made in the wrong file
        "problems": [OF_ANOTHER],
        "revision": 1,  # lab-west's, still in service
        "sha256": refused.details["sha256"],
        "file": f"{WEST}.yml",
    }
    assert "2599" not in str(refused.details)

    copy.write_text(files.text(WEST).replace("port: 2576", "port: 2598"))  # another text
    await reload(admin)
    await reload(admin)
    actions = [e.action for e in await file_entries(store, WEST)]
    assert actions == ["destination.file", file_audit.REFUSED, file_audit.REFUSED]
    assert (await store.verify_audit()).broken_id is None


@both_backends
async def test_a_destinations_own_refusal_and_a_second_file_are_told_apart(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    """Both are about lab-west: neither may make the other look new (or repaired) again."""
    good = files.text(WEST)
    (files.directory / f"{WEST}.yml").write_text(good)
    files.path(WEST).write_text(good.replace("port: 2576", "port: 99999"))
    for _ in range(3):
        await reload(admin)
    entries = await file_entries(store, WEST)
    assert [(e.action, e.details.get("file")) for e in entries[1:]] == [
        (file_audit.REFUSED, f"{WEST}.yaml"),
        (file_audit.REFUSED, f"{WEST}.yml"),
    ]
    files.path(WEST).write_text(good)  # its own file put right; the copy stays refused
    for _ in range(3):
        await reload(admin)
    entries = await file_entries(store, WEST)
    assert [e.action for e in entries[3:]] == [file_audit.RESTORED]


@both_backends
async def test_a_file_naming_no_destination_is_audited_under_its_name_without_its_values(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    before = await in_service(admin)
    unparsable = files.directory / "Lab Oost.yaml"
    unparsable.write_text('host: "geheim-host\nport: 1\n')  # an unclosed quote
    misnamed = files.directory / "lab-zuid.yml"
    misnamed.write_text(files.text(WEST).replace(f"id: {WEST}", "id: lab-nergens"))
    binary = files.directory / "oud.yml"
    binary.write_bytes(b"\xff\xfehost: x\n")
    for _ in range(2):
        assert await reload(admin) == 0
    assert await in_service(admin) == before

    [syntax] = await file_entries(store, "Lab Oost.yaml")
    assert syntax.action == file_audit.REFUSED and syntax.details["file"] == "Lab Oost.yaml"
    [problem] = syntax.details["problems"]
    assert problem["code"] == "yaml_syntax" and problem["rule"] == "YAML syntax error"
    assert "geheim" not in str(syntax.details)

    [wrong] = await file_entries(store, "lab-zuid.yml")
    assert wrong.details["problems"] == [MISNAMED] and wrong.details["keys"] == []
    assert "nergens" not in str(wrong.details) + wrong.target

    [not_text] = await file_entries(store, "oud.yml")
    assert not_text.details["problems"] == [
        {"key": "(file)", "code": "not_utf8", "rule": "is not UTF-8 text"}
    ]
    assert not_text.details["sha256"] is None


@both_backends
async def test_a_misnamed_file_of_a_destinations_name_says_its_rule_without_the_id_inside(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    (files.directory / "lab-zuid.yaml").write_text(
        files.text(WEST).replace(f"id: {WEST}", "id: lab-nergens")
    )
    await reload(admin)
    await reload(admin)
    [refused] = await file_entries(store, "lab-zuid")
    assert refused.details["problems"] == [MISNAMED]
    assert refused.details["file"] == "lab-zuid.yaml"
    assert "nergens" not in str(refused.details)
    # The tools still say it whole, and name the same rule by its code.
    [row] = [r for r in await admin.summaries() if r["id"] == "lab-zuid"]
    assert row["problem"]["code"] == "file_misnamed" and "lab-nergens" in row["problem"]["rule"]


@both_backends
async def test_engines_watching_the_same_directory_audit_each_refused_file_once(
    admin: DestinationAdmin, files: Files, any_site: Site
) -> None:
    (files.directory / f"{WEST}.yml").write_text(files.text(WEST))
    (files.directory / "Lab Oost.yaml").write_text("port: [\n")
    (files.directory / "lab-zuid.yaml").write_text(
        files.text(WEST).replace(f"id: {WEST}", "id: lab-nergens")
    )
    stores = [await any_site.open() for _ in range(2)]
    try:
        admins = [_engine_admin(s, admin, files, any_site) for s in stores]
        for _ in range(2):  # two reloads of each engine, at the same moment
            catalogs = [await a.catalog() for a in admins]
            await asyncio.gather(
                *(a.record_file_changes(c) for a, c in zip(admins, catalogs, strict=True))
            )
        for target in (WEST, "Lab Oost.yaml", "lab-zuid"):
            refused = [
                e for e in await file_entries(stores[0], target) if e.action == file_audit.REFUSED
            ]
            assert len(refused) == 1, target
    finally:
        for s in stores:
            await s.close()


def test_a_version_refusal_is_said_without_the_version_named() -> None:
    from destinations.config import DestinationFileError

    error = DestinationFileError(
        "x.yaml",
        "messages.referral",
        "unknown message version 'ref-geheim' (known: ref-v1, ref-v2)",
        code="version_unknown",
        values={"version": "ref-geheim", "known": "ref-v1, ref-v2"},
    )
    assert file_audit.problem(error) == {
        "key": "messages.referral",
        "code": "version_unknown",
        "rule": "unknown message version (known: ref-v1, ref-v2)",
    }
