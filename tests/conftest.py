"""Shared fixtures: sample events and the real-service guards."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import typer.main
import typer.testing
from hypothesis import settings as hypothesis_settings

from destinations.receiver import MllpReceiver
from integrator import gcpolicy
from tests.loop_mark import asyncio_loop_mark, set_asyncio_loop_mark
from tests.services import compact_postgres_catalogs, free_port

# Hypothesis fails an example that takes longer than 200 ms: a timer in a test, which fails
# under load on a shared 2-core machine (it did, with a browser test beside it) and says nothing
# about correctness. Speed is measured in bench/, never asserted here.
hypothesis_settings.register_profile("integrator", deadline=None)
hypothesis_settings.load_profile("integrator")

# typer's ``CliRunner.invoke`` builds the whole command tree again on every call (a click command
# from each function's signature, its annotations evaluated): about 0.1 s of CPU, and the suite
# invokes the CLI in-process some 1,500 times. The tree is the same each time, so it is built
# once per application object; a test that adds a command would build its own ``Typer``.
typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "samples"


# Tests read ``integrator``'s piped output, which is as wide as ``COLUMNS`` says (else 160).
# pytest-xdist's workers (``make test`` runs two) start with ``COLUMNS=80`` of their own; without
# this, the same tests would see narrower tables there than in a plain run. Removed at import,
# before any test module imports the CLI (its consoles take their width then).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


_PRISTINE_LOGGING = structlog.get_config()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """The collector held while pytest collects; then what collecting made frozen, and the
    collector on again (unless it was off before): the product's own entry point's hold and
    release (``integrator.gcpolicy``).

    Why: collecting the suite imports every test module and makes ~5,800 items, some hundreds of
    thousands of long-lived objects, and with the collector on CPython scanned that growing heap
    again and again meanwhile. Held, they all wait in the young generation, which the next
    collections would walk whole; frozen, they leave it without a walk. `pytest
    --collect-only` of the parallel part: 7.8-8.5 s of CPU as it was, 7.5-7.6 s held without
    the freeze, 5.9-6.1 s held and frozen, in each of the four workers at once before any test
    starts (bench/results/perf.md, "Thirty-seventh session"). A wrapper of the collection
    itself: pytest-xdist's controller collects nothing, and a hold released only at the
    collection's end would have stayed on there all run.
    """
    gcpolicy.hold_for_imports()
    try:
        return (yield)
    finally:
        gcpolicy.release_after_imports()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Once per run, in the process that starts the others: the PostgreSQL catalogs the
    previous runs' schemas left dead rows in are compacted (``compact_postgres_catalogs``)."""
    if hasattr(session.config, "workerinput"):
        return
    why_not = compact_postgres_catalogs()
    if why_not is not None:
        print(f"\nPostgreSQL's catalogs were not compacted: {why_not}")


RUN_ALONE_BY_FILE: dict[str, str] = {
    "exclusive": "mark.exclusive",
    "without_file_powers": "without_file_powers",
}
"""The markers ``make test`` runs again afterwards, and what their files are found by: it gives
those runs only the files that hold these words (``grep``; collecting the whole suite again to
select a handful of tests took 15-20 s a run), so a marked test must be in such a file."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fails the run when a test carries one of ``RUN_ALONE_BY_FILE``'s markers in a file
    without its word: ``make test`` would never run it."""
    texts: dict[Path, str] = {}
    for item in items:
        for marker, word in RUN_ALONE_BY_FILE.items():
            if item.get_closest_marker(marker) is None:
                continue
            path = Path(item.path)
            text = texts.setdefault(path, path.read_text(encoding="utf-8"))
            if word not in text:
                raise pytest.UsageError(
                    f"{item.nodeid} is marked {marker}, but its file does not say "
                    f"{word!r}: `make test` finds the files to run again by that word"
                )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """A test that does not drive the browser runs with its event loop's mark set aside
    (``tests/loop_mark.py``): the browser outlives the console's modules, and its loop stays
    marked as running in this thread between its calls."""
    if "browser" in getattr(item, "fixturenames", ()):
        return (yield)
    browser_loop = asyncio_loop_mark()
    set_asyncio_loop_mark(None)
    try:
        return (yield)
    finally:
        # Not when the browser was closed meanwhile (the session's end, in this teardown).
        if browser_loop is not None and not browser_loop.is_closed():
            set_asyncio_loop_mark(browser_loop)


@pytest.fixture(autouse=True)
def pristine_logging() -> Iterator[None]:
    """Every test starts, and leaves, with structlog as no test had configured it.

    The CLI and the engine configure structlog for the process: a level (a filter that drops
    lines below it before ``capture_logs`` sees them) and a stream (CliRunner's, closed after
    the call). Left in place, one test's configuration decided what a later test in the same
    worker could log or capture, so a test asserting on an info line failed or passed by the
    order pytest-xdist happened to give. Fixtures that configure logging on purpose (the
    transport's) run after this one and are undone with it.
    """
    structlog.configure(**_PRISTINE_LOGGING)
    yield
    structlog.configure(**_PRISTINE_LOGGING)


def _shared_routes() -> tuple[int, int] | None:
    """How many routes the process's shared API and console have, once built."""
    from integrator.http.app import shared_app

    if shared_app.cache_info().currsize == 0:
        return None
    api = shared_app()
    console = api.router.default
    return len(api.router.routes), len(getattr(console, "routes", ()))


@pytest.fixture(autouse=True)
def shared_app_unchanged() -> Iterator[None]:
    """No test may add a route to the application every test in the worker shares
    (``integrator.http.app.shared_app``): a route added there would answer in every later
    test. A test that adds one uses an application of its own (``own_app``)."""
    before = _shared_routes()
    yield
    after = _shared_routes()
    assert before is None or after == before, "a test changed the shared application's routes"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """Argon2id with argon2's cheapest parameters in this process, not RFC 9106's.

    The production parameters cost about a quarter of a second of CPU per hash or check, and
    the suite invites and signs in hundreds of people through engines it builds itself (the
    console's and the API's tests). What those tests check is the access rules, not the cost of
    a hash; the production parameters are checked by the tests marked
    ``production_password_hashes``. Session-wide because engines live across a module's tests.
    """
    from argon2.profiles import CHEAPEST

    from integrator.access import passwords

    production = passwords.HASH_PARAMETERS
    passwords.HASH_PARAMETERS = CHEAPEST
    yield
    passwords.HASH_PARAMETERS = production


@pytest.fixture(autouse=True)
def production_password_hashes(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests marked ``production_password_hashes`` hash with the parameters users get."""
    if request.node.get_closest_marker("production_password_hashes"):
        from argon2.profiles import RFC_9106_LOW_MEMORY

        from integrator.access import passwords

        monkeypatch.setattr(passwords, "HASH_PARAMETERS", RFC_9106_LOW_MEMORY)


@pytest.fixture(autouse=True)
def login_name_from_user(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process CLI tests play several people by setting ``USER`` in CliRunner's environment.

    The CLI itself never believes ``USER`` (``integrator.cli.common.os_user`` reads the user id),
    so for these tests only the name comes from ``USER`` when it is set. Tests marked
    ``real_login_name`` see the CLI as it is, and so do the tests that start ``integrator`` as
    a process.
    """
    if request.node.get_closest_marker("real_login_name"):
        return
    from integrator.cli import common

    real = common.os_user
    monkeypatch.setattr(common, "os_user", lambda: os.environ.get("USER") or real())


def load_sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def referral_data() -> dict[str, Any]:
    return load_sample("referral")


@pytest.fixture
def diagnostic_request_data() -> dict[str, Any]:
    return load_sample("diagnostic_request")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of an ``integrator`` process with its own store, files and port.

    The store is made, as an engine's first start makes it: ``submit`` and the read commands
    refuse a store that is not there (run elsewhere, they would make an empty one)."""
    dest_dir = tmp_path / "destinations"
    dest_dir.mkdir()
    url = f"sqlite:///{tmp_path}/store.db"
    values = dict(os.environ)
    values.update(
        {
            "INTEGRATOR_DATABASE_URL": url,
            "INTEGRATOR_DESTINATIONS_DIR": str(dest_dir),
            "INTEGRATOR_HTTP_PORT": str(free_port()),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
    )
    # Imported here: ``tests.cli_in_process`` imports the CLI, whose consoles take their width
    # at import, which must come after ``COLUMNS`` is removed below.
    from tests.cli_in_process import make_store

    make_store(url)
    return values


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    """An MLLP receiver on a free loopback port that ACKs everything (AA), started; a module
    that needs another (an AE, a misbehaving one) defines its own ``receiver``."""
    async with MllpReceiver() as server:
        yield server
