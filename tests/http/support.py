"""Calling the API as someone: API tokens made in the engine's store, clients that send them.

Every API test authenticates like a real caller: a token is made with the access service (as
the server's CLI would, ``integrator tokens create``) and sent as ``Authorization: Bearer``.
``api_client`` gives a client with a token holding every role for all clusters, for tests about
something else than access; ``tests/http/test_access.py`` makes narrower ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from integrator.access import AccessService, Grant, Role, local_identity
from integrator.clock import SystemClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.store import Store

ROOT = Path(__file__).resolve().parents[2]

MAKER = local_identity("local:tests")
"""Who makes the tests' tokens: the server's CLI, which may make any."""

EVERY_ROLE = tuple(Grant(role) for role in Role)
"""Every role, for all clusters."""


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def make_token(access: AccessService, *grants: Grant, name: str | None = None) -> str:
    """A new token with ``grants`` (default: every role for all clusters); the token itself."""
    made = await access.create_token(
        MAKER, name or f"test-{uuid.uuid4().hex[:12]}", list(grants or EVERY_ROLE)
    )
    return made.token


async def token_for(engine: Engine, *grants: Grant, name: str | None = None) -> str:
    """A token in the (started) engine's store; every role for all clusters without grants."""
    return await make_token(engine.access, *grants, name=name)


async def token_in_store(database_url: str, *grants: Grant, name: str | None = None) -> str:
    """A token in the store at ``database_url``, for an engine process started afterwards."""
    store = await Store.open(database_url)
    try:
        return await make_token(AccessService(store, SystemClock()), *grants, name=name)
    finally:
        await store.close()


@asynccontextmanager
async def api_client(
    engine: Engine, token: str | None = None, *, app: FastAPI | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``engine``'s API (through ``app`` if given) that sends ``token``, by default
    a new token with every role for all clusters."""
    token = token or await token_for(engine)
    transport = httpx.ASGITransport(app=app or create_app(engine))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers=bearer(token)
    ) as client:
        yield client


@contextmanager
def engine_process(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``integrator run`` as its own process, its JSON log lines on ``stderr``.

    A watchdog kills it should it hang; whatever the test did, it is gone afterwards.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # only if the engine hangs
    watchdog.start()
    try:
        yield process
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()


@contextmanager
def listening_engine(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``engine_process`` once its API listens; its log is read on meanwhile, so a full pipe
    never blocks it."""
    with engine_process(env) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if json.loads(line)["event"] == "http api listening":
                break
        else:
            raise AssertionError(f"the engine stopped: exit {process.wait()}")
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield process


async def add_lab_cluster(engine: Engine) -> None:
    """A destination in cluster LAB beside the fixture's CARD one: a grant may only name a
    cluster that a destination is in (docs/access.md)."""
    from destinations.config import dump_destination
    from tests.integrator.support import destination

    config = destination("lab", 2599, providers=["lab-west"], cluster="LAB")
    (engine.settings.destinations_dir / "lab.yaml").write_text(dump_destination(config))
    catalog = await engine.reload_destinations()
    assert "lab" in catalog.destinations, catalog.errors
