"""Two operators change one destination at the same moment from two processes.

Each contender here is what a second process is: its own thread with its own event loop, its own
``Store`` (its own connections) and its own ``DestinationAdmin`` (so its own lock), on one
store and one destinations directory. A barrier at the file write makes both arrive there
together if they can: before the revision was claimed in the store, both had passed the check by
then and both wrote (the second file over the first, two revisions or a refusal of the store).
Now the second is held at the store until the first has committed, and is refused then (or,
made without an expected revision, made again on top of the first). Those tests fail without
the store's part (``Store.recording_destination_revision``). The last test is two real
``integrator`` processes started together, without a barrier: the wiring, exit code and words.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.config import definition_of, dump_destination, load_destination_file
from integrator.operators import Change, DestinationAdmin, DestinationChanged
from integrator.settings import Settings
from integrator.store import Store
from tests.integrator.support import destination, settings_for
from tests.store.conftest import postgres_site

ROOT = Path(__file__).resolve().parents[2]

BARRIER_SECONDS = 2.0
"""How long the first writer waits at the file for the second: long enough for a second that
can get there to arrive, and the time each race takes when it cannot."""


@dataclass(frozen=True)
class Database:
    url: str
    schema: str | None = None

    async def open(self) -> Store:
        return await Store.open(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path}/store.db")
        return
    async with postgres_site() as site:
        yield Database(site.url, site.schema)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    return settings


def admin_on(store: Store, settings: Settings) -> DestinationAdmin:
    return DestinationAdmin(
        store=store,
        settings=settings,
        today=lambda: date(2026, 11, 27),
        now=lambda: datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
    )


@pytest.fixture
async def noord(database: Database, settings: Settings) -> Path:
    """Destination ``noord`` at revision 1: its file written and recorded."""
    store = await database.open()
    try:
        config = destination("noord", 2575, providers=["ziekenhuis-noord"])
        change = await admin_on(store, settings).add(dump_destination(config), actor="setup")
        assert change.revision == 1
    finally:
        await store.close()
    return settings.destinations_dir / "noord.yaml"


@pytest.fixture
def barrier_at_the_file(noord: Path, monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Every write of ``noord``'s file waits (up to ``BARRIER_SECONDS``) for a second one."""
    barrier = threading.Barrier(2, timeout=BARRIER_SECONDS)
    real = os.replace

    def replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        if Path(target) == noord:
            with suppress(threading.BrokenBarrierError):
                barrier.wait()
        real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return barrier


Contender = Callable[[DestinationAdmin], Awaitable[Change]]


async def race(database: Database, settings: Settings, *changes: Contender) -> list[Any]:
    """Each change made by its own "process" at once; its Change or the exception it raised."""

    def process(change: Contender) -> Any:
        async def run() -> Change:
            store = await database.open()
            try:
                return await change(admin_on(store, settings))
            finally:
                await store.close()

        try:
            return asyncio.run(run())
        except Exception as error:
            return error

    return list(await asyncio.gather(*(asyncio.to_thread(process, c) for c in changes)))


def outcomes(results: list[Any]) -> list[str]:
    """The results, short: ``Change 2`` or the exception's class and text."""
    return [
        f"Change {r.revision}" if isinstance(r, Change) else f"{type(r).__name__}: {r}"
        for r in results
    ]


async def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``integrator ARGS`` as its own process, awaited without holding up the others."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "integrator", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


async def history(database: Database) -> list[Any]:
    store = await database.open()
    try:
        return await store.list_destination_revisions("noord")
    finally:
        await store.close()


async def test_of_two_changes_made_to_the_same_revision_at_once_one_is_refused(
    database: Database, settings: Settings, noord: Path, barrier_at_the_file: threading.Barrier
) -> None:
    results = await race(
        database,
        settings,
        lambda admin: admin.patch("noord", {"port": 2591}, actor="anna", expected_revision=1),
        lambda admin: admin.update(
            "noord", ["name=Noord ZH"], actor="bea", reason="rename", expected_revision=1
        ),
    )
    made = [r for r in results if isinstance(r, Change)]
    refused = [r for r in results if isinstance(r, DestinationChanged)]
    assert (len(made), len(refused)) == (1, 1), outcomes(results)
    winner, loser = made[0], refused[0]
    assert winner.revision == 2
    said = str(loser)
    since = "destination 'noord' changed since revision 1: revision 2 is update by "
    assert said.startswith(since), said
    assert "nothing was saved" in said and "try again with revision 2" in said
    assert (loser.current, loser.exit_code) == (2, 1)

    # The winner's change is on disk and recorded, the loser's nowhere.
    on_disk = definition_of(load_destination_file(noord))
    revisions = await history(database)
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[-1].config == on_disk
    assert winner.config is not None and on_disk == definition_of(winner.config)
    assert (on_disk["port"], on_disk["name"]) in ((2591, "Noord"), (2575, "Noord ZH"))


async def test_a_change_read_while_another_commits_names_that_change_not_a_hand_edit(
    database: Database, settings: Settings, noord: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second change reads the destination after the first has written its file and
    before it has committed its revision: the file then says what no recorded revision does,
    as after an edit by hand. The refusal must wait for the change being recorded and name it
    (revision 2 by anna), not call it an edit by hand."""
    written = threading.Event()
    real = os.replace

    def replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        real(source, target, *args, **kwargs)
        if Path(target) == noord and not written.is_set():
            written.set()
            time.sleep(BARRIER_SECONDS / 2)  # the first change holds its revision meanwhile

    monkeypatch.setattr(os, "replace", replace)

    async def second(admin: DestinationAdmin) -> Change:
        await asyncio.to_thread(written.wait, 10)
        return await admin.update("noord", ["name=Noord ZH"], actor="bea", expected_revision=1)

    results = await race(
        database,
        settings,
        lambda admin: admin.patch("noord", {"port": 2591}, actor="anna", expected_revision=1),
        second,
    )
    assert isinstance(results[0], Change) and results[0].revision == 2, outcomes(results)
    refused = results[1]
    assert isinstance(refused, DestinationChanged), outcomes(results)
    assert refused.latest is not None and refused.latest.actor == "anna", str(refused)
    assert str(refused).startswith(
        "destination 'noord' changed since revision 1: revision 2 is update by anna"
    ), str(refused)
    assert [r.revision for r in await history(database)] == [1, 2]


async def test_two_changes_made_without_a_revision_at_once_both_stay(
    database: Database, settings: Settings, noord: Path, barrier_at_the_file: threading.Barrier
) -> None:
    """Without an expected revision a change is made to whatever is in service: the second is
    made again on top of the first, never over it (the first's port is not lost), and the two
    get revisions 2 and 3, the last one what the file says."""
    results = await race(
        database,
        settings,
        lambda admin: admin.patch("noord", {"port": 2591}, actor="anna"),
        lambda admin: admin.update("noord", ["name=Noord ZH"], actor="bea"),
    )
    assert all(isinstance(r, Change) for r in results), outcomes(results)
    assert sorted(r.revision for r in results) == [2, 3]
    on_disk = definition_of(load_destination_file(noord))
    assert (on_disk["port"], on_disk["name"]) == (2591, "Noord ZH")
    revisions = await history(database)
    assert [r.revision for r in revisions] == [1, 2, 3]
    assert revisions[-1].config == on_disk
    assert {r.actor for r in revisions[1:]} == {"anna", "bea"}


async def test_two_clis_changing_one_destination_at_once_one_exits_1(
    env: dict[str, str],
) -> None:
    """The same as two real ``integrator`` processes, started together: however they meet
    (one refused when it reads, or at the store while the other writes), one changes the
    destination, the other exits 1 with the refusal and writes nothing."""
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "noord.yaml"
    path.write_text(dump_destination(destination("noord", 2575, providers=["ziekenhuis-noord"])))
    first = await cli("destinations", "update", "noord", "--set", "port=2576", env=env)
    assert first.returncode == 0, first.stderr

    both = await asyncio.gather(
        cli(
            "destinations",
            "update",
            "noord",
            "--set",
            "port=2591",
            "--expect-revision",
            "1",
            env=env,
        ),
        cli(
            "destinations",
            "update",
            "noord",
            "--set",
            "name=Noord ZH",
            "--expect-revision",
            "1",
            env=env,
        ),
    )
    assert sorted(p.returncode for p in both) == [0, 1], [p.stderr for p in both]
    [refused] = [p for p in both if p.returncode == 1]
    said = " ".join(refused.stderr.split())
    assert "changed since revision 1: revision 2 is update by local:" in said, said
    assert "nothing was saved" in said and "try again with revision 2" in said

    store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
    try:
        revisions = await store.list_destination_revisions("noord")
    finally:
        await store.close()
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[-1].config == definition_of(load_destination_file(path))
