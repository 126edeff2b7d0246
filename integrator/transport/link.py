"""One broker connection that comes back by itself.

``AmqpLink`` connects, runs the ``on_connect`` hooks (declare the topology, start consumers,
re-publish what was not confirmed) and, when the broker goes away, tells the ``on_disconnect``
hooks and reconnects with exponential backoff. Everything above it works in *generations*: a
channel from an older generation is dead, and whatever it delivered will be delivered again by
the broker, so nobody acks or trusts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import aiormq
import pamqp.exceptions
from pamqp.common import FieldTable

from integrator.eventloop import stop_task
from integrator.logging import get_logger
from integrator.transport.errors import TransportError, TransportUnavailable

log = get_logger("integrator.transport.link")

Hook = Callable[[aiormq.abc.AbstractConnection], Awaitable[None]]

#: Exceptions from aiormq, pamqp and the socket layer that mean "the broker is not there".
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    pamqp.exceptions.PAMQPException,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)

#: What a connect hook may raise: the broker's errors and our own refusals (e.g. too old).
SETUP_ERRORS: tuple[type[BaseException], ...] = (*BROKER_ERRORS, TransportError)


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def connection_name() -> str:
    """How the broker names this engine's connection (``rabbitmqctl list_connections name
    client_properties``, the management UI): the host and the process, so an operator can tell
    the engines on one broker apart."""
    return f"integrator {socket.gethostname()} pid {os.getpid()}"


def client_properties(url: str) -> FieldTable:
    """What the engine tells the broker about itself when it connects: its ``connection_name``,
    unless the URL names the connection itself (aiormq's ``?name=``), which then stands."""
    if parse_qs(urlsplit(url).query).get("name"):
        return {}
    return {"connection_name": connection_name()}


class AmqpLink:
    def __init__(
        self,
        url: str,
        *,
        min_backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        self._url = url
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._connection: aiormq.abc.AbstractConnection | None = None
        self._up = asyncio.Event()
        self._on_connect: list[Hook] = []
        self._on_disconnect: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self.generation = 0
        self._last_error = "no answer"
        self._resetting: set[asyncio.Task[None]] = set()

    def on_connect(self, hook: Hook) -> None:
        self._on_connect.append(hook)

    def on_disconnect(self, hook: Callable[[], None]) -> None:
        self._on_disconnect.append(hook)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def connection(self) -> aiormq.abc.AbstractConnection:
        if self._connection is None or not self._up.is_set():
            raise TransportUnavailable("no connection to the message broker")
        return self._connection

    async def start(self, *, timeout: float = 10.0) -> None:
        """Connect (retrying until ``timeout``) and keep the connection up from then on."""
        first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name="amqp-link")
        try:
            await asyncio.wait_for(asyncio.shield(first), timeout)
        except TimeoutError:
            await self.close()
            raise TransportUnavailable(
                f"message broker at {redact(self._url)} not usable within {timeout:g}s "
                f"(last error: {self._last_error})"
            ) from None

    async def wait_connected(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
        await self._drop()

    async def _drop(self) -> None:
        self._up.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*BROKER_ERRORS, RuntimeError):
                await asyncio.wait_for(connection.close(), 2.0)

    async def _run(self, first: asyncio.Future[None]) -> None:
        backoff = self._min_backoff
        while True:
            try:
                connection = await aiormq.connect(
                    self._url, client_properties=client_properties(self._url)
                )
            except BROKER_ERRORS as exc:
                self._last_error = type(exc).__name__
                log.warning(
                    "message broker unreachable; retrying",
                    error_type=type(exc).__name__,
                    retry_in_s=round(backoff, 2),
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._connection = connection
            self.generation += 1
            try:
                self._up.set()
                for hook in self._on_connect:
                    await hook(connection)
            except SETUP_ERRORS as exc:
                # e.g. PRECONDITION_FAILED: a queue exists with other arguments. The reply
                # text names the queue and the argument, no message content.
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.warning("message broker setup failed", error=self._last_error)
                await self._lost()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if not first.done():
                first.set_result(None)
            log.info("message broker connected", url=redact(self._url))
            backoff = self._min_backoff
            await asyncio.wait([connection.closing])  # never raises: the outcome is "closed"
            log.warning("message broker connection lost; reconnecting")
            await self._lost()
            await asyncio.sleep(backoff)

    def watch(self, channel: aiormq.abc.AbstractChannel, what: str) -> None:
        """Reconnect when the broker closes ``channel`` while the connection stays up.

        A broker closes a channel it finds at fault (an ack of an unknown delivery tag, a
        delivery left unacked past its consumer timeout) and keeps the connection: the consumer
        or publisher on that channel is then gone without a sound while everything else looks
        connected, and the intake would take no more events until a restart. Every channel is
        opened by the connect hooks, so the sure way back is the one a lost connection takes:
        close it, reconnect, run the hooks under a new generation (what the old channel
        delivered and nobody acked comes again). A channel we close on purpose (a consumer
        released) does not count: see ``_closed_by_broker``.
        """
        generation = self.generation

        def closed(closing: asyncio.Future[object]) -> None:
            if closing.cancelled():
                return
            error = closing.exception()
            if not _closed_by_broker(error):
                return
            if generation != self.generation or self._connection is None:
                return  # the connection went, or is going, anyway
            log.error(
                "message broker closed a channel; reconnecting",
                channel=what,
                error_type=type(error).__name__,
                reply=str(error),  # the broker's reply names the rule broken, no content
            )
            connection = self._connection
            task = asyncio.get_running_loop().create_task(connection.close(), name="amqp-reset")
            self._resetting.add(task)
            task.add_done_callback(self._resetting.discard)

        channel.closing.add_done_callback(closed)

    async def _lost(self) -> None:
        await self._drop()
        for hook in self._on_disconnect:
            hook()


def _closed_by_broker(error: BaseException | None) -> bool:
    """Whether a channel ended with the broker's own ``Channel.Close``.

    aiormq ends a channel with the broker's reply as a ``ChannelClosed`` (or a subclass named
    after the reply code, e.g. ``ChannelPreconditionFailed``) holding the reply; a channel we
    close ends with no error, or, once the broker's ``CloseOk`` arrives, ``ChannelClosed(None,
    None)``: no reply, nothing the broker found at fault.
    """
    return isinstance(error, aiormq.exceptions.AMQPChannelError) and any(
        arg is not None for arg in error.args
    )


def delivery_tag(delivered: aiormq.abc.DeliveredMessage) -> int:
    tag = getattr(delivered.delivery, "delivery_tag", None)
    if not isinstance(tag, int):
        raise aiormq.exceptions.AMQPError("a delivery without a delivery tag")
    return tag


def redelivered(delivered: aiormq.abc.DeliveredMessage) -> bool:
    return bool(getattr(delivered.delivery, "redelivered", False))
