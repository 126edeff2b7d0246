"""An ``integrator`` process imports with its collector held, and collects once its work begins.

``integrator.gcpolicy``: the entry point holds the collector; the CLI's ``run`` releases it
as the command's event loop starts, freezing what the imports made.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from integrator import gcpolicy
from integrator.cli.common import run


@pytest.fixture
def collector_put_back() -> Iterator[None]:
    """The test process's collector as it was, whatever the test left (on or off; and what
    was frozen, such as what the suite's collection made, frozen again)."""
    was_enabled = gc.isenabled()
    was_frozen = gc.get_freeze_count() > 0
    try:
        yield
    finally:
        gcpolicy.release_after_imports()  # a hold the test left
        gc.unfreeze()
        if was_frozen:
            gc.freeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


async def collector_now() -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def test_a_command_s_work_runs_with_the_collector_on_and_the_imports_frozen(
    collector_put_back: None,
) -> None:
    gc.enable()
    gc.unfreeze()
    gcpolicy.hold_for_imports()
    assert not gc.isenabled()
    enabled, frozen = run(collector_now())
    assert enabled
    assert frozen > 0
    gcpolicy.release_after_imports()  # a second release changes nothing
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off(collector_put_back: None) -> None:
    gc.disable()
    gc.unfreeze()
    gcpolicy.hold_for_imports()
    enabled, frozen = run(collector_now())
    assert (enabled, frozen) == (False, 0)


def test_a_spawned_worker_importing_the_entry_point_keeps_its_collector() -> None:
    """``multiprocessing``'s spawn imports ``integrator.__main__`` again as ``__mp_main__``
    (``integrator.prepare_process``); no command runs there to release a hold."""
    probe = (
        "import gc, runpy; runpy.run_module('integrator.__main__', run_name='__mp_main__'); "
        "import sys; print(gc.isenabled(), 'integrator.cli' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["True", "False"]
