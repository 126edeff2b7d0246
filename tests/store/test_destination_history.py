"""Destination revisions: numbered per destination, whole definitions kept, removal recorded."""

from __future__ import annotations

from integrator.store import Store


async def test_revisions_are_numbered_per_destination_and_kept_whole(store: Store) -> None:
    first = await store.add_destination_revision(
        "noord", actor="anna", action="add", config={"id": "noord", "port": 2575}, diff="+port"
    )
    other = await store.add_destination_revision(
        "west", actor="anna", action="add", config={"id": "west"}, diff="+"
    )
    second = await store.add_destination_revision(
        "noord",
        actor="bram",
        action="update",
        config={"id": "noord", "port": 2576},
        diff="-port: 2575\n+port: 2576",
        reason="new port",
    )
    removed = await store.add_destination_revision(
        "noord", actor="bram", action="remove", config=None, diff="(removed)"
    )
    assert (first, other, second, removed) == (1, 1, 2, 3)
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
