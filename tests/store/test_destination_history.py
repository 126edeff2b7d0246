"""Destination revisions: numbered per destination, whole definitions kept, removal recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrator.store import Conflict, RevisionTaken, Store
from tests.store.conftest import Site


async def record(
    store: Store,
    destination_id: str,
    after: int,
    config: dict[str, Any] | None,
    *,
    actor: str = "anna",
    action: str = "update",
    reason: str | None = None,
) -> int:
    async with store.recording_destination_revision(
        destination_id,
        after=after,
        actor=actor,
        action=action,
        config=config,
        diff="~",
        reason=reason,
    ) as number:
        return number


async def test_revisions_are_numbered_per_destination_and_kept_whole(store: Store) -> None:
    first = await record(store, "noord", 0, {"id": "noord", "port": 2575}, action="add")
    other = await record(store, "west", 0, {"id": "west"}, action="add")
    second = await record(
        store, "noord", 1, {"id": "noord", "port": 2576}, actor="bram", reason="new port"
    )
    removed = await record(store, "noord", 2, None, actor="bram", action="remove")
    assert (first, other, second, removed) == (1, 1, 2, 3)
    assert await store.last_destination_revision("noord") == 3
    assert await store.last_destination_revision("oost") == 0
    history = await store.list_destination_revisions("noord")
    assert [(r.revision, r.actor, r.action) for r in history] == [
        (1, "anna", "add"),
        (2, "bram", "update"),
        (3, "bram", "remove"),
    ]
    assert history[1].config == {"id": "noord", "port": 2576}
    assert history[1].reason == "new port"
    assert history[2].config is None
    fetched = await store.get_destination_revision("noord", 1)
    assert fetched is not None and fetched.config == {"id": "noord", "port": 2575}
    assert await store.get_destination_revision("noord", 9) is None


async def test_the_last_revisions_of_many_destinations_in_one_read(store: Store) -> None:
    """``last_destination_revisions``: each one's last revision as its history ends, also one
    that removed it; none for a destination never recorded. What reading the catalog asks."""
    assert await store.last_destination_revisions([]) == {}
    await record(store, "noord", 0, {"id": "noord", "port": 1}, action="add")
    await record(store, "noord", 1, {"id": "noord", "port": 2})
    await record(store, "west", 0, {"id": "west"}, action="add")
    await record(store, "west", 1, None, action="remove")
    await record(store, "zuid", 0, {"id": "zuid"}, action="add")  # not asked for
    found = await store.last_destination_revisions(["noord", "west", "oost"])
    assert set(found) == {"noord", "west"}
    for destination_id, last in found.items():
        assert last == (await store.list_destination_revisions(destination_id))[-1]
    assert found["noord"].config == {"id": "noord", "port": 2} and found["west"].config is None


async def test_the_clusters_of_destinations_out_of_service_from_their_last_definition(
    store: Store,
) -> None:
    """``last_clusters_outside``: for every destination with a history and no definition in
    service, the cluster of its last recorded definition (its messages lie there); in
    service ones are not read. What ``Catalog.removed`` holds."""
    assert await store.last_clusters_outside([]) == {}
    await record(store, "oost", 0, {"id": "oost", "cluster": "LAB"}, action="add")
    await record(store, "oost", 1, {"id": "oost", "cluster": "CARD"})  # moved, then removed
    await record(store, "oost", 2, None, action="remove")
    await record(store, "west", 0, {"id": "west"}, action="add")  # in no cluster
    await record(store, "west", 1, None, action="remove")
    await record(store, "noord", 0, {"id": "noord", "cluster": "CARD"}, action="add")
    # A file deleted by hand, not recorded yet: its last definition says it all the same.
    await record(store, "zuid", 0, {"id": "zuid", "cluster": "LAB"}, action="add")
    found = await store.last_clusters_outside(["noord"])
    assert found == {"oost": "CARD", "west": None, "zuid": "LAB"}
    assert await store.last_clusters_outside(["noord", "oost", "west", "zuid"]) == {}


async def test_a_change_made_to_a_revision_that_is_not_the_last_records_nothing(
    store: Store,
) -> None:
    await record(store, "noord", 0, {"id": "noord", "port": 1})
    await record(store, "noord", 1, {"id": "noord", "port": 2})
    for after in (0, 1, 3):  # taken, taken, and ahead of the history (no revision 3)
        with pytest.raises(RevisionTaken) as refused:
            await record(store, "noord", after, {"id": "noord", "port": 9})
        assert refused.value.revision == after + 1
        assert isinstance(refused.value, Conflict)
    assert [r.revision for r in await store.list_destination_revisions("noord")] == [1, 2]


async def test_a_recording_whose_file_is_not_written_records_nothing(store: Store) -> None:
    """The caller writes the file inside the block: if that fails, no revision says it did;
    ``keep=False`` (a refused file rewritten, no new definition) records nothing either."""
    with pytest.raises(OSError, match="disk full"):
        async with store.recording_destination_revision(
            "noord", after=0, actor="anna", action="add", config={"id": "noord"}, diff="+"
        ):
            raise OSError("disk full")
    async with store.recording_destination_revision(
        "noord", after=0, actor="anna", action="update", config={"id": "noord"}, diff="", keep=False
    ) as number:
        assert number == 1
    assert await store.list_destination_revisions("noord") == []
    assert await record(store, "noord", 0, {"id": "noord"}) == 1


async def test_of_two_stores_recording_after_the_same_revision_one_is_refused(
    site: Site, store: Store
) -> None:
    """Two processes: the second waits at its insert until the first has committed (while the
    first writes its file), then fails; it never records a revision beside the first's."""
    await record(store, "noord", 0, {"id": "noord", "port": 1})
    other = await site.open()
    try:
        async with store.recording_destination_revision(
            "noord", after=1, actor="anna", action="update", config={"id": "noord"}, diff="~"
        ) as number:
            assert number == 2
            second = asyncio.create_task(record(other, "noord", 1, {"id": "noord", "port": 3}))
            await asyncio.sleep(0.5)  # the file is being written: the second one waits
            assert not second.done()
        with pytest.raises(RevisionTaken):
            await second
        history = await other.list_destination_revisions("noord")
        assert [(r.revision, r.config) for r in history] == [
            (1, {"id": "noord", "port": 1}),
            (2, {"id": "noord"}),
        ]
    finally:
        await other.close()


async def test_a_file_recorded_while_a_change_is_being_recorded_is_recorded_once(
    site: Site, store: Store
) -> None:
    """An engine records a file that another process's change has written but not committed
    yet: it waits at its insert and loses on the index (``Conflict``, which the engine skips,
    having nothing to record: the change's revision is the file)."""
    await record(store, "noord", 0, {"id": "noord", "port": 1})
    engine = await site.open()
    try:
        async with store.recording_destination_revision(
            "noord", after=1, actor="anna", action="update", config={"id": "noord"}, diff="~"
        ):
            recording = asyncio.create_task(
                engine.add_destination_revision_if_changed(
                    "noord", actor="file", action="file", config={"id": "noord"}, diff="~"
                )
            )
            await asyncio.sleep(0.5)
            assert not recording.done()
        with pytest.raises(Conflict):
            await recording
        history = await engine.list_destination_revisions("noord")
        assert [(r.revision, r.actor) for r in history] == [(1, "anna"), (2, "anna")]
    finally:
        await engine.close()


async def test_recording_an_unchanged_definition_adds_nothing(store: Store) -> None:
    first = await store.add_destination_revision_if_changed(
        "noord", actor="file", action="file", config={"id": "noord", "port": 1}, diff="+"
    )
    same = await store.add_destination_revision_if_changed(
        "noord", actor="file", action="file", config={"id": "noord", "port": 1}, diff="+"
    )
    changed = await store.add_destination_revision_if_changed(
        "noord", actor="file", action="file", config={"id": "noord", "port": 2}, diff="~"
    )
    assert (first, same, changed) == (1, None, 2)
    assert len(await store.list_destination_revisions("noord")) == 2


async def test_the_providers_every_revision_names_a_removed_destination_s_too(store: Store) -> None:
    """What the unrouted-events metric may show as labels: ids operators wrote, kept after the
    destination is gone; the count tells a reader whether to read them again."""
    assert await store.count_destination_revisions() == 0
    assert await store.providers_in_destination_history() == frozenset()
    await record(store, "noord", 0, {"id": "noord", "providers": ["zh-noord"]}, action="add")
    await record(store, "noord", 1, {"id": "noord", "providers": ["zh-noord", "Lab Noord"]})
    await record(store, "west", 0, {"id": "west", "providers": ["lab-west"]}, action="add")
    await record(store, "west", 1, None, action="remove")
    assert await store.count_destination_revisions() == 4
    assert await store.providers_in_destination_history() == {"zh-noord", "Lab Noord", "lab-west"}
