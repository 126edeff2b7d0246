"""TLS and mutual TLS through the whole engine, with certificates made by openssl at test time."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path
from typing import Any

import pytest

from destinations.config import FILES_UNCHECKED, TlsSettings
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.delivery.support import (
    DEST,
    TODAY,
    fast_destination,
    messages,
    start_engine,
    submit,
)
from tests.destinations.test_tls import _ca, _leaf
from tests.integrator.support import settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

FEW = {"initial": "10ms", "max_delay": "20ms", "max_attempts": 2, "max_age": "1h"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki-engine")
    _ca(directory, "ca")
    _ca(directory, "other-ca")
    _leaf(directory, "server", "ca", "serverAuth")
    _leaf(directory, "client", "ca", "clientAuth")
    return directory


def server_context(pki: Path, *, mutual: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.pem"))
    context.load_cert_chain(str(pki / "server.pem"), str(pki / "server.key"))
    context.verify_mode = ssl.CERT_REQUIRED if mutual else ssl.CERT_NONE
    return context


async def _deliver_one(
    tmp_path: Path, referral_data: dict[str, Any], receiver: MllpReceiver, tls: dict[str, str]
) -> tuple[Any, list[Any]]:
    engine = await start_engine(tmp_path, receiver.port, tls=tls, retry=FEW, ack_timeout="2s")
    try:
        [message_id] = await submit(engine, referral_data)
        assert await engine.wait_settled(timeout=15)
        [message] = await messages(engine, [message_id])
        return message, await engine.store.list_attempts(message_id)
    finally:
        await engine.stop()


async def test_server_authenticated_tls_delivers(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ssl_context=server_context(pki, mutual=False)) as receiver:
        tls = {"ca_file": str(pki / "ca.pem"), "server_name": "localhost"}
        message, attempts = await _deliver_one(tmp_path, referral_data, receiver, tls)
    assert message.status == "delivered"
    assert [(a.outcome, a.ack_code) for a in attempts] == [("delivered", "AA")]
    assert receiver.received == [message.payload]


async def test_wrong_ca_fails_each_attempt_and_is_recorded(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ssl_context=server_context(pki, mutual=False)) as receiver:
        tls = {"ca_file": str(pki / "other-ca.pem"), "server_name": "localhost"}
        message, attempts = await _deliver_one(tmp_path, referral_data, receiver, tls)
    assert message.status == "dead"  # retried (retryable) until max_attempts
    assert [a.outcome for a in attempts] == ["failed", "deadletter"]  # the last gave up
    assert all("certificate verification failed" in (a.error or "") for a in attempts)
    assert "max_attempts 2" in (message.last_error or "")
    assert receiver.received == []


async def test_mutual_tls_with_client_certificate_delivers(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ssl_context=server_context(pki, mutual=True)) as receiver:
        tls = {
            "ca_file": str(pki / "ca.pem"),
            "cert_file": str(pki / "client.pem"),
            "key_file": str(pki / "client.key"),
            "server_name": "localhost",
        }
        message, attempts = await _deliver_one(tmp_path, referral_data, receiver, tls)
    assert message.status == "delivered"
    assert [a.outcome for a in attempts] == ["delivered"]


async def test_mutual_tls_without_client_certificate_fails_the_attempts(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ssl_context=server_context(pki, mutual=True)) as receiver:
        tls = {"ca_file": str(pki / "ca.pem"), "server_name": "localhost"}
        message, attempts = await _deliver_one(tmp_path, referral_data, receiver, tls)
    assert message.status == "dead"
    assert [a.outcome for a in attempts] == ["failed", "deadletter"]
    assert all(a.error and a.ack_code is None for a in attempts)
    assert receiver.received == []


async def test_unloadable_certificate_fails_attempts_instead_of_the_engine(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    """A definition accepted with its files loading, run on after they stopped loading (the
    engine runs a broken destination on its recorded revision without looking at them)."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    tls = TlsSettings.model_validate({"ca_file": str(junk)}, context=FILES_UNCHECKED)
    async with MllpReceiver(ssl_context=server_context(pki, mutual=False)) as receiver:
        config = fast_destination(receiver.port, retry=FEW).model_copy(update={"tls": tls})
        catalog = build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
        engine = Engine(settings_for(tmp_path), catalog=catalog)
        await engine.start()
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=15)
            [message] = await messages(engine, [message_id])
            attempts = await engine.store.list_attempts(message_id)
        finally:
            await engine.stop()
    assert message.status == "dead"
    assert all((a.error or "").startswith("TlsSetupError: tls.ca_file") for a in attempts)
