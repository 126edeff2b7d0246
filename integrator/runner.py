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
event was committed before its 202 was sent, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import ssl
from collections.abc import Iterator

import uvicorn

from integrator.access.setup import wildcard_link_warning
from integrator.engine import Engine
from integrator.errors import IntegratorError
from integrator.gcpolicy import tune_for_service
from integrator.http import create_app
from integrator.http.forwarded import UntrustedForwarding
from integrator.logging import get_logger
from integrator.settings import Settings

log = get_logger("integrator.run")


_REASONS = {
    errno.EADDRINUSE: "the port is in use by another process (stop it or set INTEGRATOR_HTTP_PORT)",
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
            f"stopped with the attempts of {messages} message(s) not recorded (the store did not "
            "take them): they will be sent again at the next start, under the same MSH-10; the "
            "log names them"
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


def _warn_of_wildcard_links(settings: Settings) -> None:
    """The console's and the API's invitation links are built like the CLI's, which warns of a
    wildcard address each time; those front doors answer the link without a word, so the
    engine says it once, at start, where the operator who set the address reads."""
    warning = wildcard_link_warning(settings)
    if warning is not None:
        log.warning("invitation links will not open", problem=warning)


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

    await engine.start()
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
        if server is not None and server_task is not None:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server_task, timeout=5)
        for task in list(reloads):
            await task
        await engine.stop(graceful=stop.is_set())
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    if engine.unrecorded_at_stop:
        raise AttemptsNotRecorded(len(engine.unrecorded_at_stop))
