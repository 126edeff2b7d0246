"""The referrals retention emptied before any destination got them can be listed
(``events list --never-routed``), so their ZD numbers can be asked of upstream again: before,
such an event listed as any pruned one, and only ``events show`` said what had become of it."""

from __future__ import annotations

import asyncio
import csv
import io
import json

from integrator.store import Store
from tests.lifecycle.test_cli import LONG_AGO, cli, env, fill
from tests.store.factories import make_event

__all__ = ["env"]


async def test_events_pruned_unrouted_are_listed_as_never_routed(env: dict[str, str]) -> None:
    await fill(env, 1, at=LONG_AGO)  # a delivered message, pruned too: routed, not listed
    store = await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=lambda: LONG_AGO)
    try:
        lost = make_event(received_at=LONG_AGO, provider_id="nobody-serves-it")
        waiting = make_event(provider_id="nobody-serves-it")
        assert await store.accept_event(lost, [])
        assert await store.accept_event(waiting, [])
    finally:
        await store.close()
    pruned = await asyncio.to_thread(cli, env, "prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["counts"]["unrouted"] == 1

    listed = await asyncio.to_thread(cli, env, "events", "list", "--never-routed", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["zd_number"], r["messages"], r["unrouted"]) for r in rows] == [
        (lost.zd_number, 0, False)
    ]
    assert rows[0]["pruned_at"] is not None
    unrouted = await asyncio.to_thread(cli, env, "events", "list", "--unrouted", "--json")
    assert [r["id"] for r in json.loads(unrouted.stdout)] == [waiting.id]
    every = await asyncio.to_thread(cli, env, "events", "list", "--json")
    kept = {r["id"]: r["pruned_at"] for r in json.loads(every.stdout)}
    assert kept[waiting.id] is None and kept[lost.id] is not None
    table = await asyncio.to_thread(cli, env, "events", "list", "--never-routed")
    assert "none: pruned" in table.stdout

    exported = await asyncio.to_thread(cli, env, "events", "list", "--never-routed", "--csv")
    assert exported.exit_code == 0, exported.output
    found = list(csv.reader(io.StringIO(exported.stdout)))
    assert found[0][-1] == "pruned_at"
    assert [(r[1], r[-1] != "") for r in found[1:]] == [(lost.zd_number, True)]
    messages = await asyncio.to_thread(cli, env, "messages", "list", "--csv")
    header, *message_rows = list(csv.reader(io.StringIO(messages.stdout)))
    assert header[-1] == "pruned_at" and [r[-1] != "" for r in message_rows] == [True]

    both = await asyncio.to_thread(cli, env, "events", "list", "--never-routed", "--unrouted")
    assert both.exit_code == 2
    assert "--unrouted and --never-routed" in both.stderr
