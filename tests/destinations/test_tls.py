"""TLS and mutual TLS on loopback, with certificates made by the openssl CLI at test time."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from destinations.ack import parse_ack
from destinations.client import MllpClient
from destinations.config import (
    FILES_UNCHECKED,
    DestinationConfig,
    TlsSettings,
    destination_from_mapping,
)
from destinations.errors import ConnectFailed, DeliveryError, TlsSetupError
from destinations.receiver import MllpReceiver
from destinations.tls import client_ssl_context

from .helpers import make_message

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(directory: Path, name: str, *, days: int = 1) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        str(days),
        "-subj",
        f"/CN={name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )


def _leaf(directory: Path, name: str, ca: str, usage: str) -> None:
    (directory / f"{name}.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        f"extendedKeyUsage={usage}\n"
    )
    _openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={name}",
        cwd=directory,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.pem",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-out",
        f"{name}.pem",
        "-days",
        "1",
        "-extfile",
        f"{name}.ext",
        cwd=directory,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    _ca(directory, "ca")
    _ca(directory, "other-ca")
    _leaf(directory, "server", "ca", "serverAuth")
    _leaf(directory, "client", "ca", "clientAuth")
    return directory


def server_context(pki: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.pem"))
    context.load_cert_chain(str(pki / "server.pem"), str(pki / "server.key"))
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the client must show a certificate
    return context


def destination(port: int, tls: dict[str, str]) -> DestinationConfig:
    return destination_from_mapping(
        {
            "id": "tls-test",
            "name": "TLS test",
            "host": "127.0.0.1",
            "port": port,
            "messages": {"referral": "ref-v2"},
            "connect_timeout": "2s",
            "ack_timeout": "2s",
            "tls": tls,
        },
        source="test",
    )


async def test_mutual_tls_delivery(pki: Path) -> None:
    async with MllpReceiver(ssl_context=server_context(pki)) as receiver:
        config = destination(
            receiver.port,
            {
                "ca_file": str(pki / "ca.pem"),
                "cert_file": str(pki / "client.pem"),
                "key_file": str(pki / "client.key"),
                "server_name": "localhost",
            },
        )
        async with MllpClient.for_destination(config) as client:
            for i in range(3):
                ack = parse_ack(await client.send(make_message(f"TLS{i}")))
                assert (ack.code, ack.control_id) == ("AA", f"TLS{i}")
    assert receiver.connection_count == 1


async def test_untrusted_server_certificate_is_connect_failed(pki: Path) -> None:
    async with MllpReceiver(ssl_context=server_context(pki)) as receiver:
        config = destination(receiver.port, {"ca_file": str(pki / "other-ca.pem")})
        client = MllpClient.for_destination(config)
        with pytest.raises(ConnectFailed, match="certificate verification failed"):
            await client.send(make_message("X"))


async def test_wrong_server_name_is_connect_failed(pki: Path) -> None:
    async with MllpReceiver(ssl_context=server_context(pki)) as receiver:
        config = destination(
            receiver.port, {"ca_file": str(pki / "ca.pem"), "server_name": "his.example"}
        )
        with pytest.raises(ConnectFailed, match="certificate verification failed"):
            await MllpClient.for_destination(config).send(make_message("X"))


async def test_missing_client_certificate_fails_the_attempt(pki: Path) -> None:
    async with MllpReceiver(ssl_context=server_context(pki)) as receiver:
        config = destination(receiver.port, {"ca_file": str(pki / "ca.pem")})
        with pytest.raises(DeliveryError) as info:
            await MllpClient.for_destination(config).send(make_message("X"))
        assert info.value.retryable
    assert receiver.received == []


def test_unloadable_files_are_tls_setup_errors(tmp_path: Path, pki: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    # Refused in a definition now; met by delivery when they stopped loading after it.
    unchecked = [
        TlsSettings.model_validate(tls, context=FILES_UNCHECKED)
        for tls in (
            {"ca_file": junk},
            {"ca_file": pki / "ca.pem", "cert_file": junk, "key_file": junk},
        )
    ]
    with pytest.raises(TlsSetupError, match=r"tls\.ca_file"):
        client_ssl_context(unchecked[0])
    with pytest.raises(TlsSetupError, match=r"tls\.cert_file"):
        client_ssl_context(unchecked[1])


def test_context_verifies_and_requires_tls_12(pki: Path) -> None:
    context = client_ssl_context(TlsSettings(ca_file=pki / "ca.pem"))
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2


async def test_a_client_certificate_renewed_in_place_is_shown_at_the_next_connection(
    pki: Path, tmp_path: Path
) -> None:
    """The files renewed under the same paths (as certbot or a PKI agent does): the client
    showed the old certificate until the engine restarted, though `destinations test` used
    the new one, so deliveries failed once the old one expired. A connection made after the
    renewal shows the new one; one caught halfway (a key that does not match yet) keeps the
    last good one."""
    _leaf(pki, "client-renewed", "ca", "clientAuth")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    shutil.copy(pki / "client.pem", cert)
    shutil.copy(pki / "client.key", key)
    shown: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        shown.append(dict(pair[0] for pair in peer["subject"])["commonName"])
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context(pki))
    port = server.sockets[0].getsockname()[1]
    tls = {"ca_file": str(pki / "ca.pem"), "cert_file": str(cert), "key_file": str(key)}
    client = MllpClient.for_destination(destination(port, tls))

    async def connect_once() -> None:
        await client._connect()
        await client.close()
        await asyncio.sleep(0.05)  # the server's handler has run

    try:
        await connect_once()
        shutil.copy(pki / "client-renewed.pem", cert)  # halfway: the old key still there
        await connect_once()
        shutil.copy(pki / "client-renewed.key", key)
        await connect_once()
    finally:
        server.close()
        await server.wait_closed()
    assert shown == ["client", "client", "client-renewed"]
