"""Resend jobs outlive their engine: read after a restart, an unfinished one as interrupted."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import integrator.jobs
from deadletter import ResendRequest, discard, discard_each
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.jobs import STALE_AFTER, Job, JobRegistry
from integrator.resending import resend_in_engine
from integrator.store import EnginePresence, NewResend, Store
from integrator.store.presence import pid_namespace
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.services import scratch_database
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message, new_id

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def started(tmp_path: Path, receiver: MllpReceiver) -> Engine:
    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    catalog = build_catalog([(f"{config.id}.yaml", config)], today=NOW.date())
    engine = Engine(settings_for(tmp_path), catalog=catalog, clock=ManualClock(NOW))
    await engine.start()
    return engine


async def test_a_finished_job_is_read_after_a_restart(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await started(tmp_path, receiver)
    try:
        await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        async with api_client(engine) as client:
            answer = await client.post(
                "/api/v1/resend",
                json={"reason": "GP called", "filter": {"zd_number": "ZD100000001"}},
            )
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]
            await engine.jobs.wait()
            before = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        assert before["state"] == "done" and before["done"] == before["total"] == 1
    finally:
        await engine.stop()

    engine = await started(tmp_path, receiver)
    try:
        async with api_client(engine) as client:
            after = await client.get(f"/api/v1/jobs/{job_id}")
        assert after.status_code == 200
        assert after.json() == before
    finally:
        await engine.stop()


async def test_a_job_cut_short_by_a_stop_reads_as_interrupted(
    tmp_path: Path, receiver: MllpReceiver
) -> None:
    engine = await started(tmp_path, receiver)
    halfway = asyncio.Event()

    async def slow(job: Job) -> list[dict[str, Any]]:
        job.done = 3
        halfway.set()
        await asyncio.Event().wait()  # never ends by itself
        return []

    try:
        job = await engine.jobs.start("resend", 10, slow)
        await halfway.wait()
    finally:
        await engine.stop()

    engine = await started(tmp_path, receiver)
    try:
        async with api_client(engine) as client:
            answer = await client.get(f"/api/v1/jobs/{job.id}")
        assert answer.status_code == 200
        read = answer.json()
        assert read["state"] == "interrupted" and read["done"] == 3 and read["total"] == 10
        assert "stopped" in read["error"]
    finally:
        await engine.stop()


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("resend", "the resends it made stay queued"),
        ("discard", "the dead letters it discarded stay discarded"),
        ("route", "the messages it made stay queued"),
    ],
)
async def test_a_job_of_an_engine_that_died_is_marked_at_the_next_start(
    site: Site, kind: str, says: str
) -> None:
    """No stop ran: the first store is left as a crashed engine leaves it. The job says what
    its kind's work left behind, read before the mark and after it alike."""
    clock = ManualClock(NOW)
    crashed_store = await site.open(clock.now)
    crashed = JobRegistry(lambda: crashed_store, clock)
    never = asyncio.Event()

    async def hangs(job: Job) -> list[dict[str, Any]]:
        await never.wait()
        return []

    job = await crashed.start(kind, 5, hangs)
    restarted_store = await site.open(clock.now)
    try:
        restarted = JobRegistry(lambda: restarted_store, clock)
        single = site.backend == "sqlite"
        if not single:
            # Another engine's job runs on while its heartbeat is fresh.
            assert await restarted.recover(single_engine=False) == 0
            found = await restarted.get(job.id)
            assert found is not None and found.state == "running"
            clock.advance(STALE_AFTER + timedelta(seconds=1))
            stale = await restarted.get(job.id)
            assert stale is not None and stale.state == "interrupted"
            assert stale.error is not None and says in stale.error
        assert await restarted.recover(single_engine=single) == 1
        found = await restarted.get(job.id)
        assert found is not None and found.state == "interrupted" and found.done == 0
        assert found.total == 5 and found.kind == kind
        assert found.error is not None and says in found.error
    finally:
        never.set()
        await crashed.wait()
        await crashed_store.close()
        await restarted_store.close()


async def test_an_unknown_job_is_404(tmp_path: Path, receiver: MllpReceiver) -> None:
    engine = await started(tmp_path, receiver)
    try:
        async with api_client(engine) as client:
            answer = await client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000")
        assert answer.status_code == 404 and answer.json()["detail"] == "no job with that id"
    finally:
        await engine.stop()


async def test_a_running_jobs_progress_is_in_the_store_for_other_engines(site: Site) -> None:
    clock = ManualClock(NOW)
    own_store, other_store = await site.open(clock.now), await site.open(clock.now)
    registry = JobRegistry(lambda: own_store, clock)
    other = JobRegistry(lambda: other_store, clock)
    release = asyncio.Event()

    async def two_of_four(job: Job) -> list[dict[str, Any]]:
        job.done = 2
        await release.wait()
        job.done = 4
        return [{"outcome": "resent"}]

    try:
        job = await registry.start("resend", 4, two_of_four, clusters=frozenset({"noord", None}))
        seen = await other.get(job.id)
        assert seen is not None and seen.state == "running" and seen.total == 4
        for _ in range(100):  # the progress is written within a second or so
            seen = await other.get(job.id)
            assert seen is not None
            if seen.done == 2:
                break
            await asyncio.sleep(0.05)
        assert seen.done == 2 and seen.state == "running"
        assert seen.clusters == frozenset({"noord", None})
        release.set()
        await registry.wait()
        seen = await other.get(job.id)
        assert seen is not None and seen.state == "done" and seen.done == 4
        assert seen.results == [{"outcome": "resent"}]
    finally:
        release.set()
        await registry.wait()
        await own_store.close()
        await other_store.close()


async def test_a_dead_engines_resend_job_reads_with_the_resends_it_made(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Killed before its progress was written (every ``PROGRESS_EVERY`` seconds): another
    engine reads the stale job as interrupted with ``done`` the resends it committed, not the
    0 of its last progress row."""
    monkeypatch.setattr(integrator.jobs, "PROGRESS_EVERY", 3600.0)  # killed before the beat
    engine = await started(tmp_path, receiver)
    never = asyncio.Event()
    made = asyncio.Event()
    try:
        await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        [original] = await engine.store.list_messages()
        dying = JobRegistry(lambda: engine.store, engine.clock)

        async def dies_halfway(job: Job) -> list[dict[str, Any]]:
            request = ResendRequest(reason="GP called", actor="anna", job_id=job.id)
            await resend_in_engine(engine, [original] * 3, request)
            made.set()
            await never.wait()  # as good as killed: nothing more is written
            return []

        job = await dying.start("resend", 7, dies_halfway)
        await made.wait()
        assert isinstance(engine.clock, ManualClock)
        engine.clock.advance(STALE_AFTER + timedelta(seconds=1))
        other = JobRegistry(lambda: engine.store, engine.clock)
        seen = await other.get(job.id)
        assert seen is not None and seen.state == "interrupted"
        assert seen.done == 3 and seen.total == 7
        assert await other.recover(single_engine=False) == 1
        marked = await other.get(job.id)
        assert marked is not None and (marked.state, marked.done) == ("interrupted", 3)
        never.set()
        await dying.wait()
    finally:
        never.set()
        await engine.stop()


async def test_a_failed_jobs_error_says_no_foreign_exceptions_text() -> None:
    """A foreign error's text may quote what it worked on (a payload's value, a driver's
    parameters): the job, read over the API, says its type only; the engine's own errors,
    which name fields and rules, are said in full."""
    from integrator.errors import PermanentError

    registry = JobRegistry()

    async def foreign(job: Job) -> list[dict[str, Any]]:
        raise ValueError("invalid literal for int() with base 10: '999990019 Jansen'")

    async def own(job: Job) -> list[dict[str, Any]]:
        raise PermanentError("to: no configured destination has this id")

    failed = await registry.start("resend", 1, foreign)
    refused = await registry.start("resend", 1, own)
    await registry.wait()
    assert failed.state == "failed" and failed.error == "internal error (ValueError)"
    assert refused.error == "PermanentError: to: no configured destination has this id"


def _presence(engine_id: str, pid: int) -> EnginePresence:
    """A fresh presence row of an engine on this machine with ``pid``."""
    now = datetime.now(UTC)
    return EnginePresence(
        engine_id, socket.gethostname(), pid, None, now, now, pid_namespace(), "", "embedded"
    )


def _ended_pid() -> int:
    """The pid of a process that ended and was reaped: no process has it."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


async def _resends(store: Store, job_id: str, count: int) -> None:
    """``count`` resends committed by job ``job_id`` (each one a queued message)."""
    original = make_message()
    assert await store.accept_event(make_event(), [original])
    record = await store.get_message(original.id)
    assert record is not None
    copies = [
        NewResend(
            record,
            make_message(id=new_id(), resend_of=record.id),
            "remap",
            "anna",
            "GP called",
            job_id=job_id,
        )
        for _ in range(count)
    ]
    await store.add_resends(copies)


async def test_a_job_whose_engine_is_gone_is_interrupted_at_once_and_a_live_ones_runs_on(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Engines sharing a PostgreSQL store through one broker: a job whose engine is gone
    (killed here, its process no more; or its presence row removed) reads, and at the next
    start is marked, interrupted at once, ``done`` the resends it committed, not its lagging
    progress; a job of an engine that runs, and one whose heartbeat is fresh but which names
    no engine (from before 0025), run on. They used to read ``running`` for 5 minutes."""
    monkeypatch.setattr(integrator.jobs, "PROGRESS_EVERY", 3600.0)  # killed before the beat
    clock = ManualClock(NOW)
    store = await site.open(clock.now)
    await store.register_engine(_presence("live", os.getpid()))
    await store.register_engine(_presence("killed", _ended_pid()))
    never = asyncio.Event()

    async def hangs(job: Job) -> list[dict[str, Any]]:
        await never.wait()
        return []

    def engine(engine_id: str | None) -> JobRegistry:
        return JobRegistry(lambda: store, clock, lambda: engine_id)

    registries = {name: engine(name) for name in ("live", "killed", "removed")}
    registries["unnamed"] = engine(None)
    started = {name: await r.start("resend", 9, hangs) for name, r in registries.items()}
    await _resends(store, started["killed"].id, 4)
    try:
        restarted = engine("restarted")

        async def read(name: str) -> tuple[str, int]:
            job = await restarted.get(started[name].id)
            assert job is not None
            return job.state, job.done

        assert await read("killed") == ("interrupted", 4)
        assert await read("removed") == ("interrupted", 0)
        assert await read("live") == ("running", 0)
        assert await read("unnamed") == ("running", 0)
        assert await restarted.recover(single_engine=False) == 2
        for name in ("killed", "removed"):
            row = await store.get_job(started[name].id)
            assert row is not None and row.state == "interrupted" and row.engine_id == name
        row = await store.get_job(started["killed"].id)
        assert row is not None and row.done == 4
        for name in ("live", "unnamed"):
            row = await store.get_job(started[name].id)
            assert row is not None and row.state == "running"
        assert await read("live") == ("running", 0)
    finally:
        never.set()
        for registry in registries.values():
            await registry.wait()
        await store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Where an engine's store is: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    async with scratch_database() as (_, url):
        yield url


async def test_an_embedded_engine_restarted_after_a_kill_reads_its_job_interrupted_at_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill -9`` of an engine on the embedded transport, and a restart at once: its resend
    job reads ``interrupted`` with the resends it committed, on PostgreSQL as on SQLite. The
    embedded transport admits no other engine on its store, so every job left running is a
    dead engine's: also one that names no engine (from before 0025). On PostgreSQL both read
    ``running`` with their lagging progress until their heartbeat was 5 minutes old."""
    monkeypatch.setattr(integrator.jobs, "PROGRESS_EVERY", 3600.0)  # killed before the beat
    clock = ManualClock(NOW)
    settings = settings_for(
        tmp_path, database_url=database_url, search_key="the-search-key-of-this-test"
    )
    dying = await Store.open(database_url, clock=clock.now)
    never = asyncio.Event()

    async def hangs(job: Job) -> list[dict[str, Any]]:
        await never.wait()
        return []

    registries: list[JobRegistry] = []

    async def job_of(engine_id: Callable[[], str | None]) -> Job:
        registry = JobRegistry(lambda: dying, clock, engine_id)
        registries.append(registry)
        return await registry.start("resend", 9, hangs)

    engine = Engine(settings, catalog=build_catalog([], today=NOW.date()), clock=clock)
    try:
        await dying.register_engine(_presence("killed", _ended_pid()))
        killed = await job_of(lambda: "killed")
        unnamed = await job_of(lambda: None)
        await _resends(dying, killed.id, 3)
        await engine.start()
        async with api_client(engine) as client:
            read = {
                job.id: (await client.get(f"/api/v1/jobs/{job.id}")).json()
                for job in (killed, unnamed)
            }
        assert (read[killed.id]["state"], read[killed.id]["done"]) == ("interrupted", 3)
        assert (read[unnamed.id]["state"], read[unnamed.id]["done"]) == ("interrupted", 0)
        own = await engine.jobs.start("resend", 1, hangs)
        row = await engine.store.get_job(own.id)
        fresh = await engine.store.fresh_engines(datetime.now(UTC) - timedelta(minutes=1))
        [itself] = [e for e in fresh if e.pid == os.getpid()]
        assert row is not None and row.engine_id == itself.id
    finally:
        never.set()
        await engine.stop()
        for registry in registries:
            await registry.wait()
        await dying.close()


async def _dead_letter(store: Store) -> str:
    message = make_message()
    assert await store.accept_event(make_event(), [message])
    await store.set_status(message.id, "dead", last_error="AR")
    return message.id


async def test_a_dead_engines_discard_job_reads_with_every_dead_letter_it_discarded(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while ``POST /api/v1/deadletters/discard`` ran, a discard job read ``done``
    from its last progress row, written every second: 355 where it had discarded 467. Its
    ``done`` now counts the dead letters it discarded, by their audit entries naming it, as a
    resend job's counts its resends; one whose progress says more (it counts the ones it
    skipped too) keeps that: ``done`` never goes backwards."""
    monkeypatch.setattr(integrator.jobs, "PROGRESS_EVERY", 3600.0)  # killed before the beat
    clock = ManualClock(NOW)
    store = await site.open(clock.now)
    letters = [await _dead_letter(store) for _ in range(6)]
    await discard(store, letters[5], actor="bob", reason="by hand")  # no job's
    never = asyncio.Event()
    dying = JobRegistry(lambda: store, clock)
    reached: list[asyncio.Event] = []

    def discarding(ids: list[str]) -> Callable[[Job], Any]:
        reached.append(asyncio.Event())
        there = reached[-1]

        async def work(job: Job) -> list[dict[str, Any]]:
            def progress(done: int) -> None:
                job.done = done

            await discard_each(
                store, ids, actor="anna", reason="faxed", progress=progress, job_id=job.id
            )
            there.set()
            await never.wait()  # as good as killed: nothing more is written
            return []

        return work

    try:
        three = await dying.start("discard", 5, discarding(letters[:3]))
        await reached[0].wait()
        # Two that were discarded already: skipped, which its progress row counts.
        skipped = await dying.start("discard", 4, discarding(letters[:2]))
        await reached[1].wait()
        await store.job_progress(skipped.id, done=2, now=clock.now())
        clock.advance(STALE_AFTER + timedelta(seconds=1))
        other = JobRegistry(lambda: store, clock)
        for job, done in ((three, 3), (skipped, 2)):
            seen = await other.get(job.id)
            assert seen is not None and (seen.state, seen.done) == ("interrupted", done)
        assert await other.recover(single_engine=site.backend == "sqlite") == 2
        for job, done in ((three, 3), (skipped, 2)):
            row = await store.get_job(job.id)
            assert row is not None and (row.state, row.done) == ("interrupted", done)
    finally:
        never.set()
        await dying.wait()
        await store.close()


async def test_a_resend_job_stopped_after_a_committed_chunk_says_how_far_it_got(
    tmp_path: Path, receiver: MllpReceiver
) -> None:
    """Its progress moves only after a chunk is handed to delivery and its starter asked again:
    stopped in between, the job read "done 0" with 200 resends committed, and a person who
    believed it resent them all again."""
    engine = await started(tmp_path, receiver)
    ids = []
    for _ in range(250):
        message = make_message()
        assert await engine.store.accept_event(make_event(), [message])
        await engine.store.set_status(message.id, "dead")
        ids.append(message.id)
    asked = asyncio.Event()

    async def held(identity: Any) -> Any:  # the starter asked again after the first chunk
        asked.set()
        await asyncio.Event().wait()

    try:
        engine.access.current = held  # type: ignore[method-assign]
        async with api_client(engine) as client:
            answer = await client.post(
                "/api/v1/resend", json={"message_ids": ids, "reason": "GP called"}
            )
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]
            await asyncio.wait_for(asked.wait(), 20)
    finally:
        await engine.stop()

    engine = await started(tmp_path, receiver)
    try:
        made = await engine.store.job_resends(job_id)
        async with api_client(engine) as client:
            read = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        assert made > 0
        assert (read["state"], read["done"], read["total"]) == ("interrupted", made, 250)
    finally:
        await engine.stop()
