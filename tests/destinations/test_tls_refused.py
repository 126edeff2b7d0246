"""A receiver refusing the client's certificate (mutual TLS), said as such on real loopback
sockets: with TLS 1.3 the refusal comes after the client's handshake, once the message was
written, and read as "connection closed before the ACK arrived"; with TLS 1.2 a receiver that
drops the handshake without an alert read as a bare ``ConnectionResetError``. And TCP keepalive
under the TLS layer."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from destinations.client import MllpClient
from destinations.errors import ConnectFailed, ConnectionLost
from destinations.receiver import MllpReceiver

from .helpers import make_message
from .test_tls import _ca, _leaf, server_context

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki-refused")
    _ca(directory, "ca")
    _ca(directory, "other-ca")
    _leaf(directory, "server", "ca", "serverAuth")
    _leaf(directory, "client", "ca", "clientAuth")
    _leaf(directory, "stranger", "other-ca", "clientAuth")  # a client the receiver does not know
    return directory


def receiver_context(pki: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    """The receiver's context: a client certificate from ``ca`` required, TLS up to ``version``."""
    context = server_context(pki)
    context.maximum_version = version
    return context


def client(pki: Path, port: int, certificate: str | None) -> MllpClient:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if certificate is not None:
        context.load_cert_chain(str(pki / f"{certificate}.pem"), str(pki / f"{certificate}.key"))
    return MllpClient(
        "127.0.0.1",
        port,
        connect_timeout=5,
        ack_timeout=5,
        ssl_context=context,
        server_hostname="localhost",
    )


@contextlib.contextmanager
def alerting_receiver(context: ssl.SSLContext) -> Iterator[int]:
    """A TLS receiver that sends its alert when it refuses a handshake, as OpenSSL-based
    servers do (asyncio's own server closes without one); it reads what the client wrote
    until the client closes, so the alert is not overtaken by a reset."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def refuse(connection: socket.socket) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=True)
        with connection, contextlib.suppress(OSError):
            connection.settimeout(5)
            while True:
                try:
                    tls.do_handshake()
                except ssl.SSLWantReadError:
                    connection.sendall(outgoing.read())
                    data = connection.recv(65536)
                    if not data:
                        return
                    incoming.write(data)
                    continue
                except ssl.SSLError:
                    pass  # refused: the alert is in ``outgoing``
                connection.sendall(outgoing.read())
                break
            while connection.recv(65536):  # until the client closes
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            refuse(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("certificate", [None, "stranger"], ids=["no-certificate", "unknown-ca"])
async def test_tls13_refusal_without_an_alert_says_the_tls_connection_closed(
    pki: Path, certificate: str | None
) -> None:
    async with MllpReceiver(ssl_context=receiver_context(pki, ssl.TLSVersion.TLSv1_3)) as receiver:
        with pytest.raises(ConnectionLost) as info:
            await client(pki, receiver.port, certificate).send(make_message("X"))
    assert str(info.value) == (
        "the receiver closed the TLS connection before answering "
        "(was the client certificate missing or refused?)"
    )
    assert info.value.retryable
    assert receiver.received == []


@pytest.mark.parametrize(
    ("certificate", "alert"),
    [(None, "TLSV13_ALERT_CERTIFICATE_REQUIRED"), ("stranger", "TLSV1_ALERT_UNKNOWN_CA")],
    ids=["no-certificate", "unknown-ca"],
)
async def test_tls13_refusal_with_an_alert_names_it(
    pki: Path, certificate: str | None, alert: str
) -> None:
    refusing = alerting_receiver(receiver_context(pki, ssl.TLSVersion.TLSv1_3))
    with refusing as port, pytest.raises(ConnectionLost) as info:
        await client(pki, port, certificate).send(make_message("X"))
    assert str(info.value) == (
        f"the receiver closed the TLS connection before answering: {alert} "
        "(was the client certificate missing or refused?)"
    )


async def test_tls12_handshake_dropped_says_so(pki: Path) -> None:
    async with MllpReceiver(ssl_context=receiver_context(pki, ssl.TLSVersion.TLSv1_2)) as receiver:
        with pytest.raises(ConnectFailed) as info:
            await client(pki, receiver.port, None).send(make_message("X"))
    assert str(info.value) == (
        f"connect to 127.0.0.1:{receiver.port} failed: the receiver closed the connection "
        "during the TLS handshake (was the client certificate missing or refused?)"
    )


async def test_tls12_refusal_with_an_alert_names_it(pki: Path) -> None:
    refusing = alerting_receiver(receiver_context(pki, ssl.TLSVersion.TLSv1_2))
    with refusing as port, pytest.raises(ConnectFailed, match=r"\(TLSV1_ALERT_UNKNOWN_CA\)"):
        await client(pki, port, "stranger").send(make_message("X"))


def test_the_alert_is_named_on_uvloop_too(pki: Path) -> None:
    """``integrator run`` uses uvloop, whose TLS transport is its own."""
    uvloop = pytest.importorskip("uvloop")

    async def refused() -> str:
        refusing = alerting_receiver(receiver_context(pki, ssl.TLSVersion.TLSv1_3))
        with refusing as port, pytest.raises(ConnectionLost) as info:
            await client(pki, port, "stranger").send(make_message("X"))
        return str(info.value)

    assert "before answering: TLSV1_ALERT_UNKNOWN_CA (was" in uvloop.run(refused())


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="no TCP_KEEPIDLE here")
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_tls_connection_has_tcp_keepalive_too(pki: Path, loop: str) -> None:
    """Keepalive is set on the TCP socket under the TLS layer, on either event loop."""

    async def options() -> tuple[int, int]:
        context = receiver_context(pki, ssl.TLSVersion.TLSv1_3)
        async with MllpReceiver(ssl_context=context) as receiver:
            sender = client(pki, receiver.port, "client")
            await sender.send(make_message("T1"))
            protocol = sender._protocol
            assert protocol is not None and protocol.transport is not None
            sock = protocol.transport.get_extra_info("socket")
            found = (
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            )
            await sender.close()
            return found

    run = pytest.importorskip("uvloop").run if loop == "uvloop" else asyncio.run
    assert run(options()) == (1, 60)
