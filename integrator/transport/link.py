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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiormq
import pamqp.exceptions
from aiormq.connection import FrameReceiver
from pamqp.base import Frame
from pamqp.commands import Connection
from pamqp.common import FieldTable
from yarl import URL

from integrator.eventloop import stop_task
from integrator.log_throttle import LogThrottle
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

#: What ends a connect hook's run: those, and a call the connection gave up on (ended as
#: cancelled, ``cancelled_elsewhere``).
SETUP_ENDS: tuple[type[BaseException], ...] = (*SETUP_ERRORS, asyncio.CancelledError)

#: How long the broker has to answer the AMQP handshake (TCP, TLS, ``Connection.Start`` to
#: ``OpenOk``). aiormq's connect has no bound of its own, and its heartbeat starts only once the
#: handshake is done: a peer that takes the connection and never answers (a partition just after
#: the connect, a load balancer holding it, a broker still starting) held the link there for
#: good. Past it the attempt failed, ``no answer``, and is retried as any other. Shorter than
#: ``start``'s 10 s, so that a start that finds no answer names it; RabbitMQ gives a client 10 s.
HANDSHAKE_TIMEOUT = 5.0

#: How long each ``on_connect`` hook has (channels, declares, consumers): one that hangs on a
#: broker gone silent after the handshake is a setup that failed, retried. Longer than the
#: handshake's, as a hook asks the broker once or more per destination.
SETUP_TIMEOUT = 30.0

#: Failed connects told each in full (``message broker unreachable; retrying``) before the
#: outage is told once a minute: at the default backoff, its first six seconds or so, which
#: is all a broker restart takes.
UNREACHABLE_LINES = 5


class NoAnswer(asyncio.TimeoutError):
    """The broker did not answer within the link's own bound (``HANDSHAKE_TIMEOUT``,
    ``SETUP_TIMEOUT``): says what it did not answer and the bound, for the log line."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(what, seconds)
        self.what = what
        self.seconds = seconds

    def __str__(self) -> str:
        return f"no answer to the {self.what} within {self.seconds:g}s"


@contextlib.asynccontextmanager
async def answered_within(what: str, seconds: float) -> AsyncIterator[None]:
    """Raise ``NoAnswer`` when the block takes longer than ``seconds``. ``asyncio.timeout``,
    not ``wait_for``: a cancel from outside (``close``) passes through unchanged and at once."""
    bound = asyncio.timeout(seconds)
    try:
        async with bound:
            yield
    except TimeoutError:
        if not bound.expired():  # a timeout of the block's own, not this bound
            raise
        raise NoAnswer(what, seconds) from None


def cancelled_elsewhere() -> bool:
    """Whether a ``CancelledError`` caught now came from a call someone else cancelled, not
    from a cancel of this task: aiormq ends the calls a connection it gave up on still owed
    (its heartbeat ran out on a half-open network) as cancelled. A worker loop that let such
    an error through ended as if stopped, and nothing took its place: the AMQP intake, or a
    destination's delivery, stopped for good while ``/readyz`` said ready."""
    task = asyncio.current_task()
    return task is not None and not task.cancelling()


OTHER_ARGUMENTS = (
    "a queue or exchange of that name is on the broker with other arguments than this "
    "version declares (made by another program, or another installation under the same "
    "prefix): give this installation a prefix of its own in INTEGRATOR_AMQP_PREFIX (every "
    "engine the same one), or delete that queue once nothing it holds is needed; the engines "
    "declare it again (docs/amqp.md, Topology)"
)
"""What to do about ``PRECONDITION_FAILED`` at a declare: retrying will not change the
queue, and the broker's reply names only the queue and the argument."""


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


def broker_address(url: str) -> str:
    """``host:port`` of the broker ``url`` names (the scheme's port when it names none)."""
    parsed = URL(url)
    host = parsed.host or "localhost"
    return f"{host}:{parsed.port or _AMQP_PORTS.get(parsed.scheme.lower(), 5672)}"


def describe_connect_error(exc: BaseException, url: str, *, answered_before: bool = False) -> str:
    """Why connecting to the broker at ``url`` failed, in words naming the cause and the setting.

    aiormq and pamqp say it with exception classes only, and one of them misleads: a vhost the
    broker does not have comes from aiormq as ``InvalidFrameError`` ("expected
    Connection.OpenOk"), because the broker answered ``Connection.Open`` with
    ``Connection.Close`` (530, ``NOT_ALLOWED - vhost x not found``). The link's connection
    (``BrokerConnection``) raises that reply as ``ConnectionClosed(code, text)`` instead, so the
    reply is read from the exception (or one in its cause chain), else the cause chain says it
    (refused, unknown host, timeout). Nothing here holds the password: host, port and vhost come
    from the URL, the broker's reply codes and texts name a rule, a vhost or a user, and the rest
    is the OS's error text. Anything else is named by its type, as before.

    A peer that takes the connection and closes it (or resets it) before the handshake is a
    port that is no RabbitMQ's, the wrong scheme, or a proxy or load balancer (HAProxy, a
    Kubernetes Service, a cloud load balancer) in front of a broker that is away: it accepts
    for the broker and closes once it finds none. ``answered_before``: the broker at this
    address did answer the handshake earlier in this process, so the port and scheme were
    right, and the close is an outage, told as one.
    """
    parsed = URL(url)
    host = parsed.host or "localhost"
    vhost = "/" if parsed.path in ("", "/") else parsed.path[1:].replace("%2F", "/")
    where = broker_address(url)
    refusal = _refusal(exc)
    if refusal == "credentials":
        return f"the broker refused the user name or password in {SETTING}"
    if refusal == "no_vhost":
        return f"the broker has no vhost '{vhost}' ({SETTING})"
    if refusal == "vhost_access":
        return (
            f"the broker refused the user in {SETTING} access to vhost '{vhost}' (grant "
            "it permissions there, or use another vhost)"
        )
    close = _connection_close(exc)
    if close is not None:
        code, text = close
        return f"the broker closed the connection: {code} {text} ({SETTING})"
    if isinstance(exc, aiormq.exceptions.InvalidFrameError) and "Connection.Close" in str(exc):
        return f"the broker refused to open the connection to vhost '{vhost}' ({SETTING})"
    causes = list(_causes(exc))
    # aiormq re-raises socket errors as its own AMQPConnectionError(errno, text): the errno
    # is kept, the kind (an unknown host is a gaierror) only in the cause.
    codes = {e.args[0] for e in causes if isinstance(e, OSError) and e.args}
    if any(
        isinstance(
            e,
            (
                aiormq.exceptions.IncompatibleProtocolError,
                asyncio.IncompleteReadError,
                ConnectionResetError,
            ),
        )
        for e in causes
    ) or (errno.ECONNRESET in codes):
        # The connection was taken (a refused one is ECONNREFUSED), then closed or reset
        # unanswered: a PostgreSQL or HTTP port, amqp:// to a TLS-only port, or a proxy whose
        # broker is away (it closes at once, or resets what the client had written).
        if answered_before:
            return (
                f"{where} closed the connection before the AMQP handshake was done; it answered "
                "the handshake before, so the broker is down or restarting behind a proxy or "
                f"load balancer that takes connections for it ({SETTING})"
            )
        return (
            f"{where} closed the connection before the AMQP handshake was done (is it a "
            f"RabbitMQ port, and the scheme, amqp or amqps, the right one? Or a proxy or load "
            f"balancer in front of a broker that is down?) ({SETTING})"
        )
    if any(isinstance(e, socket.gaierror) for e in causes):
        return f"no host named '{host}' ({SETTING})"
    if any(isinstance(e, ConnectionRefusedError) for e in causes) or errno.ECONNREFUSED in codes:
        return f"connection refused at {where} ({SETTING})"
    bound = next((e for e in causes if isinstance(e, NoAnswer)), None)
    if bound is not None:
        return f"no answer from {where} to the {bound.what} within {bound.seconds:g}s ({SETTING})"
    if any(isinstance(e, TimeoutError) for e in causes):
        return f"no answer from {where} in time ({SETTING})"
    for code in codes:
        if isinstance(code, int) and code > 0:  # asyncio's own text is "Connect call failed"
            return f"{os.strerror(code)} at {where} ({SETTING})"
    return type(exc).__name__


def refused_for_good(exc: BaseException) -> bool:
    """Whether the broker's answer to connecting will be the same however often it is asked:
    the user name or password refused (403 ``ACCESS_REFUSED``), or the vhost missing or not the
    user's (530 ``NOT_ALLOWED``). Only the operator mends those (the URL, or the broker's users,
    vhosts and permissions). Everything else (refused, no answer, an unknown host while DNS is
    not up yet, a connection limit reached) may pass by itself."""
    return _refusal(exc) is not None


def _refusal(exc: BaseException) -> str | None:
    """``credentials``, ``no_vhost`` or ``vhost_access`` when the broker refused for one of
    those reasons, told apart by its reply; else None."""
    if isinstance(exc, aiormq.exceptions.ProbableAuthenticationError):
        return "credentials"
    close = _connection_close(exc)
    if close is None:
        return None
    code, text = close
    if code == _ACCESS_REFUSED:
        return "credentials"
    if code == _NOT_ALLOWED and "not found" in text and "vhost" in text:
        return "no_vhost"
    if code == _NOT_ALLOWED and "access to vhost" in text:
        return "vhost_access"
    return None


def _connection_close(exc: BaseException) -> tuple[int, str] | None:
    """The broker's ``Connection.Close`` reply code and text behind ``exc``, if it sent one:
    ``ConnectionClosed(code, text)`` as aiormq raises it for a close after ``StartOk``, and as
    ``BrokerConnection`` raises it for one in answer to ``Connection.Open``."""
    for error in _causes(exc):
        if (
            isinstance(error, aiormq.exceptions.ConnectionClosed)
            and len(error.args) == 2
            and isinstance(error.args[0], int)
        ):
            return error.args[0], str(error.args[1])
    return None


class _Replies(FrameReceiver):
    """A frame receiver that keeps the last frame it handed on (else it is the one it wraps)."""

    def __init__(self, inner: FrameReceiver) -> None:  # the reader stays the inner one's
        self._inner = inner
        self.last: object = None

    async def get_frame(self) -> Any:
        received = await self._inner.get_frame()
        self.last = received[2]
        return received

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BrokerConnection(aiormq.Connection):
    """aiormq's connection, saying what the broker answered when it refuses ``Connection.Open``.

    aiormq turns a ``Connection.Close`` in answer to ``Connection.Open`` (a missing vhost, no
    permission on it) into ``InvalidFrameError("Expected one of ['Connection.OpenOk'], got
    <Connection.Close object at ...>")``: the reply code and text are lost. Its handshake sends
    every request and reads the answer through ``_rpc``; here ``_rpc`` reads through a receiver
    that keeps the last frame, and a ``Connection.Close`` it finds there behind aiormq's error is
    raised as ``ConnectionClosed(code, text)``, as aiormq itself does for one after ``StartOk``.
    Should aiormq stop calling ``_rpc`` this way, the reply is lost again and the error falls back
    to "the broker refused to open the connection" (and is retried): the test with a real broker
    and a missing vhost (tests/transport/test_connect_errors.py) catches that.
    """

    @staticmethod
    async def _rpc(
        request: Frame,
        writer: asyncio.StreamWriter,
        frame_receiver: FrameReceiver,
        wait_response: bool = True,
    ) -> Any:
        replies = _Replies(frame_receiver)
        try:
            return await aiormq.Connection._rpc(
                request, writer=writer, frame_receiver=replies, wait_response=wait_response
            )
        except aiormq.exceptions.InvalidFrameError as exc:
            close = replies.last
            if isinstance(close, Connection.Close):
                code = int(close.reply_code or 0)
                raise aiormq.exceptions.ConnectionClosed(code, str(close.reply_text or "")) from exc
            raise


async def connect(url: str) -> aiormq.abc.AbstractConnection:
    """``aiormq.connect(url)`` through ``BrokerConnection``, with this engine's properties.

    A peer that closes the connection at once (a proxy or load balancer in front of a broker
    that is down) is a connection closed before the handshake, whichever way aiormq finds it.
    aiormq reads the handshake's frames through a frame iterator, which raises
    ``StopAsyncIteration`` rather than an error of aiormq's when the close was read before the
    frame is asked for: on uvloop, almost always when the peer closes at once. Let through, it
    ended the link's task (it is no broker error), and the engine stayed without a broker, for
    good and without a word, until it was restarted (a chaos soak: a broker restarted behind a
    proxy). It is raised as aiormq's own error for a close before the handshake.
    """
    connection = BrokerConnection(url, client_properties=client_properties(url))
    try:
        await connection.connect()
    except StopAsyncIteration as exc:
        raise aiormq.exceptions.IncompatibleProtocolError(
            "the connection was closed before the AMQP handshake was done"
        ) from exc
    return connection


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from or during, outermost first (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


async def open_channel(
    connection: aiormq.abc.AbstractConnection, *, publisher_confirms: bool
) -> aiormq.abc.AbstractChannel:
    """A channel on ``connection``; one closed meanwhile is said as a broker error.

    aiormq refuses a channel on a closed connection with a bare ``RuntimeError``, which no loop
    here takes for the broker gone: a delivery loop that asked for its consumer's channel as the
    connection closed, before the link had run since, ended with it, so its engine delivered to
    that destination no more and every later reload of the destination files failed on the dead
    loop (found by a chaos soak whose engines were frozen past the broker's heartbeat). As
    ``AMQPConnectionError`` it is one of ``BROKER_ERRORS``: the caller waits for the link to be
    back, as for a connection lost under any other call."""
    try:
        return await connection.channel(publisher_confirms=publisher_confirms)
    except RuntimeError:
        if not connection.is_closed:
            raise
        raise aiormq.exceptions.AMQPConnectionError(
            "the connection to the message broker is closed"
        ) from None


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
        log_throttle: LogThrottle | None = None,
        setup_throttle: LogThrottle | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        setup_timeout: float = SETUP_TIMEOUT,
    ) -> None:
        self._url = url
        self._handshake_timeout = handshake_timeout
        self._setup_timeout = setup_timeout
        # A broker away for an hour is retried every 5 s: its first attempts each get a line,
        # then one a minute says how long and how many (``integrator.log_throttle``). So is a
        # broker that takes the connection and refuses the setup on it (a queue declared with
        # other arguments, in service), retried as long.
        self._unreachable = log_throttle or LogThrottle(first=UNREACHABLE_LINES)
        self._setup_failing = setup_throttle or LogThrottle(first=UNREACHABLE_LINES)
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
        # The addresses (``broker_address``) whose broker answered the handshake: a close
        # before it there later is the broker away behind a proxy, not a wrong port.
        self._answered: set[str] = set()

    def on_connect(self, hook: Hook) -> None:
        self._on_connect.append(hook)

    def on_disconnect(self, hook: Callable[[], None]) -> None:
        self._on_disconnect.append(hook)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def heartbeat(self) -> float:
        """The connection's heartbeat in seconds (0: none, or not connected): past it without a
        frame the broker closes the connection (``integrator.transport.stalls``)."""
        return float(getattr(self._connection, "heartbeat_timeout", 0) or 0)

    @property
    def connection(self) -> aiormq.abc.AbstractConnection:
        # Closed and not yet noticed (the link's task has not run since the close): as good as
        # none, a channel asked of it is refused (``open_channel``).
        if self._connection is None or not self._up.is_set() or self._connection.is_closed:
            raise TransportUnavailable("no connection to the message broker")
        return self._connection

    async def start(self, *, timeout: float = 10.0) -> None:
        """Connect (retrying until ``timeout``) and keep the connection up from then on.

        A refusal that retrying will not mend (``refused_for_good``: the user name or password,
        the vhost) ends the start at the broker's first such answer, naming it. Once connected,
        the link never gives up: the same refusal later (a password changed on the broker) is
        retried with backoff and logged like a broker that went away."""
        first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name="amqp-link")
        try:
            await asyncio.wait_for(asyncio.shield(first), timeout)
        except TransportUnavailable:
            await self.close()
            raise
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
        attempt = 0
        while True:
            attempt += 1
            try:
                async with answered_within("AMQP handshake", self._handshake_timeout):
                    connection = await connect(self._url)
            # Any failure of a connect is an attempt that failed, retried and told, not only
            # the broker's errors: one the client library was not expected to raise ended this
            # task, and with it every reconnect of the engine's life (``connect``).
            except Exception as exc:
                answered = broker_address(self._url) in self._answered
                self._last_error = describe_connect_error(exc, self._url, answered_before=answered)
                if not first.done() and refused_for_good(exc):
                    log.error(
                        "message broker refused the engine; not retrying",
                        error=self._last_error,
                        error_type=type(exc).__name__,
                        attempt=attempt,
                    )
                    first.set_exception(
                        TransportUnavailable(
                            f"message broker at {redact(self._url)} not usable: {self._last_error}"
                        )
                    )
                    return
                self._tell_unreachable(exc, attempt, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._connection = connection
            self._answered.add(broker_address(self._url))
            self.generation += 1
            try:
                self._up.set()
                for hook in self._on_connect:
                    async with answered_within("setup", self._setup_timeout):
                        await hook(connection)
            except SETUP_ENDS as exc:
                if isinstance(exc, asyncio.CancelledError) and not cancelled_elsewhere():
                    raise  # close(): the link stops
                # e.g. PRECONDITION_FAILED: a queue exists with other arguments. The reply
                # text names the queue and the argument, no message content. A call the
                # connection owed and ended as cancelled (its heartbeat ran out) is the broker
                # gone: it ended the link's task for good, as if stopped.
                self._last_error = self._setup_error(exc)
                other_arguments = isinstance(exc, aiormq.exceptions.ChannelPreconditionFailed)
                if other_arguments:
                    self._last_error += f"; {OTHER_ARGUMENTS}"
                if other_arguments and not first.done():
                    # At start, as a refused password is: waiting does not change a queue's
                    # arguments, so the start ends at once naming the way out, rather than
                    # after its whole timeout with the same words. In service it is retried
                    # (the operator may delete the queue; the engine then declares it again).
                    log.error("message broker setup refused; not retrying", error=self._last_error)
                    await self._lost()
                    first.set_exception(
                        TransportUnavailable(
                            f"message broker at {redact(self._url)} not usable: {self._last_error}"
                        )
                    )
                    return
                self._tell_setup_failed()
                await self._lost()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if not first.done():
                first.set_result(None)
            # Back after an outage: how long it lasted and the attempts it took, this one too.
            outage = self._unreachable.ended()
            back = {"down_for_s": round(outage.down_for, 1), "attempts": attempt} if outage else {}
            refused = self._setup_failing.ended()
            if refused is not None:  # and how long the setup was refused, how many times
                back |= {"setup_failed_for_s": round(refused.down_for, 1)}
                back |= {"setup_failures": refused.failures}
            log.info("message broker connected", url=redact(self._url), **back)
            backoff = self._min_backoff
            attempt = 0
            await asyncio.wait([connection.closing])  # never raises: the outcome is "closed"
            log.warning("message broker connection lost; reconnecting", **_why_closed(connection))
            await self._lost()
            await asyncio.sleep(backoff)

    def _setup_error(self, exc: BaseException) -> str:
        """A failed setup in words: the broker's reply, or no answer naming the bound."""
        if isinstance(exc, NoAnswer):
            return describe_connect_error(exc, self._url)
        if isinstance(exc, asyncio.CancelledError):
            return "the connection ended during the setup (no frame within the heartbeat's grace)"
        return f"{type(exc).__name__}: {exc}"

    def _tell_setup_failed(self) -> None:
        """Log a refused setup: in full while it is one of the first, then once a minute how
        long it has been refused and how many times."""
        line = self._setup_failing.failed()
        if line is None:
            return
        if line.full:
            log.warning("message broker setup failed", error=self._last_error)
        else:
            log.warning(
                "message broker setup still failing; retrying",
                error=self._last_error,
                failing_for_s=round(line.down_for),
                failures=line.failures,
            )

    def _tell_unreachable(self, exc: BaseException, attempt: int, backoff: float) -> None:
        """Log a failed connect: in full while it is one of the outage's first, then once a
        minute how long the broker has been away and how many attempts were made."""
        line = self._unreachable.failed()
        if line is None:
            return
        said = {"error": self._last_error, "error_type": type(exc).__name__}
        if line.full:
            log.warning(
                "message broker unreachable; retrying",
                **said,
                attempt=attempt,
                retry_in_s=round(backoff, 2),
            )
        else:
            log.warning(
                "message broker still unreachable; retrying",
                **said,
                down_for_s=round(line.down_for),
                attempts=attempt,
                retry_in_s=round(backoff, 2),
            )

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


def _why_closed(connection: aiormq.abc.AbstractConnection) -> dict[str, str]:
    """What ended a connection, for its log line: the error's type, and for the broker's own
    close (a forced close, a refused operation) its reply, which names a rule, no content; a
    heartbeat run out on a half-open network is the client's (docs/amqp.md)."""
    closing = connection.closing
    if not closing.done() or closing.cancelled() or closing.exception() is None:
        return {}
    error = closing.exception()
    said = {"error_type": type(error).__name__}
    if isinstance(error, aiormq.exceptions.AMQPError) and str(error):
        said["reply"] = str(error)[:200]
    elif isinstance(error, asyncio.CancelledError) and getattr(
        connection, "is_connection_was_stuck", False
    ):
        # aiormq gave it up: no frame came within its heartbeat's grace.
        said["cause"] = "no frame from the broker within the heartbeat's grace (half-open?)"
    return said


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
