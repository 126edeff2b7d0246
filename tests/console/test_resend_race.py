"""Two colleagues, called by the same GP, confirm a resend of one message at the same moment,
each from a preview that listed no resend: one resend is made, and the other gets the preview
again (409) with the colleague's resend in it. The "no resend since" check is made in the
store's transaction that records the resend, so it holds on the embedded store with one engine
and on PostgreSQL with two engines (two connection pools, as two processes have) on one store.

A barrier at the store's write makes both confirmations arrive there together: before the
check moved into that transaction, both had passed it by then and both resent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import Store
from tests.console.test_saved_searches import post, signed_in
from tests.http.support import engine_with_noord
from tests.services import require_rabbitmq, scratch_database
from tests.store.factories import make_event, make_message
from tests.transport.helpers import delete_topology, unique_prefix

BARRIER_SECONDS = 2.0
"""How long the first confirmation waits at the store's write for the second."""
PORT = 2599
"""noord's port: nothing answers there (the resends stay in delivery, which is enough)."""


@asynccontextmanager
async def engines(backend: str, tmp_path: Path, count: int) -> AsyncIterator[list[Engine]]:
    """``count`` engines on one store: on SQLite one, with the embedded transport (its use);
    on PostgreSQL each with one broker and one prefix, as engines sharing a store run."""
    more: dict[str, Any] = {"search_key": "a-test-search-key-of-length"}
    async with AsyncExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path}/store.db"
        else:
            _, plain = await stack.enter_async_context(scratch_database())
            url = plain.replace("postgresql://", "postgresql+asyncpg://")
            more |= {"amqp_url": require_rabbitmq(), "amqp_prefix": unique_prefix()}
            stack.push_async_callback(
                delete_topology, more["amqp_url"], more["amqp_prefix"], ["noord"]
            )
        started = []
        for n in range(count):
            home = tmp_path / f"engine-{n}"
            home.mkdir()
            started.append(
                await stack.enter_async_context(engine_with_noord(home, url, PORT, **more))
            )
        yield started


def both_at_the_write(monkeypatch: pytest.MonkeyPatch, stores: Sequence[Store]) -> None:
    """Each store's ``add_resends`` waits (up to ``BARRIER_SECONDS``) for a second call."""
    barrier = asyncio.Barrier(2)
    for store in stores:
        real = store.add_resends

        async def add_resends(batch: Any, real: Any = real, **kwargs: Any) -> Any:
            with suppress(TimeoutError, asyncio.BrokenBarrierError):
                async with asyncio.timeout(BARRIER_SECONDS):
                    await barrier.wait()
            return await real(batch, **kwargs)

        monkeypatch.setattr(store, "add_resends", add_resends)


async def delivered(engine: Engine) -> str:
    """A message to ``noord``, delivered: one a GP calls about, resendable as it was sent."""
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    await engine.store.set_status(message.id, "delivered")
    return message.id


def _form(preview: httpx.Response) -> dict[str, str]:
    """The preview's confirm form as a browser posts it (without its CSRF token: ``post``)."""
    assert preview.status_code == 200, preview.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', preview.text))
    assert fields["once"] and fields["seen"] == "", fields  # no resend listed yet
    return {k: v for k, v in fields.items() if k != "csrf"}


@pytest.mark.parametrize(
    ("backend", "count"), [("sqlite", 1), pytest.param("postgresql", 2, marks=pytest.mark.postgres)]
)
async def test_two_confirmations_at_once_resend_once(
    backend: str, count: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engines(backend, tmp_path, count) as started:
        first, second = started[0], started[-1]
        original = await delivered(first)
        url = f"/messages/{original}/resend"
        async with (
            signed_in(first, "sam@example.org", Grant(Role.RESEND)) as sam,
            signed_in(second, "anna@example.org", Grant(Role.RESEND)) as anna,
        ):
            forms = [
                _form(await post(person, f"{url}/preview", {"reason": "the GP called"}))
                for person in (sam, anna)
            ]
            both_at_the_write(monkeypatch, [e.store for e in started])
            answers = await asyncio.gather(post(sam, url, forms[0]), post(anna, url, forms[1]))
        _, made = await first.store.list_resends(original)

    assert len(made) == 1, [r.actor for r in made]  # the GP's referral went out once
    [resent] = made
    assert sorted(a.status_code for a in answers) == [303, 409], [a.text for a in answers]
    [done] = [a for a in answers if a.status_code == 303]
    assert done.headers["location"] == f"/messages/{resent.message_id}"
    [shown_again] = [a for a in answers if a.status_code == 409]
    assert 'id="resent-meanwhile"' in shown_again.text
    assert f'name="seen" value="{resent.message_id}"' in shown_again.text
