"""A destination's TLS file removed or unusable under a running engine is told in the log.

Found by an operator review: a client key removed while the engine ran was silent. Delivery
went on (on the connection open, and on new ones with the key loaded before), the scrape said
the destination's file was refused, and nothing in the log named the file, until the next start
of that destination's delivery failed every attempt. The engine now looks at the files and
tells one that stops working once, then at most once a minute, and once when it is back
(``integrator.tls_watch``). Real files made by openssl, a real mutual-TLS MLLP receiver on
loopback; the watch's clock is the test's, moved a minute on by hand.

Found by a review after: it told each destination apart, so 200 destinations naming one CA file
that went away logged 200 warnings at once, 200 more each minute and 199 "usable again" lines,
and looked at the shared file once per destination per look. A file is told once, naming the
destinations it fails for; and a file no destination names any more (an edit naming another
file, the destination removed) ends its trouble as "no longer used", not "usable again".
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import FILES_UNCHECKED, DestinationConfig, TlsSettings
from destinations.receiver import MllpReceiver
from integrator.catalog import Catalog, build_catalog
from integrator.engine import Engine
from integrator.tls_watch import (
    STILL,
    UNUSABLE,
    UNUSED,
    USABLE,
    FileProblem,
    TlsFileChecks,
    TlsFileWatch,
)
from tests.delivery.support import DEST, TODAY, fast_destination, messages, submit
from tests.delivery.test_tls_engine import server_context
from tests.destinations.test_tls import _ca, _leaf
from tests.file_powers import without_file_powers
from tests.integrator.support import destination, settings_for
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
                    "file": str(key),
                    "setting": "tls.key_file",
                    "problem": "file does not exist",
                    "destinations": DEST,
                    "destination_count": 1,
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
                "file": str(key),
                "setting": "tls.key_file",
                "destinations": DEST,
                "destination_count": 1,
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


class Serving:
    """The destinations in service, as the test edits, removes and pauses them."""

    def __init__(self, *configs: DestinationConfig) -> None:
        self.catalog = Catalog()
        self.put(*configs)

    def put(self, *configs: DestinationConfig) -> None:
        self.catalog = Catalog(destinations={c.id: c for c in configs})

    def __call__(self) -> Catalog:
        return self.catalog


def trusting(dest_id: str, ca: Path, **overrides: Any) -> DestinationConfig:
    """A destination whose TLS names a CA file and nothing else (no client certificate)."""
    return destination(dest_id, 2575, providers=[dest_id], tls={"ca_file": str(ca)}, **overrides)


def counted_looks(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Every ``stat`` and ``access`` of a file from now on, by call and path (the real calls,
    counted on their way)."""
    looks: Counter[tuple[str, str]] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            looks[(name, str(path))] += 1
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "stat", counting("stat", os.stat))
    monkeypatch.setattr(os, "access", counting("access", os.access))
    return looks


def test_destinations_sharing_a_file_that_goes_away_are_told_in_one_line_a_time(
    tmp_path: Path, pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, away = tmp_path / "ca.pem", tmp_path / "ca.pem.away"
    shutil.copy(pki / "ca.pem", ca)
    one = trusting("d000", ca)
    serving = Serving(*(one.model_copy(update={"id": f"d{n:03}"}) for n in range(200)))
    clock = Seconds()
    watch = TlsFileWatch(serving, clock=clock)
    looks = counted_looks(monkeypatch)
    with capture_logs() as logs:
        watch.look()
        assert logs == []
        assert {k: n for k, n in looks.items() if k[1] == str(ca)} == {
            ("stat", str(ca)): 1,
            ("access", str(ca)): 1,
        }  # once a look, not once for each of the 200 destinations naming it

        os.rename(ca, away)
        looks.clear()
        watch.look()
        assert {k: n for k, n in looks.items() if k[1] == str(ca)} == {("stat", str(ca)): 1}
        first_ids = ", ".join(f"d{n:03}" for n in range(10))
        assert logs == [
            {
                "event": UNUSABLE,
                "log_level": "warning",
                "file": str(ca),
                "setting": "tls.ca_file",
                "problem": "file does not exist",
                "destinations": f"{first_ids} and 190 more",
                "destination_count": 200,
            }
        ]

        for _ in range(5):
            watch.look()
        assert len(logs) == 1
        clock.now += 60
        watch.look()
        [still] = logs[1:]
        assert still["event"] == STILL and still["file"] == str(ca)
        assert still["failing_for_s"] == 60 and still["destination_count"] == 200

        os.rename(away, ca)
        watch.look()
        watch.look()
    [back] = logs[2:]
    assert back == {
        "event": USABLE,
        "log_level": "info",
        "file": str(ca),
        "setting": "tls.ca_file",
        "destinations": f"{first_ids} and 190 more",
        "destination_count": 200,
        "failed_for_s": 60,
    }


def test_a_missing_file_no_destination_names_any_more_is_told_as_no_longer_used(
    tmp_path: Path, pki: Path
) -> None:
    """Never "usable again": the file is still gone. A removed destination that was not the
    file's last user leaves it told for the others."""
    ca, ca2, away = tmp_path / "ca.pem", tmp_path / "ca2.pem", tmp_path / "ca.pem.away"
    shutil.copy(pki / "ca.pem", ca)
    shutil.copy(pki / "ca.pem", ca2)
    noord, zuid = trusting("noord", ca), trusting("zuid", ca)
    serving = Serving(noord, zuid)
    clock = Seconds()
    watch = TlsFileWatch(serving, clock=clock)
    os.rename(ca, away)
    with capture_logs() as logs:
        watch.look()
        [first] = lines(logs, UNUSABLE)
        assert first["destinations"] == "noord, zuid" and first["destination_count"] == 2

        serving.put(noord)  # zuid removed: noord still names the file
        watch.look()
        assert len(logs) == 1
        clock.now += 60
        watch.look()
        [still] = lines(logs, STILL)
        assert still["destinations"] == "noord" and still["destination_count"] == 1

        clock.now += 30
        serving.put(trusting("noord", ca2))  # edited to name another file, which is there
        watch.look()
        watch.look()
    assert lines(logs, USABLE) == []
    [unused] = lines(logs, UNUSED)
    assert unused == {
        "event": UNUSED,
        "log_level": "info",
        "file": str(ca),
        "setting": "tls.ca_file",
        "problem": "file does not exist",
        "failed_for_s": 90,
    }
    assert len(logs) == 3


def test_a_paused_destinations_files_are_watched_as_its_resume_would_load_them(
    tmp_path: Path, pki: Path
) -> None:
    ca = tmp_path / "ca.pem"
    shutil.copy(pki / "ca.pem", ca)
    serving = Serving(trusting("noord", ca, enabled=False))
    watch = TlsFileWatch(serving, clock=Seconds())
    ca.unlink()
    with capture_logs() as logs:
        watch.look()
        serving.put()  # removed, its file's last user
        watch.look()
    assert [(e["event"], e["file"]) for e in logs] == [(UNUSABLE, str(ca)), (UNUSED, str(ca))]


def test_a_file_not_loaded_while_the_one_beside_it_is_missing_is_not_said_usable(
    tmp_path: Path, pki: Path
) -> None:
    """A renewal that writes a certificate not of the key, then deletes it to write it again:
    the key is not loaded while the certificate is gone, so nothing says it is usable."""
    tls = client_files(pki, tmp_path / "tls")
    cert, key = Path(tls["cert_file"]), Path(tls["key_file"])
    config = destination(DEST, 2575, providers=[DEST], tls=tls)
    watch = TlsFileWatch(Serving(config), clock=Seconds())
    with capture_logs() as logs:
        shutil.copy(pki / "server.pem", cert)  # not the key's certificate
        watch.look()
        cert.unlink()
        watch.look()
        assert lines(logs, USABLE) == []  # the key was not loaded: nothing says it works
        shutil.copy(pki / "client.pem", cert)
        watch.look()
    mismatch = "could not be loaded as the key of tls.cert_file (KEY_VALUES_MISMATCH)"
    assert [(e["event"], e["file"], e["problem"]) for e in logs if "problem" in e] == [
        (UNUSABLE, str(key), mismatch),
        (UNUSABLE, str(cert), "file does not exist"),
    ]
    assert [(e["event"], e["file"]) for e in logs if "problem" not in e] == [
        (USABLE, str(key)),  # by path: client.key, client.pem
        (USABLE, str(cert)),
    ]
