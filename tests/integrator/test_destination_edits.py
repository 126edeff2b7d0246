"""Changes by the tools keep the destination file as people wrote it, and broken files stay visible.

Run on the real example files in ``config/destinations/``, which carry many comments. The tests
of broken files run on both store backends: a broken file's last good definition is read from
the store's revisions.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.config import definition_of
from integrator import file_audit
from integrator.errors import ConfigurationError
from integrator.operators import DestinationAdmin, MissingKeys, UnknownDestination
from integrator.settings import Settings
from integrator.store import AuditFilter, Store
from tests.store.conftest import Site, site  # noqa: F401  (both backends)

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"
NOORD = "ziekenhuis-noord"
WEST = "lab-west"


def comments(text: str) -> list[str]:
    """Every comment, in order (the part of each line from ``#`` on)."""
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def keys(text: str) -> list[str]:
    """The top-level keys, in order."""
    return re.findall(r"^([a-z_]+):", text, flags=re.MULTILINE)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(old, new) for each line that differs; both texts must have the same line count."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


class Files:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, dest_id: str) -> Path:
        return self.directory / f"{dest_id}.yaml"

    def text(self, dest_id: str) -> str:
        return self.path(dest_id).read_text(encoding="utf-8")

    def example(self, dest_id: str) -> str:
        return (EXAMPLES / f"{dest_id}.yaml").read_text(encoding="utf-8")


@pytest.fixture
def files(tmp_path: Path) -> Files:
    directory = tmp_path / "destinations"
    directory.mkdir()
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, directory / example.name)
    return Files(directory)


both_backends = pytest.mark.usefixtures("site")


@pytest.fixture
def any_site(request: pytest.FixtureRequest, tmp_path: Path) -> Site:
    """The ``site`` of a test marked ``both_backends``, else a SQLite file."""
    if "site" in request.fixturenames:
        chosen: Site = request.getfixturevalue("site")
        return chosen
    return Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
async def store(any_site: Site) -> AsyncIterator[Store]:
    opened = await any_site.open()
    yield opened
    await opened.close()


@pytest.fixture
async def admin(store: Store, files: Files, any_site: Site) -> DestinationAdmin:
    """The operators' service on the examples, as a running engine left it: each recorded once."""
    settings = Settings(database_url=any_site.url, destinations_dir=files.directory)
    service = DestinationAdmin(
        store=store,
        settings=settings,
        today=lambda: date(2026, 11, 27),
        now=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    )
    assert await service.record_file_changes(await service.catalog()) == 2
    return service


async def revisions(admin: DestinationAdmin, dest_id: str) -> list[int]:
    return [h["revision"] for h in await admin.history(dest_id)]


# -- comments and layout ----------------------------------------------------------------------


async def test_update_keeps_every_comment_and_the_key_order(
    admin: DestinationAdmin, files: Files
) -> None:
    before = files.text(NOORD)
    # The 31 the issue counted, and the three on MSH-15/16 added since.
    assert len(comments(before)) == 34
    change = await admin.update(
        NOORD, ["port=2580", "retry.max_attempts=5", "tls=null"], actor="anna"
    )
    after = files.text(NOORD)
    assert change.revision == 2
    assert comments(after) == comments(before)
    assert keys(after) == keys(before)
    assert changed_lines(before, after) == [
        ("port: 2575", "port: 2580"),
        ("  max_attempts: 20", "  max_attempts: 5"),
    ]


async def test_update_of_a_file_with_only_some_keys_adds_what_it_must_where_it_belongs(
    admin: DestinationAdmin, files: Files
) -> None:
    before = files.text(WEST)
    await admin.update(
        WEST, ["retry.max_attempts=5", "retry.initial=5s", "connections=2"], actor="anna"
    )
    after = files.text(WEST)
    assert comments(after) == comments(before)
    # Nothing but what changed is written: no defaults spelled out, the new key in its place.
    expected = keys(before)
    expected.insert(expected.index("ordering"), "connections")
    assert keys(after) == expected
    assert "connections: 2\nordering: rotate" in after
    assert "  initial: 5s\n  max_attempts: 5               # keys not written" in after


async def test_pause_resume_and_rollback_give_back_the_file_byte_for_byte(
    admin: DestinationAdmin, files: Files
) -> None:
    original = files.text(NOORD)
    paused = await admin.set_enabled(NOORD, False, actor="anna")
    assert paused.revision == 2
    assert changed_lines(original, files.text(NOORD)) == [
        (
            "enabled: true                   # false pauses delivery; messages stay queued",
            "enabled: false                  # false pauses delivery; messages stay queued",
        )
    ]
    await admin.set_enabled(NOORD, True, actor="anna")
    assert files.text(NOORD) == original
    await admin.update(
        NOORD, ["port=2999", "ack_timeout=3s", "messages.referral=ref-v1"], actor="b"
    )
    await admin.rollback(NOORD, 1, actor="anna", reason="undo")
    assert files.text(NOORD) == original
    assert await revisions(admin, NOORD) == [1, 2, 3, 4, 5]


async def test_a_linked_file_is_changed_through_its_link_and_keeps_its_permissions(
    admin: DestinationAdmin, files: Files, tmp_path: Path
) -> None:
    """A destination file linked in from a checkout a configuration tool keeps: a change wrote
    a plain file over the link, so the checkout's later edits were ignored without a word, and
    a file kept 0640 came back 0644 (found by an operator audit)."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    kept = checkout / f"{WEST}.yaml"
    files.path(WEST).rename(kept)
    kept.chmod(0o640)
    files.path(WEST).symlink_to(kept)
    files.path(NOORD).chmod(0o640)

    await admin.update(WEST, ["port=2999"], actor="anna")
    await admin.set_enabled(NOORD, False, actor="anna")

    assert files.path(WEST).is_symlink() and files.path(WEST).resolve() == kept
    assert "port: 2999" in kept.read_text(encoding="utf-8")
    assert (kept.stat().st_mode & 0o777, files.path(NOORD).stat().st_mode & 0o777) == (
        0o640,
        0o640,
    )
    assert sorted(p.name for p in checkout.iterdir()) == [kept.name]  # no temporary left
    kept.write_text(kept.read_text(encoding="utf-8").replace("port: 2999", "port: 2998"))
    assert (await admin.view(WEST)).config.port == 2998  # type: ignore[union-attr]


async def test_pause_of_a_file_without_the_key_adds_it_and_keeps_the_rest(
    admin: DestinationAdmin, files: Files
) -> None:
    original = files.text(WEST)
    await admin.set_enabled(WEST, False, actor="anna")
    assert files.text(WEST) == original + "enabled: false\n"
    await admin.set_enabled(WEST, True, actor="anna")
    assert files.text(WEST) == original + "enabled: true\n"
    await admin.update(WEST, ["port=2999"], actor="anna")
    await admin.rollback(WEST, 1, actor="anna")
    assert files.text(WEST) == original + "enabled: true\n"


async def test_a_change_that_changes_nothing_records_nothing_and_writes_nothing(
    admin: DestinationAdmin, files: Files
) -> None:
    path = files.path(NOORD)
    before = path.read_bytes(), path.stat().st_mtime_ns
    for assignments in (["port=2575"], ["ack_timeout=30000ms"], ["tls=null", "retry.initial=2"]):
        change = await admin.update(NOORD, assignments, actor="anna")
        assert (change.changed, change.revision, change.diff) == (False, None, "")
    assert not (await admin.set_enabled(NOORD, True, actor="anna")).changed
    assert not (await admin.patch(NOORD, {"port": 2575}, actor="anna")).changed
    assert not (await admin.rollback(NOORD, 1, actor="anna")).changed
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert await revisions(admin, NOORD) == [1]


async def test_add_writes_a_clean_file_named_after_the_id(
    admin: DestinationAdmin, files: Files
) -> None:
    definition = definition_of((await admin.get(WEST))[0])
    definition.update(id="lab-oost", name="Lab Oost", providers=["lab-oost"])
    await admin.add(definition, actor="anna")
    text = files.text("lab-oost")
    assert comments(text) == []
    assert keys(text)[:2] == ["id", "name"]


# -- PATCH and PUT ----------------------------------------------------------------------------


async def test_patch_merges_keeps_comments_and_null_restores_the_default(
    admin: DestinationAdmin, files: Files
) -> None:
    before = files.text(NOORD)
    change = await admin.patch(
        NOORD, {"retry": {"max_attempts": 7}, "rate_limit": 5, "tls": None}, actor="anna"
    )
    assert change.revision == 2
    config, _ = await admin.get(NOORD)
    assert (config.retry.max_attempts, config.retry.max_delay, config.rate_limit) == (7, 600, 5)
    assert comments(files.text(NOORD)) == comments(before)
    await admin.patch(NOORD, {"retry": {"max_attempts": None}, "rate_limit": None}, actor="anna")
    assert files.text(NOORD) == before  # back to the defaults, which the file spells out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 0}, r"^port: must be a whole number from 1 to 65535"),
        ({"retry": {"max_attemps": 5}}, r"retry\.max_attemps: unknown key"),
        ({"host": None}, r"^host: required"),
        ({"id": "elsewhere"}, r"id: cannot be changed"),
        ({"messages": {"referral": "ref-v9"}}, r"messages\.referral: unknown message version"),
    ],
)
async def test_a_bad_patch_names_key_and_rule_and_changes_nothing(
    admin: DestinationAdmin, files: Files, changes: dict[str, Any], message: str
) -> None:
    before = files.text(NOORD)
    with pytest.raises(ConfigurationError, match=message):
        await admin.patch(NOORD, changes, actor="anna")
    assert files.text(NOORD) == before
    assert await revisions(admin, NOORD) == [1]


async def test_every_broken_rule_of_a_change_is_named_at_once(
    admin: DestinationAdmin, files: Files
) -> None:
    """The engine's log listed them all, the command line and the API only the first: an
    operator fixed one, tried again, and met the next. Named as the patch names them, not by
    the file, which the caller never named and which stays as it was."""
    before = files.text(NOORD)
    with pytest.raises(ConfigurationError) as refused:
        await admin.patch(
            NOORD, {"ack_timout": "30s", "port": 70000, "ordering": "lifo"}, actor="anna"
        )
    said = str(refused.value)
    assert "ziekenhuis-noord.yaml" not in said, said
    for rule in ("ack_timout: unknown key", "port: must be a whole number from 1 to 65535"):
        assert rule in said, said
    assert "ordering: " in said and said.count("; ") == 2, said
    assert files.text(NOORD) == before


async def test_put_replaces_the_whole_definition_keeping_comments(
    admin: DestinationAdmin, files: Files
) -> None:
    before = files.text(NOORD)
    config, _ = await admin.get(NOORD)
    whole = config.model_dump(mode="json")  # what GET shows
    whole["port"] = 2581
    change = await admin.replace(NOORD, whole, actor="anna")
    assert change.revision == 2
    assert changed_lines(before, files.text(NOORD)) == [("port: 2575", "port: 2581")]


@pytest.mark.parametrize(
    "leave_out",
    [("receiving_application",), ("receiving_application", "receiving_facility"), ("retry",)],
)
async def test_put_without_a_key_is_refused_naming_it_and_changes_nothing(
    admin: DestinationAdmin, files: Files, leave_out: tuple[str, ...]
) -> None:
    before = files.text(NOORD)
    whole = (await admin.get(NOORD))[0].model_dump(mode="json")
    for key in leave_out:
        del whole[key]
    with pytest.raises(MissingKeys) as info:
        await admin.replace(NOORD, whole, actor="anna")
    assert info.value.keys == leave_out
    assert f"{', '.join(leave_out)}: required" in str(info.value)
    assert files.text(NOORD) == before
    assert await revisions(admin, NOORD) == [1]
    assert (await admin.get(NOORD))[0].receiving_application == "HIS"


async def test_put_without_a_key_of_a_section_names_it(admin: DestinationAdmin) -> None:
    whole = (await admin.get(NOORD))[0].model_dump(mode="json")
    del whole["retry"]["max_attempts"]
    with pytest.raises(MissingKeys, match=r"retry\.max_attempts: required"):
        await admin.replace(NOORD, whole, actor="anna")


# -- broken files -----------------------------------------------------------------------------


@both_backends
async def test_a_broken_file_stays_listed_with_file_key_rule_and_its_last_good_definition(
    admin: DestinationAdmin, files: Files
) -> None:
    path = files.path(NOORD)
    path.write_text(files.text(NOORD).replace("port: 2575", "port: 2575\nack_timout: 5s"))
    rows = {row["id"]: row for row in await admin.summaries()}
    assert set(rows) == {NOORD, WEST}
    row = rows[NOORD]
    assert (row["state"], row["address"], row["revision"]) == ("broken", "127.0.0.1:2575", 1)
    assert row["problem"] == {
        "file": str(path),
        "key": "ack_timout",
        "code": "extra_forbidden",
        "rule": "unknown key (did you mean ack_timeout?)",
    }
    assert rows[WEST]["state"] == "active" and rows[WEST]["problem"] is None
    view = await admin.view(NOORD)
    assert view.state == "broken" and view.config is not None and view.config.port == 2575
    assert (await admin.get(NOORD))[1] == str(path)
    assert await revisions(admin, NOORD) == [1]


@both_backends
async def test_a_change_to_a_broken_destination_is_made_to_its_last_good_definition(
    admin: DestinationAdmin, files: Files
) -> None:
    original = files.text(NOORD)
    files.path(NOORD).write_text(original.replace("port: 2575", "port: 25x5  # typo"))
    change = await admin.set_enabled(NOORD, False, actor="anna")
    assert change.revision == 2
    assert any("was refused (port:" in w and "revision 1" in w for w in change.warnings)
    text = files.text(NOORD)
    assert changed_lines(original, text) == [
        ("port: 2575", "port: 2575  # typo"),
        (
            "enabled: true                   # false pauses delivery; messages stay queued",
            "enabled: false                  # false pauses delivery; messages stay queued",
        ),
    ]
    assert (await admin.view(NOORD)).state == "paused"


@both_backends
async def test_a_change_over_a_refused_edit_keeps_it_beside_the_file_and_names_its_changes(
    admin: DestinationAdmin, files: Files
) -> None:
    """A refused hand edit with a good change in it (a new port) and a mistake (a misspelt
    key): a pause rewrites the file from the last good definition; the edit's good change
    must not vanish unnamed."""
    edited = files.text(NOORD).replace("port: 2575", "port: 2576\nordring: fifo")
    files.path(NOORD).write_text(edited)
    change = await admin.set_enabled(NOORD, False, actor="anna")
    [notice] = [w for w in change.warnings if "was refused (ordring:" in w]
    assert "dropping the refused edit's changes to ordring, port" in notice
    [copy] = files.path(NOORD).parent.glob(f"{NOORD}.yaml.*.refused")
    assert f"the refused file is kept as {copy}" in notice
    assert copy.read_text() == edited
    assert "port: 2575" in files.text(NOORD)  # the file runs on the last good definition
    rows = {row["id"] for row in await admin.summaries()}
    assert rows == {NOORD, WEST}  # the copy is no destination


async def test_a_key_the_change_sets_as_the_refused_edit_did_is_not_said_dropped(
    admin: DestinationAdmin, files: Files
) -> None:
    """A hand pause refused for a typo elsewhere, then the pause made with the CLI: the
    notice named ``enabled`` among the refused edit's changes it dropped, although the result
    is paused, as the edit wanted. Only what the new definition does not say is dropped."""
    text = files.text(NOORD)
    edited = text.replace("enabled: true", "enabled: false").replace(
        "port: 2575", "port: 2576\nordring: fifo"
    )
    assert edited.count("enabled: false") == 1
    files.path(NOORD).write_text(edited)
    change = await admin.set_enabled(NOORD, False, actor="anna")
    [notice] = [w for w in change.warnings if "was refused (ordring:" in w]
    assert "dropping the refused edit's changes to ordring, port" in notice
    assert "enabled" not in notice.split("dropping")[1].split(";")[0]


async def test_a_section_the_file_gives_in_part_is_not_named_as_changed(
    admin: DestinationAdmin, files: Files
) -> None:
    """lab-west's file gives retry in part (its defaults left out): a refused edit that
    touched only ack_timeout named 'retry' as changed too, sending the operator to look for
    a change nobody made."""
    edited = files.text(WEST).replace("ack_timeout:", "ack_timout:")
    assert edited != files.text(WEST)
    files.path(WEST).write_text(edited)
    change = await admin.update(WEST, ["name=Lab West BV"], actor="anna")
    [notice] = [w for w in change.warnings if "was refused (ack_timout:" in w]
    assert "dropping the refused edit's changes to ack_timout" in notice
    assert "retry" not in notice.split("dropping")[1], notice


async def test_a_value_the_refused_edit_spells_otherwise_is_not_named_as_changed(
    admin: DestinationAdmin, files: Files, store: Store
) -> None:
    """``ack_timeout: 20000ms`` where the definition says ``20s`` means the same: the audit
    entry and the notice named it among the refused edit's changes, as the file's text was
    compared with the definition's normalised values. A value that does not validate (why
    the file is refused) is a change all the same, and so is one that means something else."""
    edited = (
        files.text(WEST)
        .replace("ack_timeout: 20s", "ack_timeout: 20000ms")
        .replace("providers: [lab-west]", 'providers: ["lab-west"]')
        .replace("ordering: rotate", "ordering: 'rotate'")
        .replace("port: 2576", "port: 2577\nconnect_timeout: soon")
    )
    files.path(WEST).write_text(edited)
    await admin.record_file_changes(await admin.catalog())
    [refused] = await store.list_audit(AuditFilter(action=file_audit.REFUSED, target=WEST))
    assert refused.details["keys"] == ["connect_timeout", "port"]
    change = await admin.update(WEST, ["name=Lab West BV"], actor="anna")
    [notice] = [w for w in change.warnings if "was refused (connect_timeout:" in w]
    assert "dropping the refused edit's changes to connect_timeout, port;" in notice


async def test_refused_copies_kept_are_listed_with_their_age_until_deleted(
    admin: DestinationAdmin, files: Files, store: Store, any_site: Site
) -> None:
    """The copies are never deleted by the engine, so the listing names them, oldest first,
    with their age: they pile up unseen otherwise. One of a file no destination has any more
    is named on its own."""
    edited = files.text(NOORD).replace("port: 2575", "port: 2576\nordring: fifo")
    files.path(NOORD).write_text(edited)
    await admin.set_enabled(NOORD, False, actor="anna")
    [copy] = files.directory.glob(f"{NOORD}.yaml.*.refused")
    assert copy.name == f"{NOORD}.yaml.20261127T090000000000Z.refused"
    older = files.directory / f"{NOORD}.yaml.20261120T090000000000Z.refused"
    older.write_text(edited)
    gone = files.directory / "lab-oost.yaml.20261101T120000000000Z.refused"
    gone.write_text("id: lab-oost\n")

    three_days_on = DestinationAdmin(
        store=store,
        settings=Settings(database_url=any_site.url, destinations_dir=files.directory),
        today=lambda: date(2026, 11, 30),
        now=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    )
    rows = {row["id"]: row for row in await three_days_on.summaries()}
    assert rows[NOORD]["refused_copies"] == [
        {"file": older.name, "kept_at": "2026-11-20T09:00:00+00:00", "age_seconds": 10 * 86400},
        {"file": copy.name, "kept_at": "2026-11-27T09:00:00+00:00", "age_seconds": 3 * 86400},
    ]
    assert rows[WEST]["refused_copies"] == []
    catalog = await three_days_on.catalog()
    assert [c.name for c in three_days_on.orphaned_refused_copies(catalog)] == [gone.name]

    for kept in (copy, older, gone):  # what an operator does once the edit is put back
        kept.unlink()
    rows = {row["id"]: row for row in await three_days_on.summaries()}
    assert rows[NOORD]["refused_copies"] == []
    assert three_days_on.orphaned_refused_copies(await three_days_on.catalog()) == []


@both_backends
async def test_rolling_a_broken_file_back_to_its_last_revision_repairs_it(
    admin: DestinationAdmin, files: Files
) -> None:
    original = files.text(WEST)
    files.path(WEST).write_text(original.replace("ack_timeout: 20s   ", "ack_timeout: 20 sec"))
    change = await admin.rollback(WEST, 1, actor="anna")
    assert (change.changed, change.rewrote_refused_file) == (False, str(files.path(WEST)))
    notice = f"{files.path(WEST)} was refused (ack_timeout:"
    assert any(w.startswith(notice) for w in change.warnings)
    assert files.text(WEST) == original
    assert (await admin.view(WEST)).state == "active"
    assert await revisions(admin, WEST) == [1]


@both_backends
async def test_a_broken_file_without_a_recorded_definition_shows_and_refuses_clearly(
    admin: DestinationAdmin, files: Files
) -> None:
    zuid = files.directory / "lab-zuid.yaml"
    zuid.write_text("id: lab-zuid\nname: Lab Zuid\nport: 2590\n")
    [row] = [r for r in await admin.summaries() if r["id"] == "lab-zuid"]
    assert (row["state"], row["name"], row["revision"]) == ("broken", None, None)
    assert row["problem"]["key"] == "host" and row["problem"]["rule"] == "required"
    assert [p["key"] for p in row["problems"]] == ["host", "messages"]
    with pytest.raises(ConfigurationError, match=r"'lab-zuid' is broken and has no good"):
        await admin.update("lab-zuid", ["port=2591"], actor="anna")
    with pytest.raises(ConfigurationError, match=r"lab-zuid\.yaml: host: required"):
        await admin.set_enabled("lab-zuid", False, actor="anna")
    assert zuid.read_text() == "id: lab-zuid\nname: Lab Zuid\nport: 2590\n"
    assert await admin.history("lab-zuid") == []
    # A whole definition needs nothing to start from.
    whole = (await admin.get(WEST))[0].model_dump(mode="json")
    whole.update(id="lab-zuid", name="Lab Zuid", providers=["lab-zuid"])
    assert (await admin.replace("lab-zuid", whole, actor="anna")).revision == 1
    assert (await admin.view("lab-zuid")).state == "active"
    with pytest.raises(UnknownDestination):
        await admin.view("lab-noord")


@both_backends
async def test_a_copy_of_a_file_changes_nothing_and_is_shown_as_what_it_is(
    admin: DestinationAdmin, files: Files
) -> None:
    copy = files.directory / f"{WEST}-backup.yaml"
    copy.write_text(files.text(WEST).replace("port: 2576", "port: 2999"))
    catalog = await admin.catalog()
    assert catalog.destinations[WEST].port == 2576
    assert catalog.sources[WEST] == str(files.path(WEST))
    [error] = catalog.broken[f"{WEST}-backup"].problems
    assert str(error).startswith(f"{copy}: id: 'lab-west' is the destination of ")
    assert str(files.path(WEST)) in str(error)
    assert await admin.record_file_changes(catalog) == 0
    assert await revisions(admin, WEST) == [1]
    await admin.remove(f"{WEST}-backup", actor="anna", reason="a stray copy")
    assert not copy.exists() and files.path(WEST).exists()
    assert set((await admin.catalog()).sources) == {NOORD, WEST}


async def test_a_reload_that_read_the_files_before_a_change_does_not_record_them_afterwards(
    admin: DestinationAdmin, files: Files
) -> None:
    stale = await admin.catalog()  # as an engine's reload reads the directory …
    await admin.update(NOORD, ["port=2582"], actor="anna")  # … another process changes a file …
    assert await admin.record_file_changes(stale) == 0  # … and the reload goes on recording
    assert await revisions(admin, NOORD) == [1, 2]
    assert (await admin.get(NOORD))[0].port == 2582


async def test_a_key_set_twice_is_refused_and_changes_nothing(
    admin: DestinationAdmin, files: Files
) -> None:
    """``--set port=2575 --set port=2576`` wrote the last and said nothing."""
    before = files.text(NOORD)
    with pytest.raises(ConfigurationError, match=r"^--set port: given twice; set each key once$"):
        await admin.update(NOORD, ["port=2575", "host=h.example", "port=2576"], actor="anna")
    assert files.text(NOORD) == before
    assert await revisions(admin, NOORD) == [1]


async def test_who_paused_is_read_from_the_end_of_the_history_a_page_at_a_time(
    admin: DestinationAdmin, store: Store
) -> None:
    """``paused_by`` read every revision at every view of a destination; it reads from the
    newest back to the change that paused it, the same answer."""
    await admin.set_enabled(NOORD, False, actor="anna", reason="HIS upgrade")
    for port in (2901, 2902, 2903):
        await admin.update(NOORD, [f"port={port}"], actor="bert")
    for page in (1, 2, 8):
        read = await store.newest_destination_revisions_while(
            NOORD, lambda r: r.config is not None and not r.config["enabled"], page=page
        )
        assert [r.revision for r in read] == [1, 2, 3, 4, 5]  # back to the enabled one
    paused_by = (await admin.pause_times(NOORD))["paused_by"]
    assert (paused_by["revision"], paused_by["actor"], paused_by["reason"]) == (
        2,
        "anna",
        "HIS upgrade",
    )
    await admin.set_enabled(NOORD, True, actor="anna")
    assert (await admin.pause_times(NOORD))["paused_by"] is None
    only_last = await store.newest_destination_revisions_while(NOORD, lambda r: False)
    assert [r.revision for r in only_last] == [6]
