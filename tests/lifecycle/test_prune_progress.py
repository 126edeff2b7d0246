"""A prune's progress: its total is what its walk visits, so a completed run's bar ends full;
and no bar at all where stderr is not a terminal (a cron mail, a journal, a pipe).

The store tests run on both stores and move time by giving ``prune`` a later ``now``; the CLI
tests run ``integrator`` in process, where stderr is the runner's buffer, not a terminal.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deadletter import ResendRequest, discard, resend
from integrator.lifecycle.prune import prune
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import Store
from tests.cli_in_process import run_cli
from tests.lifecycle.test_prune import ACTOR, RETENTION, SameBytes, stored
from tests.store.factories import T0, StepClock, make_event, make_message

BAR = ("━", "╸", "╺")


async def _every_kind(store: Store) -> dict[str, str]:
    """What a prune meets: an unrouted event (no messages), delivered messages, one with a
    resend still in delivery, an open dead letter, a discarded one."""
    unrouted = make_event()
    assert await store.accept_event(unrouted, [])
    delivered = await stored(store, "delivered")
    await stored(store, "delivered")
    waiting = await stored(store, "delivered")
    [result] = await resend(store, [waiting], ResendRequest("why", "anna"), SameBytes())
    assert result.message is not None  # queued: its original is not looked at
    await stored(store, "dead")
    gone = await stored(store, "dead")
    await discard(store, gone.id, actor="local:anna", reason="sent by fax")
    return {"unrouted": unrouted.id, "delivered": delivered.id, "waiting": waiting.id}


@pytest.mark.parametrize("dry_run", [True, False])
async def test_the_total_is_what_the_walk_visits(store: Store, dry_run: bool) -> None:
    ids = await _every_kind(store)
    now = T0 + timedelta(days=400)
    total = await store.count_past_retention(
        payload_before=RETENTION.cutoff(RETENTION.payload_days, now),
        dead_before=RETENTION.cutoff(RETENTION.dead_letter_days, now),
        rejected_before=RETENTION.cutoff(RETENTION.rejected_days, now),
        unrouted_before=RETENTION.cutoff(RETENTION.unrouted_days, now),
    )
    # Visited: 2 delivered, 2 dead letters (one kept: open), 5 events with messages (two
    # kept: the open dead letter's, and the one whose message waits for its resend), the
    # unrouted event (past its own period). Not: the resent original.
    assert total == 10
    seen: list[tuple[int, int]] = []
    report = await prune(
        store,
        RETENTION,
        now=now,
        actor=ACTOR,
        dry_run=dry_run,
        batch=2,
        progress=lambda done, of: seen.append((done, of)),
    )
    assert seen[-1] == (total, total)
    assert all(of == total for _, of in seen)  # never grew past its total: the count was right
    assert (report.counts["messages"], report.counts["dead_letters"]) == (2, 1)
    assert (report.counts["events"], report.counts["unrouted"]) == (3, 1)
    if dry_run:
        return
    # What the docs say goes went; what they say stays (a message with a resend in delivery)
    # stayed, and a second run finds nothing left to visit but those.
    unrouted = await store.get_event(ids["unrouted"])
    assert unrouted is not None and unrouted.pruned_at == now and unrouted.payload == {}
    delivered = await store.get_message(ids["delivered"])
    assert delivered is not None and delivered.pruned_at == now
    waiting = await store.get_message(ids["waiting"])
    assert waiting is not None and waiting.pruned_at is None
    again = await prune(store, RETENTION, now=now, actor=ACTOR)
    assert again.total == 0


LONG_AGO = datetime.now(UTC) - timedelta(days=200)


async def _fill(url: str) -> None:
    store = await Store.open(url, clock=StepClock(LONG_AGO))
    try:
        assert await store.accept_event(make_event(received_at=LONG_AGO), [])  # unrouted
        for _ in range(3):
            message = make_message()
            assert await store.accept_event(make_event(received_at=LONG_AGO), [message])
            await store.set_status(message.id, "delivered")
    finally:
        await store.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'integrator.db'}",
        "USER": "tester",
        "INTEGRATOR_HTTP_PORT": "1",
    }
    (tmp_path / "var").mkdir()
    resolve_search_key(Settings(database_url=values["INTEGRATOR_DATABASE_URL"]), create=True)
    asyncio.run(_fill(values["INTEGRATOR_DATABASE_URL"]))
    return values


def test_no_bar_where_stderr_is_not_a_terminal(env: dict[str, str], tmp_path: Path) -> None:
    dry = run_cli("prune", "--dry-run", env=env)
    real = run_cli("prune", env=env)
    verify = run_cli("audit", "verify", env=env)
    backup = run_cli("backup", str(tmp_path / "copy.db"), env=env)
    for done, summary in (
        (dry, "would prune (dry run)"),
        (real, "pruned"),
        (verify, "audit log intact"),
        (backup, "backup: "),
    ):
        assert done.returncode == 0, done.stderr
        assert summary in done.stdout  # the summary line is no bar: it stays
        assert not any(mark in done.stderr for mark in BAR), done.stderr
        for label in ("pruning", "verifying", "copying pages"):
            assert label not in done.stderr, done.stderr
    assert json.loads(run_cli("prune", "--json", env=env).stdout)["counts"]["messages"] == 0
