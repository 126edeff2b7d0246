"""A support desk in a test: the CLI run in-process on a real store and destination files.

No engine runs (``INTEGRATOR_HTTP_PORT`` is a free port nobody listens on), so the CLI stores
its resends as queued messages; tests move statuses by hand to play the engine's part.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from typer.testing import CliRunner, Result

from destinations.config import dump_destination
from integrator.cli import app
from integrator.store import MessageRecord, Store
from tests.integrator.support import destination
from tests.services import free_port

T = TypeVar("T")
NOORD = "ziekenhuis-noord"
ZUID = "ziekenhuis-zuid"


@dataclass
class Desk:
    env: dict[str, str]
    tmp_path: Path

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=self.env)

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        return json.loads(result.stdout)

    def submit(self, referral: dict[str, Any], zd_number: str) -> str:
        """A referral for noord with its own event id and ZD number; its message id."""
        data = copy.deepcopy(referral)
        data["event_id"] = str(uuid.uuid4())
        data["zd_number"] = zd_number
        path = self.tmp_path / f"{data['event_id']}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        result = self.cli("submit", "--json", str(path))
        assert result.exit_code == 0, result.output
        message_id: str = json.loads(result.stdout)[0]["messages"][0]["message_id"]
        return message_id

    def set_status(self, message_id: str, status: str) -> None:
        async def go(store: Store) -> None:
            await store.set_status(message_id, status)

        self.with_store(go)

    def message(self, message_id: str) -> MessageRecord:
        async def go(store: Store) -> MessageRecord | None:
            return await store.get_message(message_id)

        found = self.with_store(go)
        assert found is not None
        return found

    def resends_of(self, message_id: str) -> list[str]:
        async def go(store: Store) -> list[str]:
            _, children = await store.list_resends(message_id)
            return [c.message_id for c in children]

        return self.with_store(go)

    def audit_size(self) -> int:
        async def go(store: Store) -> int:
            return len(await store.list_audit(limit=10_000))

        return self.with_store(go)

    def with_store(self, action: Callable[[Store], Awaitable[T]]) -> T:
        async def go() -> T:
            store = await Store.open(self.env["INTEGRATOR_DATABASE_URL"])
            try:
                return await action(store)
            finally:
                await store.close()

        return asyncio.run(go())


def open_desk(env: dict[str, str], tmp_path: Path) -> Desk:
    """Two hospitals: noord serves the sample referral's provider, zuid takes resends only."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    for dest_id, providers in ((NOORD, [NOORD]), (ZUID, ["nobody"])):
        config = destination(dest_id, free_port(), providers=providers)
        (directory / f"{dest_id}.yaml").write_text(dump_destination(config), encoding="utf-8")
    return Desk({**env, "USER": "anna"}, tmp_path)


def ctrl_c_at(count: int) -> Callable[..., contextlib.AbstractContextManager[Any]]:
    """A stand-in for a command's ``progress_bar`` that, once ``count`` are done, signals the
    process as a person's Ctrl-C reaches it: between two steps, deterministically."""

    @contextlib.contextmanager
    def bar(*_: Any, **__: Any) -> Iterator[Callable[[int, int], None]]:
        def advance(done: int, _total: int) -> None:
            if done == count:
                os.kill(os.getpid(), signal.SIGINT)

        yield advance

    return bar
