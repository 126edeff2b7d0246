"""A destination's TLS file removed or unusable under a running engine is told in the log.

Found by an operator review: a client key removed while the engine ran was silent. Delivery
went on (on the connection open, and on new ones with the key loaded before), the scrape said
the destination's file was refused, and nothing in the log named the file, until the next start
of that destination's delivery failed every attempt. The engine now looks at the files and
tells one that stops working once, then at most once a minute, and once when it is back
(``integrator.tls_watch``). Real files made by openssl, a real mutual-TLS MLLP receiver on
loopback; the watch's clock is the test's, moved a minute on by hand.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import FILES_UNCHECKED, TlsSettings
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.tls_watch import STILL, UNUSABLE, USABLE, FileProblem, TlsFileChecks
from tests.delivery.support import DEST, TODAY, fast_destination, messages, submit
from tests.delivery.test_tls_engine import server_context
from tests.destinations.test_tls import _ca, _leaf
from tests.file_powers import without_file_powers
from tests.integrator.support import settings_for
from tests.transport.helpers import eventually

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


class Seconds:
    """A clock the test moves, counting how often it is read (once per look that fails)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki-watch")
    _ca(directory, "ca")
    _leaf(directory, "server", "ca", "serverAuth")
    _leaf(directory, "client", "ca", "clientAuth")
    return directory


def client_files(pki: Path, into: Path) -> dict[str, str]:
    """The CA, and a copy of the client's certificate and key the test may take away."""
    into.mkdir()
    shutil.copy(pki / "client.pem", into / "client.pem")
    shutil.copy(pki / "client.key", into / "client.key")
    return {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(into / "client.pem"),
        "key_file": str(into / "client.key"),
        "server_name": "localhost",
    }


def lines(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def delivered(engine: Engine, referral_data: dict[str, Any]) -> bool:
    [message_id] = await submit(engine, referral_data)
    assert await engine.wait_settled(timeout=15)
    [message] = await messages(engine, [message_id])
    return message.status == "delivered"


async def test_a_client_key_removed_under_a_running_engine_is_told_and_so_is_its_return(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    tls = client_files(pki, tmp_path / "tls")
    key, away = Path(tls["key_file"]), tmp_path / "client.key.away"
    async with MllpReceiver(ssl_context=server_context(pki, mutual=True)) as receiver:
        config = fast_destination(receiver.port, tls=tls, ack_timeout="2s")
        engine = Engine(
            settings_for(tmp_path), catalog=build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
        )
        clock = Seconds()
        engine.tls_watch.interval = 0.01
        engine.tls_watch.clock = clock
        await engine.start()
        try:
            assert await delivered(engine, referral_data)
            with capture_logs() as logs:
                os.rename(key, away)  # a secret unmounted, a renewal that deletes first
                assert await eventually(lambda: len(lines(logs, UNUSABLE)) == 1)
                [first] = lines(logs, UNUSABLE)
                assert first == {
                    "event": UNUSABLE,
                    "log_level": "warning",
                    "destination": DEST,
                    "setting": "tls.key_file",
                    "file": str(key),
                    "problem": "file does not exist",
                }

                # Delivery goes on, as the docs say: on the connection open, and on a new one
                # with the certificate and key loaded before.
                assert await delivered(engine, referral_data)
                await receiver.stop()
                await receiver.start()  # same port: the engine's connection is gone
                assert await delivered(engine, referral_data)
                assert receiver.connection_count == 2

                reads = clock.reads
                assert await eventually(lambda: clock.reads >= reads + 20)  # 20 looks more
                assert len(lines(logs, UNUSABLE)) == 1 and lines(logs, STILL) == []

                clock.now += 60  # a minute later: one line says it still is
                assert await eventually(lambda: len(lines(logs, STILL)) == 1)
                [still] = lines(logs, STILL)
                assert still["failing_for_s"] == 60 and still["file"] == str(key)
                assert still["setting"] == "tls.key_file" and still["log_level"] == "warning"

                os.rename(away, key)
                assert await eventually(lambda: len(lines(logs, USABLE)) == 1)
            [back] = lines(logs, USABLE)
            assert back == {
                "event": USABLE,
                "log_level": "info",
                "destination": DEST,
                "setting": "tls.key_file",
                "file": str(key),
                "failed_for_s": 60,
            }
            assert len(lines(logs, UNUSABLE)) == 1 and len(lines(logs, STILL)) == 1
            assert not lines(logs, "tls setup failed")
        finally:
            await engine.stop()


async def test_a_destination_started_without_its_key_names_the_file(
    tmp_path: Path, pki: Path, referral_data: dict[str, Any]
) -> None:
    """Its delivery starts without a certificate to show: every attempt fails, and the line
    that says so names the setting and the file, not only OpenSSL's reason."""
    tls = client_files(pki, tmp_path / "tls")
    key = Path(tls["key_file"])
    os.unlink(key)
    settings = TlsSettings.model_validate(tls, context=FILES_UNCHECKED)
    async with MllpReceiver(ssl_context=server_context(pki, mutual=True)) as receiver:
        config = fast_destination(receiver.port).model_copy(update={"tls": settings})
        engine = Engine(
            settings_for(tmp_path), catalog=build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
        )
        with capture_logs() as logs:
            await engine.start()
            try:
                assert await eventually(lambda: bool(lines(logs, UNUSABLE)))
            finally:
                await engine.stop()
    [failed] = lines(logs, "tls setup failed")
    assert failed["setting"] == "tls.key_file" and failed["file"] == str(key)
    assert failed["log_level"] == "error"
    assert lines(logs, UNUSABLE)[0]["file"] == str(key)


def test_each_problem_is_named_by_its_setting_and_file(tmp_path: Path, pki: Path) -> None:
    tls = client_files(pki, tmp_path / "tls")
    cert, key = Path(tls["cert_file"]), Path(tls["key_file"])
    settings = TlsSettings.model_validate(tls, context=FILES_UNCHECKED)
    checks = TlsFileChecks()
    assert checks.problem(settings) is None

    held = cert.read_bytes()
    cert.write_text("not a certificate\n")  # a renewal gone wrong
    found = checks.problem(settings)
    assert found is not None and (found.setting, found.file) == ("tls.cert_file", cert)
    assert found.problem.startswith("could not be loaded as a certificate (")

    shutil.copy(pki / "server.pem", cert)  # another certificate than the key's
    assert checks.problem(settings) == FileProblem(
        "tls.key_file", key, "could not be loaded as the key of tls.cert_file (KEY_VALUES_MISMATCH)"
    )
    cert.write_bytes(held)
    assert checks.problem(settings) is None


@without_file_powers
def test_a_key_the_engine_may_not_read_is_named(tmp_path: Path, pki: Path) -> None:
    """A ``chmod`` changes no stamp: whether a file may be read is asked at every look."""
    tls = client_files(pki, tmp_path / "tls")
    key = Path(tls["key_file"])
    settings = TlsSettings.model_validate(tls, context=FILES_UNCHECKED)
    checks = TlsFileChecks()
    assert checks.problem(settings) is None
    key.chmod(0o000)
    try:
        assert checks.problem(settings) == FileProblem("tls.key_file", key, "file is not readable")
    finally:
        key.chmod(0o600)
    assert checks.problem(settings) is None
