"""A destination's TLS file gone, unreadable or broken, and back, on the scrape.

Only a reading of the destinations directory (a start, a change of a file there, SIGHUP)
judged the TLS files a destination names, and nothing reads it when only a certificate or key
changes: ``integrator_destination_file_refused`` stayed 0 while every connection failed, and,
once the directory had been read meanwhile, stayed 1 after the file was back until a SIGHUP (the
alert fired five minutes after all was well). The scrape now looks at the files itself, reading
one only when it changed (``integrator.tls_refusals``). Real files, made by openssl.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from integrator.catalog import build_catalog
from integrator.tls_refusals import TlsRefusals
from tests.delivery.support import TODAY
from tests.destinations.test_tls import _ca, _leaf
from tests.file_powers import without_file_powers
from tests.http.support import api_client
from tests.integrator.support import destination, engine_on_destinations, settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

_REFUSED = re.compile(r'^integrator_destination_file_refused\{destination="([^"]+)"\} (\S+)$')


async def refused(client: httpx.AsyncClient) -> dict[str, float]:
    """The destinations the scrape counts as refused, with their value."""
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    found = (_REFUSED.match(line) for line in answer.text.splitlines())
    return {m[1]: float(m[2]) for m in found if m is not None}


def pki(directory: Path) -> dict[str, str]:
    """A CA and a client certificate with its key, as a destination's ``tls`` names them."""
    directory.mkdir()
    _ca(directory, "ca")
    _leaf(directory, "client", "ca", "clientAuth")
    return {
        "ca_file": str(directory / "ca.pem"),
        "cert_file": str(directory / "client.pem"),
        "key_file": str(directory / "client.key"),
    }


def spoil(path: Path) -> bytes:
    """Write over ``path`` what is no certificate (a renewal gone wrong); what it held."""
    held = path.read_bytes()
    path.write_text("not a certificate\n")
    return held


def put_back(path: Path, held: bytes) -> None:
    path.write_bytes(held)


async def test_a_tls_file_gone_broken_or_back_is_seen_at_the_next_scrape_without_a_reload(
    tmp_path: Path,
) -> None:
    tls = pki(tmp_path / "pki")
    cert, away = Path(tls["cert_file"]), tmp_path / "client.pem.away"
    noord = destination("noord", 2575, providers=["p"], tls=tls)
    zuid = destination("zuid", 2576, providers=["q"])
    async with (
        engine_on_destinations(settings_for(tmp_path), noord, zuid) as engine,
        api_client(engine) as client,
    ):
        assert await refused(client) == {}

        os.rename(cert, away)  # a secret not mounted, a renewal that deleted first
        assert await refused(client) == {"noord": 1}
        assert engine.catalog.broken == {}  # nothing read the directory again
        os.rename(away, cert)
        assert await refused(client) == {}

        good = spoil(cert)  # there and readable, but does not load
        assert await refused(client) == {"noord": 1}
        put_back(cert, good)
        assert await refused(client) == {}

        # Refused by a reading while it was gone (a SIGHUP, another file's edit): the file
        # says the definition in service, so it counts as refused only while the file fails.
        os.rename(cert, away)
        await engine.reload_destinations()
        problems = engine.catalog.broken["noord"].problems
        assert {p.key for p in problems} == {"tls.cert_file", "tls.key_file"}  # needs its cert
        assert await refused(client) == {"noord": 1}
        os.rename(away, cert)
        assert await refused(client) == {}
        assert "noord" in engine.catalog.broken  # still as last read: no reload was needed


async def test_an_edit_naming_a_file_not_there_yet_stays_refused_until_it_is_read_again(
    tmp_path: Path,
) -> None:
    """Its edit is not in force, whatever its files do meanwhile: the engine runs on the last
    good definition, which names the old certificate."""
    tls = pki(tmp_path / "pki")
    settings = settings_for(tmp_path)
    noord = destination("noord", 2575, providers=["p"], tls=tls)
    async with engine_on_destinations(settings, noord) as engine, api_client(engine) as client:
        renewed = tmp_path / "pki" / "renewed.pem"
        file = settings.destinations_dir / "noord.yaml"
        file.write_text(file.read_text().replace(tls["cert_file"], str(renewed)))
        await engine.reload_destinations()
        assert "noord" in engine.catalog.broken
        assert await refused(client) == {"noord": 1}

        shutil.copy(tls["cert_file"], renewed)
        assert await refused(client) == {"noord": 1}  # the edit is still not in force

        await engine.reload_destinations()
        assert engine.catalog.destinations["noord"].tls is not None
        assert engine.catalog.destinations["noord"].tls.cert_file == renewed
        assert await refused(client) == {}


@without_file_powers
def test_a_tls_file_the_engine_may_not_read_counts_as_refused(tmp_path: Path) -> None:
    """A ``chmod`` changes no file stamp: readability is asked at every look."""
    tls = pki(tmp_path / "pki")
    noord = destination("noord", 2575, providers=["p"], tls=tls)
    catalog = build_catalog([("noord.yaml", noord)], today=TODAY)
    checks = TlsRefusals()
    key = Path(tls["key_file"])
    assert checks.refused(catalog) == []
    key.chmod(0o000)
    try:
        assert checks.refused(catalog) == ["noord"]
    finally:
        key.chmod(0o600)
    assert checks.refused(catalog) == []
