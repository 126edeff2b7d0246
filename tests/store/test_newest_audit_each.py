"""``Store.newest_audit_about_each``: what ``newest_audit_about`` says of each target, for
many targets in one statement (an engine's start and every reload of the destinations
directory ask it of every destination), on both backends."""

from __future__ import annotations

from integrator import file_audit
from integrator.store import Store

STATE = file_audit.STATE_ACTIONS


async def test_each_target_gets_what_asking_it_alone_gets(store: Store) -> None:
    await store.add_audit("file", "destination.update", "noord", details={"file": "noord.yaml"})
    await store.add_audit("file", file_audit.REFUSED, "noord", details={"file": "noord.yaml"})
    await store.add_audit("bert", "message.resend", "noord")  # not a state entry
    await store.add_audit("file", "destination.add", "zuid")
    await store.add_audit("file", file_audit.RESTORED, "zuid", details={"file": "zuid.yaml"})
    # West's newest state entry is the refusal of another file claiming its id, which its
    # own check passes over: the entry before it is the answer.
    await store.add_audit("file", "destination.add", "west")
    await store.add_audit("file", file_audit.REFUSED, "west", details={"file": "copy.yaml"})
    targets = ["noord", "zuid", "west", "oost"]  # oost: nothing about it

    each = await store.newest_audit_about_each(targets, STATE, concerning=file_audit.own_file)
    alone = {
        target: await store.newest_audit_about(target, STATE, file_audit.own_file(target))
        for target in targets
    }
    assert each == {target: found for target, found in alone.items() if found is not None}
    assert [each[t].action for t in ("noord", "zuid", "west")] == [
        file_audit.REFUSED,
        file_audit.RESTORED,
        "destination.add",
    ]
    assert await store.newest_audit_about_each([], STATE) == {}
