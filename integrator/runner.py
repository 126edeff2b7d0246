"""``integrator run``: the engine and its HTTP API in one process until SIGTERM or SIGINT.

The HTTP port is bound first, before the store is opened or delivery starts: a port in use (or
one the user may not bind) stops the command with one line naming the address, and "http api
listening" is logged only once the server accepts connections.

With ``INTEGRATOR_HTTP_TLS_CERT_FILE`` and ``INTEGRATOR_HTTP_TLS_KEY_FILE`` the API speaks HTTPS
only; both files are loaded before the port is bound, so a wrong path or a key that does not
fit the certificate stops the command with one line, before anything started.

SIGHUP reads the destination files again and applies them without a restart. On SIGTERM or
SIGINT the HTTP server stops taking requests, AMQP intake stops consuming, no new attempt is
started, an attempt on the wire finishes (bounded by the destination's timeouts) and is recorded
with its ACK, and the store is closed; the process exits 0. Whatever was not attempted stays
queued in the store, to be sent at the next start with the MSH-10 it already has. Every accepted
event was committed before its 202 was sent, so nothing accepted is lost. The whole stop keeps
to ``engine.stop_budget_s``: the HTTP API's requests, and a reload under way, get
``HTTP_ON_STOP_S`` (while the attempts on the wire finish) and are then cut off, said. A signal
during the engine's start ends the start (``_start``), saying what it waited for; exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import signal
import socket
import ssl
from collections.abc import Iterator

import uvicorn

from integrator.access.setup import wildcard_link_warning
from integrator.counting import counted
from integrator.engine import HTTP_ON_STOP_S, START_ON_STOP_S, Engine
from integrator.errors import IntegratorError
from integrator.gcpolicy import freeze_what_exists, tune_for_service
from integrator.http import create_app
from integrator.http.forwarded import UntrustedForwarding
from integrator.logging import get_logger
from integrator.settings import Settings

log = get_logger("integrator.run")


_REASONS = {
    # An engine already running with these settings is the likeliest holder: a second
    # `integrator run` gets here before it reads the store's record of running engines.
    errno.EADDRINUSE: (
        "the port is in use by another process, perhaps an engine already running with these "
        "settings (integrator health asks it); stop it or set INTEGRATOR_HTTP_PORT"
    ),
    errno.EACCES: "permission denied (ports below 1024 need privileges; set INTEGRATOR_HTTP_PORT)",
    errno.EADDRNOTAVAIL: "not an address of this machine (check INTEGRATOR_HTTP_HOST)",
}


class HttpPortUnavailable(IntegratorError):
    """The HTTP API cannot listen where the settings say; nothing was started."""


class HttpTlsUnavailable(IntegratorError):
    """The HTTP API's certificate or key cannot be used; nothing was started."""


class AttemptsNotRecorded(IntegratorError):
    """The engine stopped with delivery attempts the store did not take (it was down): their
    messages go out again at the next start. Not a clean stop, so ``run`` exits 1 and a
    supervisor sees a failure, not a routine stop; the log line before names the messages."""

    def __init__(self, messages: int) -> None:
        super().__init__(
            f"stopped with the attempts of {counted(messages, 'message')} not recorded (the "
            "store did not take them): they will be sent again at the next start, under the "
            "same MSH-10; the log names them"
        )


def check_http_tls(settings: Settings) -> None:
    """Load the API's certificate and key as the server will; ``HttpTlsUnavailable`` if not."""
    cert, key = settings.http_tls_cert_file, settings.http_tls_key_file
    if cert is None or key is None:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise HttpTlsUnavailable(
            f"cannot serve the HTTP API over TLS with certificate {cert} and key {key}: {reason} "
            "(check INTEGRATOR_HTTP_TLS_CERT_FILE and INTEGRATOR_HTTP_TLS_KEY_FILE)"
        ) from None


def bind_http(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` for the HTTP API, or ``HttpPortUnavailable``."""
    where = f"cannot listen on {f'[{host}]' if ':' in host else host}:{port} for the HTTP API"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise HttpPortUnavailable(f"{where}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
        raise HttpPortUnavailable(f"{where}: {reason}") from None
    return sock


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling (the engine owns SIGTERM/SIGINT) on our socket.

    It says it listens once it accepts connections on the socket ``bind_http`` made.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            log.info(
                "http api listening",
                host=self.config.host,
                port=self.config.port,
                tls=self.config.is_ssl,
            )


def exposed_in_clear(settings: Settings) -> bool:
    """Whether the HTTP API listens beyond this machine without TLS of its own and without a
    proxy named to stand in front of it (``INTEGRATOR_TRUSTED_PROXIES``, which is where a TLS
    proxy is named): passwords, second-factor codes, tokens and patient data would then cross
    the network readable. Loopback (``127.0.0.1``, ``::1``, ``localhost``) is this machine."""
    if settings.http_tls_cert_file is not None or settings.trusted_proxies is not None:
        return False
    host = settings.http_host
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: whatever it resolves to, it is meant to be reached
        return True


def _warn_of_plain_http(settings: Settings) -> None:
    """Said once, at start: the image listens on every interface (``0.0.0.0``) for its
    container's port, and an operator who published that port without a TLS proxy in front
    would otherwise learn it from nobody."""
    if exposed_in_clear(settings):
        log.warning(
            "http api reachable over the network without TLS",
            host=settings.http_host,
            problem=(
                "sign-ins, tokens and patient data cross the network readable; set "
                "INTEGRATOR_HTTP_TLS_CERT_FILE and INTEGRATOR_HTTP_TLS_KEY_FILE, or put a TLS "
                "proxy in front and name it in INTEGRATOR_TRUSTED_PROXIES"
            ),
        )


def _warn_of_wildcard_links(settings: Settings) -> None:
    """The console's and the API's invitation links are built like the CLI's, which warns of a
    wildcard address each time; those front doors answer the link without a word, so the
    engine says it once, at start, where the operator who set the address reads."""
    warning = wildcard_link_warning(settings)
    if warning is not None:
        log.warning("invitation links will not open", problem=warning)


def _warn_of_a_guessable_search_key(settings: Settings) -> None:
    """A store made with a key anyone could guess keeps it (only it finds the store's BSN
    hashes; a new store refuses one: ``integrator.store.searchcheck``): said at every start,
    where the operator reads, since its hashes can be turned back into BSNs."""
    weakness = settings.search_key_weakness()
    if weakness is not None:
        log.warning(
            "search key can be guessed",
            setting="INTEGRATOR_SEARCH_KEY",
            problem=f"{weakness}: whoever knows it can turn the store's BSN hashes back into "
            "BSNs; keep the store, its backups and its audit exports away from them",
        )


async def run_engine(engine: Engine) -> None:
    """Run ``engine`` until a signal; with its HTTP API unless it was made with ``http=False``."""
    settings = engine.settings
    http = engine.serves_http
    if http:
        check_http_tls(settings)
    listener = bind_http(settings.http_host, settings.http_port) if http else None
    try:
        await _run(engine, listener)
    finally:
        if listener is not None:
            listener.close()


async def _run(engine: Engine, listener: socket.socket | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    freeze_what_exists()  # while nothing waits on this process: the start has not begun
    if not await _start(engine, stop):
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        return
    tune_for_service()  # after start-up: what start-up built is never walked again
    reloads: set[asyncio.Task[object]] = set()

    def reload() -> None:
        task: asyncio.Task[object] = asyncio.create_task(engine.reload_destinations())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    server: _QuietServer | None = None
    server_task: asyncio.Task[None] | None = None
    if listener is not None:
        app = create_app(engine)
        config = uvicorn.Config(
            app if engine.settings.trusted_proxies else UntrustedForwarding(app),
            host=engine.settings.http_host,
            port=listener.getsockname()[1],
            log_level="warning",
            # Its records go through the engine's format (``integrator.logging``'s server
            # lines): uvicorn's own configuration printed them as plain text, an error that
            # escaped the app as a traceback over many lines ending in the error's text.
            log_config=None,
            access_log=False,
            # Chosen, not left to what happens to be installed: httptools (C) parses a request
            # for about a fifth less of the engine's CPU than h11 (bench/results/perf.md,
            # twelfth session), and the tests run against the parser the engine runs with.
            http="httptools",
            lifespan="off",
            server_header=False,  # no `server: uvicorn`: what runs here is no caller's business
            # The client's address (the audit trail's source) is the connection's, unless it
            # comes through a proxy the operator named (INTEGRATOR_TRUSTED_PROXIES).
            proxy_headers=engine.settings.trusted_proxies is not None,
            forwarded_allow_ips=engine.settings.trusted_proxies,
            ssl_certfile=engine.settings.http_tls_cert_file,
            ssl_keyfile=engine.settings.http_tls_key_file,
        )
        server = _QuietServer(config)
        server_task = asyncio.create_task(server.serve(sockets=[listener]), name="http")
        _warn_of_wildcard_links(engine.settings)
        _warn_of_plain_http(engine.settings)
        _warn_of_a_guessable_search_key(engine.settings)
    try:
        waiters = [asyncio.create_task(stop.wait())]
        if server_task is not None:
            waiters.append(server_task)  # type: ignore[arg-type]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if server_task is not None and server_task.done() and not stop.is_set():
            exc = server_task.exception()
            log.error("http api stopped unexpectedly", error_type=type(exc).__name__)
    finally:
        log.info("stopping")
        if stop.is_set():
            engine.stop_attempting()  # the attempts on the wire finish while the API stops
        until = loop.time() + HTTP_ON_STOP_S  # the API's requests and a reload alike
        if server is not None and server_task is not None:
            await _stop_http(server, server_task, until)
        await _finish_reloads(reloads, until)
        await engine.stop(graceful=stop.is_set())
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    if engine.unrecorded_at_stop:
        raise AttemptsNotRecorded(len(engine.unrecorded_at_stop))


async def _start(engine: Engine, stop: asyncio.Event) -> bool:
    """``engine.start``, unless a stop comes first: False then, once what the start had opened
    is closed again. A store or a broker that does not answer holds a start for a long time
    (a connection's timeout, a migration's lock); a supervisor's stop must not wait for it."""
    starting = asyncio.create_task(engine.start(), name="engine start")
    stopped = asyncio.create_task(stop.wait(), name="stop signal")
    try:
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if starting.done():
        starting.result()  # a start that failed says why (IntegratorError: one line)
        return True
    log.warning("stopped while starting", waiting_for=engine.starting)
    starting.cancel()
    await asyncio.wait({starting}, timeout=START_ON_STOP_S)
    if not starting.done():
        log.warning(
            "stopping: gave up waiting for the start",
            waiting_for=engine.starting,
            after_s=START_ON_STOP_S,
        )
    elif not starting.cancelled() and starting.exception() is not None:
        # It failed as it was cancelled: the stop was asked for, so that is how it ends.
        log.warning(
            "the start failed as it stopped", error_type=type(starting.exception()).__name__
        )
    await engine.stop()  # what the start had opened (the store); each step bounded
    return False


async def _finish_reloads(reloads: set[asyncio.Task[object]], until: float) -> None:
    """Let a reload under way (SIGHUP) finish until ``until``, then cancel it, saying so: one
    that waits for a store that does not answer held the stop without end. Cancelled, it
    leaves the destinations as they were or partly applied; the stop ends them all alike, and
    the next start reads the files again."""
    if not reloads:
        return
    pending = set(reloads)
    await asyncio.wait(pending, timeout=max(0.0, until - asyncio.get_running_loop().time()))
    for task in pending:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning(
                "the reload of the destinations failed",
                error_type=type(task.exception()).__name__,
            )
    left = [task for task in pending if not task.done()]
    if left:
        log.warning(
            "stopping: gave up waiting for the reload of the destinations",
            after_s=HTTP_ON_STOP_S,
        )
        for task in left:
            task.cancel()  # not awaited: the loop's end gives up on it if it does not end


async def _stop_http(server: _QuietServer, task: asyncio.Task[None], until: float) -> None:
    """Stop the HTTP server, waiting ``HTTP_ON_STOP_S`` at most for the requests in flight
    (uvicorn would wait for them without end). Those still open then are said, by count only
    (never a client's address nor a path, which may carry an id), and cut off: their connections
    aborted (the caller gets no answer, rather than a 500 it might take for the engine's, and
    may ask again: no event is accepted without its 202), their requests cancelled before the
    store closes under them."""
    if task.done():
        return  # it stopped by itself, and said so ("http api stopped unexpectedly")
    server.should_exit = True
    await asyncio.wait({task}, timeout=max(0.0, until - asyncio.get_running_loop().time()))
    if task.done():
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "http api stopped with an error", error_type=type(task.exception()).__name__
            )
        return
    state = server.server_state
    log.warning(
        "stopping: gave up waiting for the http api",
        connections=len(state.connections),
        requests=len(state.tasks),
        after_s=HTTP_ON_STOP_S,
    )
    server.force_exit = True  # uvicorn's own wait for them ends too
    task.cancel()
    _quiet_cancelled_requests()
    for connection in list(state.connections):
        # uvicorn's protocols each keep theirs (uvloop's is no ``asyncio.Transport`` subclass).
        abort = getattr(getattr(connection, "transport", None), "abort", None)
        if callable(abort):
            abort()
    for request in list(state.tasks):
        request.cancel()


class _CancelledRequests(logging.Filter):
    """Drops uvicorn's traceback of a request the stop cancelled: the warning above said it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError)
        )


def _quiet_cancelled_requests() -> None:
    logging.getLogger("uvicorn.error").addFilter(_CancelledRequests())
