"""The API while its store fails: 503 (not 500), a log line that says why, and ``/readyz`` not
ready while writes fail, over a real loopback port as ``integrator run`` serves it.

Three real failures: a SQLite store that is full (SQLite's ``max_page_count`` on the store's own
writer connection: a real SQLITE_FULL without a small disk), a PostgreSQL database dropped
while the engine runs and made again, empty (the store's tables are gone: 42P01), and one made
read-only under it (25006), as after a failover that leaves the engine on a demoted primary.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.http import create_app
from integrator.runner import bind_http
from tests.http.conftest import BSN
from tests.http.support import ROOT, bearer, engine_with_noord, token_for
from tests.services import postgres_admin_sql, scratch_database
from tests.store.test_store_causes import fill_up

SEARCH_KEY = "a-test-search-key-of-enough-length"


@asynccontextmanager
async def serving(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The engine's API on a loopback port, uvicorn as ``integrator run`` serves it; a client
    with a token holding every role (made while the store works)."""
    listener = bind_http("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), log_level="warning", access_log=False, lifespan="off")
    )
    # The socket listens already: a request waits in its backlog until uvicorn accepts.
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        token = await token_for(engine)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=bearer(token), timeout=30
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        listener.close()


@asynccontextmanager
async def engine_on(tmp_path: Path, database_url: str) -> AsyncIterator[Engine]:
    async with (
        MllpReceiver() as receiver,
        engine_with_noord(tmp_path, database_url, receiver.port, search_key=SEARCH_KEY) as engine,
    ):
        yield engine


def failures(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "http request failed"]


def new_event(referral_data: dict[str, Any]) -> dict[str, Any]:
    return {**referral_data, "event_id": str(uuid.uuid4())}


async def test_a_full_sqlite_store_answers_503_and_is_not_ready_until_a_write_works(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with (
        engine_on(tmp_path, f"sqlite:///{tmp_path}/store.db") as engine,
        serving(engine) as api,
    ):
        assert (await api.get("/readyz")).status_code == 200
        # The daily prune, due at the start, writes through a connection of its own: one that
        # landed after the refused write below said the writes work again (a race that a
        # faster request made likely).
        await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
        await fill_up(engine.store, full=True)
        # As on a disk that fills up: a write that still fits in a page the file has works.
        for _ in range(20):
            with capture_logs() as logs:
                answer = await api.post("/api/v1/events", json=new_event(referral_data))
            if answer.status_code != 202:
                break
        assert answer.status_code == 503, answer.text
        assert answer.json() == {"detail": "the store is unavailable; try again later"}
        [line] = failures(logs)
        assert line["error_type"] == "StoreUnavailable"
        assert "SQLITE_FULL" in line["error"] and "the disk is full" in line["error"]
        assert BSN not in str(logs)

        ready = await api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] == "writes failing (SQLITE_FULL)"
        scraped = await api.get("/metrics")
        assert "integrator_store_up 0.0" in scraped.text

        await fill_up(engine.store, full=False)
        with capture_logs() as logs:
            assert (await api.post("/api/v1/events", json=new_event(referral_data))).is_success
            assert (await api.post("/api/v1/events", json=new_event(referral_data))).is_success
        assert len([e for e in logs if e["event"] == "store writes work again"]) == 1
        assert (await api.get("/readyz")).json()["checks"]["store"] == "ok"
        assert "integrator_store_up 1.0" in (await api.get("/metrics")).text


@pytest.mark.postgres
async def test_a_database_dropped_and_made_again_answers_503_naming_the_cause(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with (
        scratch_database() as (name, url),
        engine_on(tmp_path, url) as engine,
        serving(engine) as api,
    ):
        await postgres_admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        with capture_logs() as logs:
            gone = await api.post("/api/v1/events", json=new_event(referral_data))
            scraped = await api.get("/metrics")
        assert gone.status_code == 503, gone.text
        assert scraped.status_code == 503, scraped.text
        assert all("3D000" in line["error"] for line in failures(logs)), logs
        assert f"the database '{name}' does not exist" in failures(logs)[0]["error"]

        # Empty: the store's tables are gone.
        await postgres_admin_sql(f'CREATE DATABASE "{name}"')
        with capture_logs() as logs:
            empty = await api.post("/api/v1/events", json=new_event(referral_data))
        assert empty.status_code == 503, empty.text
        [line] = failures(logs)
        assert "42P01" in line["error"] and "has no store tables" in line["error"]
        assert BSN not in str(logs)
        ready = await api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] == "unavailable"


async def read_only(name: str, *, on: bool) -> None:
    """Make database ``name`` read-only (or writable again) as a failover to a demoted primary
    does: every new session's transactions are read-only, and the sessions open now end (the
    engine's pool and its hot-path connections open new ones)."""
    setting = (
        "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
    )
    await postgres_admin_sql(f'ALTER DATABASE "{name}" {setting}')
    await postgres_admin_sql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )


async def health_ready(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    """``integrator health --ready`` against the engine at ``port``, as a container asks."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "integrator", "health", "--ready", "--timeout", "20"],
        env={**env, "INTEGRATOR_HTTP_HOST": "127.0.0.1", "INTEGRATOR_HTTP_PORT": str(port)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.postgres
async def test_a_read_only_database_answers_503_and_is_not_ready_until_it_is_writable(
    tmp_path: Path, referral_data: dict[str, Any], env: dict[str, str]
) -> None:
    """A read-only PostgreSQL (a demoted primary, a managed database made read-only as its
    disk fills) refuses every write with 25006: the store is unusable, not the request. It
    answered 500, and ``/readyz``, ``integrator_store_up`` and ``health --ready`` said ready."""
    (tmp_path / "engine").mkdir()  # ``env`` has its own files in tmp_path
    async with (
        scratch_database() as (name, url),
        engine_on(tmp_path / "engine", url) as engine,
        serving(engine) as api,
    ):
        assert (await api.get("/readyz")).status_code == 200
        await read_only(name, on=True)
        # The first request may meet a connection the server just closed (08xxx, also a 503);
        # the next ones are on new sessions, whose transactions are read-only.
        for _ in range(5):
            with capture_logs() as logs:
                answer = await api.post("/api/v1/events", json=new_event(referral_data))
            assert answer.status_code == 503, answer.text
            if engine.store.writes_failing == "25006":
                break
        assert answer.json() == {"detail": "the store is unavailable; try again later"}
        [line] = failures(logs)
        assert line["error_type"] == "StoreUnavailable"
        # The intake's write fails, not the note of the token's last use (``_bookkeeping``).
        assert line["error"].startswith("accept events failed (ReadOnlySQLTransactionError, 25006)")
        assert f"the database '{name}' on " in line["error"]
        assert "is read-only" in line["error"] and BSN not in str(logs)

        ready = await api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] == "writes failing (25006)"
        scraped = await api.get("/metrics")
        assert scraped.status_code == 200, scraped.text  # reads work: the scrape says why
        assert "integrator_store_up 0.0" in scraped.text
        said = await health_ready(env, api.base_url.port or 0)
        assert said.returncode == 1, said.stdout + said.stderr
        assert "/readyz: 503 (store: writes failing (25006))" in said.stderr

        await read_only(name, on=False)
        for _ in range(5):
            if (await api.post("/api/v1/events", json=new_event(referral_data))).is_success:
                break
        assert engine.store.writes_failing is None
        assert (await api.get("/readyz")).json()["checks"]["store"] == "ok"
        assert "integrator_store_up 1.0" in (await api.get("/metrics")).text
        assert (await health_ready(env, api.base_url.port or 0)).returncode == 0


async def test_submit_says_which_files_the_engine_did_not_take_and_submits_the_rest(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``integrator submit a.json b.json`` stopped at the first answer that was neither 202
    nor 422 (``RuntimeError: the engine answered HTTP 503``): the files after it were never
    sent, and what had been said of those before was not shown."""
    from integrator.submit import submit_via_http

    async with (
        engine_on(tmp_path, f"sqlite:///{tmp_path}/store.db") as engine,
        serving(engine) as api,
    ):
        monkeypatch.setenv("INTEGRATOR_TOKEN", api.headers["Authorization"].split()[1])
        settings = engine.settings.model_copy(update={"http_port": api.base_url.port})
        refused = {**new_event(referral_data), "zd_number": "not a ZD number"}
        files = [
            ("taken.json", json.dumps(new_event(referral_data)).encode()),
            ("refused.json", json.dumps(refused).encode()),
        ]
        before = await submit_via_http(settings, files)
        assert [o.accepted is not None for o in before] == [True, False]

        await fill_up(engine.store, full=True)
        for _ in range(20):  # until the pages the file still has are used up
            if (await api.post("/api/v1/events", json=new_event(referral_data))).status_code == 503:
                break
        fresh = ("fresh.json", json.dumps(new_event(referral_data)).encode())
        # The fresh event needs a write, which fails; the one taken before is answered from
        # what is stored (a duplicate), so it is still said after the failure.
        full = await submit_via_http(settings, [fresh, files[0]])
        said = "the engine answered HTTP 503: the store is unavailable; try again later"
        assert [o.failed for o in full] == [f"{said}; not submitted", None]
        assert full[1].accepted is not None and full[1].accepted["duplicate"] is True
        assert all(BSN not in (o.failed or "") for o in full)
