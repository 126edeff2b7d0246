"""The mark asyncio keeps of the event loop running in this thread, set aside and put back.

Playwright's sync API runs its event loop in a greenlet of the test's own thread and leaves
that loop marked as running between its calls (``playwright/_impl/_greenlets.py``), while the
loop is suspended in the middle of a turn. Any ``asyncio.run`` in that thread then refuses to
start ("cannot be called from a running event loop"). The browser now lives as long as the test
process (``tests/console/conftest.py``), so the tests that do not use it run with the mark
lifted and get it back afterwards; the browser's loop does not turn meanwhile, and nothing of
it is lost: the driver's messages wait in its pipe.
"""

from __future__ import annotations

import asyncio
from asyncio import events
from collections.abc import Iterator
from contextlib import contextmanager


def asyncio_loop_mark() -> asyncio.AbstractEventLoop | None:
    """The loop marked as running in this thread, or None."""
    return events._get_running_loop()


def set_asyncio_loop_mark(loop: asyncio.AbstractEventLoop | None) -> None:
    """Mark ``loop`` (or none) as the one running in this thread."""
    events._set_running_loop(loop)


@contextmanager
def loop_marked(loop: asyncio.AbstractEventLoop | None) -> Iterator[None]:
    """Within, ``loop`` is marked as running here; the mark found is put back after.

    For the browser's own calls made where the mark may be lifted (a fixture's teardown run
    after a test that does not use the browser): the browser's code runs in its loop, and
    asks asyncio for the running loop."""
    found = asyncio_loop_mark()
    set_asyncio_loop_mark(loop)
    try:
        yield
    finally:
        set_asyncio_loop_mark(found)
