"""A real engine serving the console on a loopback port, for a real browser to drive.

The engine, its HTTP server (uvicorn, as ``integrator run`` serves it) and MLLP receivers run
on an event loop in a thread of their own, so the browser tests stay plain synchronous
Playwright code. ``call`` runs a coroutine on that loop: the tests set things up with the same
services the engine uses (inviting people, submitting events), never with SQL.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.access import Grant, LoginResult
from integrator.access.totp import INTERVAL, code_at
from integrator.engine import Engine
from integrator.http import create_app
from integrator.runner import bind_http
from tests.http.support import MAKER
from tests.integrator.support import destination, settings_for

T = TypeVar("T")
SEARCH_KEY = "a-console-test-search-key"
PASSWORD = "correct horse battery staple"
BROWSER_ADDRESS = "127.0.0.1"  # where the browser's requests come from, as the engine sees it


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    totp_secret: str
    recovery_codes: list[str]

    def code(self) -> str:
        """The code the person's authenticator shows now."""
        from integrator.clock import SystemClock

        return code_at(self.totp_secret, SystemClock().now())


class LiveEngine:
    """``integrator run`` in a thread: an engine with two destinations, each with a receiver.

    ``noord`` lies in cluster CARD and serves ``ziekenhuis-noord`` (the sample referral's
    provider); ``zuid`` lies in cluster LAB and serves a provider nobody sends for.
    """

    def __init__(self, root: Path, *, tls: tuple[Path, Path] | None = None) -> None:
        self.root = root
        self.tls = tls  # a certificate and its key: serve HTTPS, as the engine can
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-engine")
        self.receivers: dict[str, MllpReceiver] = {}
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._engine: Engine | None = None
        self.port = 0

    @property
    def engine(self) -> Engine:
        assert self._engine is not None
        return self._engine

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def stop(self) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)

    async def _start(self) -> None:
        cert, key = self.tls or (None, None)
        settings = settings_for(
            self.root, search_key=SEARCH_KEY, http_tls_cert_file=cert, http_tls_key_file=key
        )
        settings.destinations_dir.mkdir(parents=True)
        for dest_id, cluster, provider in (
            ("noord", "CARD", "ziekenhuis-noord"),
            ("zuid", "LAB", "lab-zuid"),
        ):
            receiver = MllpReceiver()
            await receiver.__aenter__()
            self.receivers[dest_id] = receiver
            config = destination(dest_id, receiver.port, providers=[provider], cluster=cluster)
            (settings.destinations_dir / f"{dest_id}.yaml").write_text(dump_destination(config))
        self._engine = Engine(settings)
        await self._engine.start()
        listener = bind_http("127.0.0.1", 0)
        self.port = listener.getsockname()[1]
        server_config = uvicorn.Config(
            create_app(self._engine),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=cert,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(server_config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._serving, timeout=10)
        if self._engine is not None:
            await self._engine.stop()
        for receiver in self.receivers.values():
            await receiver.__aexit__(None, None, None)

    # -- setting things up through the services ----------------------------------------------

    def person(self, email: str, *grants: Grant) -> Person:
        """An active person with ``grants``, invited and accepted as the console would do it.

        The acceptance uses the code of the previous 30-second step (a code is accepted one step
        either side), so the person can sign in with the current code straight away.
        """
        return self.call(self._person(email, list(grants)))

    async def _person(self, email: str, grants: list[Grant]) -> Person:
        access = self.engine.access
        link = await access.invite(MAKER, email, grants)
        assert link.link is not None
        secret = link.link.split("#", 1)[1]
        start = await access.begin_accept(secret)
        earlier = await self._previous_step()
        done = await access.finish_accept(secret, PASSWORD, code_at(start.totp_secret, earlier))
        return Person(email, PASSWORD, start.totp_secret, done.recovery_codes)

    async def _previous_step(self) -> datetime:
        """A moment in the previous 30-second step, still the previous one when the code is
        checked: near the end of a step, the step turns first. (Otherwise a step turning
        between this moment and the check puts the code two steps behind, and it is refused:
        seen once in a full run.)"""
        now = self.engine.clock.now()
        left = INTERVAL - now.timestamp() % INTERVAL
        if left < 2:
            await asyncio.sleep(left + 0.05)
            now = self.engine.clock.now()
        return now - timedelta(seconds=INTERVAL)

    def login(self, person: Person) -> LoginResult:
        """A console session for ``person``, opened by the very call the login form makes
        (``AccessService.login`` with the current code, from the address the browser's requests
        come from): the same session row, audit entry and used code as a form sign-in, without
        the two page loads. ``conftest.open_session`` puts it into a browser."""
        return self.call(
            self.engine.access.login(
                person.email, person.password, person.code(), source=BROWSER_ADDRESS
            )
        )

    def invitation_link(self, email: str, *grants: Grant) -> str:
        """A fresh invitation's link, for the browser to accept."""
        link = self.call(self.engine.access.invite(MAKER, email, list(grants))).link
        assert link is not None
        return link

    def submit(self, event: dict[str, Any], *, settle: bool = True) -> str:
        """Submit ``event`` as an upstream system would; the id of its one message."""
        return self.call(self._submit(event, settle))

    async def _submit(self, event: dict[str, Any], settle: bool) -> str:
        result = await self.engine.intake.submit(json.dumps(event), source="http")
        if settle:
            assert await self.engine.wait_settled(timeout=60)  # a loaded machine: slow, not stuck
        [message] = result.messages
        return message.message_id

    def audit_actions(self, actor: str) -> list[tuple[str, str]]:
        """``(action, target)`` of the audit entries ``actor`` made, newest first."""
        entries = self.call(self.engine.store.list_audit(limit=1000))
        return [(e.action, e.target) for e in entries if e.actor == actor]
