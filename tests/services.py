"""Real services for tests: answer if they are up, skip visibly if not, fail under CI.

The rule of the project: a test that needs RabbitMQ or PostgreSQL skips with a reason on a
developer's machine without them, and fails when ``CI=true`` so a green CI run always means the
test really ran.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    import asyncpg

POSTGRES_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("TEST_POSTGRES_PORT", "5432"))
RABBITMQ_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBITMQ_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under CI) when the service does not answer."""
    if port_answers(host, port):
        return
    reason = f"{name} does not answer on {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: service tests must run)")
    pytest.skip(reason)


FULL_CHROMIUM = "/usr/bin/chromium"
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"


def _default_chromium() -> str:
    """Debian's headless build of Chromium where it is installed, else the full browser.

    Both come from Debian's ``chromium`` source, the same Blink and V8 at the same version. The
    headless shell is what Playwright itself runs for a headless Chromium; the full browser in
    its "new" headless mode takes three times the CPU to open a profile and a page (~0.4 s
    against ~0.1 s here), and the console tests open some four hundred: about a quarter of the
    suite's CPU. ``test_full_chromium.py`` still drives ``/usr/bin/chromium`` itself.
    """
    return HEADLESS_SHELL if shutil.which(HEADLESS_SHELL) else FULL_CHROMIUM


CHROMIUM = os.environ.get("TEST_CHROMIUM") or _default_chromium()


def require_chromium(executable: str = CHROMIUM) -> str:
    """The path of a system Chromium for Playwright (Debian's packages ``chromium-headless-shell``
    or ``chromium``).

    Playwright's own browser download is not used: the tests drive the browser the machine
    has. Skips (or fails under CI) without it or without the ``playwright`` package.
    """
    reasons = []
    if shutil.which(executable) is None:
        package = "chromium-headless-shell" if executable == HEADLESS_SHELL else "chromium"
        reasons.append(f"no Chromium at {executable} (apt-get install {package})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reasons.append("the playwright package is not installed (pip install -e '.[dev]')")
    if reasons:
        reason = "; ".join(reasons)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run)")
        pytest.skip(reason)
    return executable


def require_postgres() -> str:
    """Return an asyncpg URL for the ``test`` database."""
    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    return f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/test"


# The catalogs that making and dropping a schema adds rows to and deletes them from.
_CHURNED_CATALOGS = (
    "pg_attribute",
    "pg_attrdef",
    "pg_class",
    "pg_constraint",
    "pg_depend",
    "pg_index",
    "pg_namespace",
    "pg_sequence",
    "pg_trigger",
    "pg_type",
)


async def postgres_admin() -> asyncpg.Connection:
    """A session of the suite's own in the ``test`` database, as its superuser: for what the
    store's API does not do (schemas and databases made and dropped, catalogs compacted)."""
    import asyncpg

    return await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="test"
    )


async def postgres_admin_sql(sql: str) -> None:
    """One statement on a new session (a test may restart PostgreSQL between two)."""
    admin = await postgres_admin()
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database() -> AsyncIterator[tuple[str, str]]:
    """A new, empty PostgreSQL database for a test that breaks or drops one: its name and the
    store URL of it; dropped afterwards, if the test left it."""
    require_postgres()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await postgres_admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        await postgres_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def compact_postgres_catalogs() -> str | None:
    """Rewrite the ``test`` database's system catalogs that the suite's schemas churn; None, or
    why not.

    Every run makes and drops a few hundred schemas there, and their catalog rows stay behind
    as dead rows until a vacuum. A server with autovacuum off (as on the machines this suite
    runs on) kept them all: ``pg_attribute`` had grown to 1.6 million dead rows, 257 MB that
    every schema made, dropped or looked up scanned (a count of ``pg_class`` took 35 ms; 1.7 ms
    after). ``VACUUM FULL`` of these tables took under two seconds, once per run, before any
    test starts.
    """
    import asyncio

    import asyncpg

    if not port_answers(POSTGRES_HOST, POSTGRES_PORT):
        return f"PostgreSQL does not answer on {POSTGRES_HOST}:{POSTGRES_PORT}"

    catalogs = ", ".join(f"pg_catalog.{name}" for name in _CHURNED_CATALOGS)
    try:
        asyncio.run(postgres_admin_sql(f"VACUUM FULL {catalogs}"))
    except (OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_rabbitmq() -> str:
    require_service("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT)
    return f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/"


def require_rabbitmqctl() -> None:
    """Skip (or fail under CI) without ``rabbitmqctl``: a test that sets a policy on the
    broker (Debian's rabbitmq-server package has it beside the broker)."""
    if shutil.which("rabbitmqctl") is not None:
        return
    reason = "rabbitmqctl is not installed: the test sets a policy on the broker"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: service tests must run)")
    pytest.skip(reason)


def wait_until_answering(url: str, within: float) -> bool:
    """True once ``url`` answers 200, asked every 0.1 s for ``within`` seconds; else False.

    One client for the whole wait: ``httpx.get`` makes a client per call, and each loads the
    system's CA bundle (~25 ms of CPU), while the engine waited for starts on the same CPUs.
    """
    deadline = time.monotonic() + within
    with httpx.Client(timeout=0.5) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(url).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    return False


LISTEN_PORTS = range(20_000, 32_768)
"""Where ``free_port`` looks: below Linux's ephemeral range (32768-60999 by default), which the
kernel also hands out as the local port of every outgoing connection. A port taken from that
range (``bind(0)``) and released was, on a loaded machine, now and then the source port of some
test's connection to PostgreSQL or RabbitMQ by the time a process bound it: ``integrator run``
then exited "port in use" and its test failed on that line."""

#: Ports this process handed out lately, not handed out again (``free_port``).
_HANDED: deque[int] = deque(maxlen=512)


def own_ports(environ: Mapping[str, str] = os.environ) -> range:
    """This test process's share of ``LISTEN_PORTS``: each pytest-xdist worker its own part.

    A port is free when ``free_port`` looks and bound seconds later (a process started, an
    engine imported): two workers that picked the same one in that time both took it, and
    the second engine exited "port in use" (a CI run, once, on `integrator run`'s HTTP port).
    """
    worker, count = environ.get("PYTEST_XDIST_WORKER", ""), environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not worker.startswith("gw") or not worker[2:].isdigit() or not (count or "").isdigit():
        return LISTEN_PORTS
    share = len(LISTEN_PORTS) // max(int(count or 1), 1)
    start = LISTEN_PORTS.start + int(worker[2:]) * share
    return range(start, start + share) if start + share <= LISTEN_PORTS.stop else LISTEN_PORTS


def free_port() -> int:
    """A loopback port that nothing listens on (bound, then released), and that this process
    has not handed out lately: a test that asks twice gets two ports even before it binds
    the first."""
    ports = own_ports()
    for port in random.sample(ports, min(50, len(ports))):
        if port in _HANDED:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED.append(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
    return chosen
