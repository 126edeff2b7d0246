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
import errno
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import aiormq
import pamqp.exceptions
from pamqp.commands import Connection
from pamqp.common import FieldTable
from yarl import URL

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


#: The setting every start error names: the URL is where host, port, vhost, user and password are.
SETTING = "INTEGRATOR_AMQP_URL"
_AMQP_PORTS = {"amqp": 5672, "amqps": 5671}
#: RabbitMQ's reply to ``Connection.Open`` that it refuses (``NOT_ALLOWED``): vhost missing, no
#: permission on it, or a connection limit reached; told apart by the reply text.
_NOT_ALLOWED = 530
_ACCESS_REFUSED = 403


def describe_connect_error(exc: BaseException, url: str) -> str:
    """Why connecting to the broker at ``url`` failed, in words naming the cause and the setting.

    aiormq and pamqp say it with exception classes only, and one of them misleads: a vhost the
    broker does not have comes as ``InvalidFrameError`` ("expected Connection.OpenOk"), because
    the broker answered ``Connection.Open`` with ``Connection.Close`` (530, ``NOT_ALLOWED - vhost
    x not found``) and aiormq keeps that frame only in the local variables of the frames that
    raised. So the reply is taken from the exception where it has one (``ConnectionClosed``'s
    code and text) or from those frames, else from the cause chain (refused, unknown host,
    timeout). Nothing here holds the password: host, port and vhost come from the URL, the
    broker's reply codes and texts name a rule, a vhost or a user, and the rest is the OS's
    error text. Anything else is named by its type, as before.
    """
    parsed = URL(url)
    host = parsed.host or "localhost"
    port = parsed.port or _AMQP_PORTS.get(parsed.scheme.lower(), 5672)
    vhost = "/" if parsed.path in ("", "/") else parsed.path[1:].replace("%2F", "/")
    where = f"{host}:{port}"
    if isinstance(exc, aiormq.exceptions.ProbableAuthenticationError):
        return f"the broker refused the user name or password in {SETTING}"
    close = _connection_close(exc)
    if close is not None:
        code, text = close
        if code == _ACCESS_REFUSED:
            return f"the broker refused the user name or password in {SETTING}"
        if code == _NOT_ALLOWED and "not found" in text and "vhost" in text:
            return f"the broker has no vhost '{vhost}' ({SETTING})"
        if code == _NOT_ALLOWED and "access to vhost" in text:
            return (
                f"the broker refused the user in {SETTING} access to vhost '{vhost}' (grant "
                "it permissions there, or use another vhost)"
            )
        return f"the broker closed the connection: {code} {text} ({SETTING})"
    if isinstance(exc, aiormq.exceptions.InvalidFrameError) and "Connection.Close" in str(exc):
        return f"the broker refused to open the connection to vhost '{vhost}' ({SETTING})"
    causes = list(_causes(exc))
    if any(
        isinstance(e, (aiormq.exceptions.IncompatibleProtocolError, asyncio.IncompleteReadError))
        for e in causes
    ):  # e.g. a PostgreSQL or HTTP port, or amqp:// to a TLS-only port
        return (
            f"{where} closed the connection before the AMQP handshake was done (is it a "
            f"RabbitMQ port, and the scheme, amqp or amqps, the right one?) ({SETTING})"
        )
    # aiormq re-raises socket errors as its own AMQPConnectionError(errno, text): the errno
    # is kept, the kind (an unknown host is a gaierror) only in the cause.
    codes = {e.args[0] for e in causes if isinstance(e, OSError) and e.args}
    if any(isinstance(e, socket.gaierror) for e in causes):
        return f"no host named '{host}' ({SETTING})"
    if any(isinstance(e, ConnectionRefusedError) for e in causes) or errno.ECONNREFUSED in codes:
        return f"connection refused at {where} ({SETTING})"
    if any(isinstance(e, TimeoutError) for e in causes):
        return f"no answer from {where} in time ({SETTING})"
    for code in codes:
        if isinstance(code, int) and code > 0:  # asyncio's own text is "Connect call failed"
            return f"{os.strerror(code)} at {where} ({SETTING})"
    return type(exc).__name__


def _connection_close(exc: BaseException) -> tuple[int, str] | None:
    """The broker's ``Connection.Close`` reply code and text behind ``exc``, if it sent one."""
    if (
        isinstance(exc, aiormq.exceptions.ConnectionClosed)
        and len(exc.args) == 2
        and isinstance(exc.args[0], int)
    ):
        return exc.args[0], str(exc.args[1])
    trace = exc.__traceback__
    while trace is not None:
        for value in trace.tb_frame.f_locals.values():
            if isinstance(value, Connection.Close):
                return int(value.reply_code or 0), str(value.reply_text or "")
        trace = trace.tb_next
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from or during, outermost first (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


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
                f"message broker at {redact(self._url)} not usable within {timeout:g}s; "
                f"last error: {self._last_error}"
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
                self._last_error = describe_connect_error(exc, self._url)
                log.warning(
                    "message broker unreachable; retrying",
                    error=self._last_error,
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
