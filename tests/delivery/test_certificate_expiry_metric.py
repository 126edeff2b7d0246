"""The expiry of a destination's certificates, on the scrape: an expired client certificate
failed every attempt with "the receiver closed the TLS connection before answering", and
nothing said beforehand that it was about to (no metric, no line, nothing in the alerts)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from destinations.config import dump_destination
from integrator.catalog import build_catalog
from integrator.metrics import Metrics
from tests.cli_in_process import run_cli
from tests.delivery.support import TODAY
from tests.destinations.test_tls import _ca, _leaf
from tests.integrator.support import destination

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


def _not_after(path: Path) -> float:
    [certificate] = x509.load_pem_x509_certificates(path.read_bytes())
    return certificate.not_valid_after_utc.timestamp()


def _expiries(metrics: Metrics) -> dict[tuple[str, str], float]:
    [family] = [
        f
        for f in metrics.registry.collect()
        if f.name == "integrator_destination_certificate_expiry_timestamp_seconds"
    ]
    return {(s.labels["destination"], s.labels["file"]): s.value for s in family.samples}


def test_each_certificate_file_s_expiry_is_a_gauge_read_again_when_renewed(
    tmp_path: Path,
) -> None:
    _ca(tmp_path, "ca")
    _leaf(tmp_path, "client", "ca", "clientAuth")
    time.sleep(1.1)  # the renewed one's notAfter a second later: the two tell apart
    _leaf(tmp_path, "client-renewed", "ca", "clientAuth")
    assert _not_after(tmp_path / "client-renewed.pem") > _not_after(tmp_path / "client.pem")
    cert = tmp_path / "in-use.pem"
    shutil.copy(tmp_path / "client.pem", cert)
    key = tmp_path / "client.key"
    tls = {"ca_file": str(tmp_path / "ca.pem"), "cert_file": str(cert), "key_file": str(key)}
    noord = destination("noord", 2575, providers=["p"], tls=tls)
    plain = destination("zuid", 2576, providers=["q"])
    catalog = build_catalog([("noord.yaml", noord), ("zuid.yaml", plain)], today=TODAY)
    metrics = Metrics()

    metrics.observe_certificates(catalog)
    assert _expiries(metrics) == {
        ("noord", "cert_file"): _not_after(tmp_path / "client.pem"),
        ("noord", "ca_file"): _not_after(tmp_path / "ca.pem"),
    }
    assert _expiries(metrics)[("noord", "cert_file")] > datetime.now(UTC).timestamp()

    # Renewed in place (a later notAfter: the leaf made a moment later), read again.
    shutil.copy(tmp_path / "client-renewed.pem", cert)
    metrics.observe_certificates(catalog)
    assert _expiries(metrics)[("noord", "cert_file")] == _not_after(tmp_path / "client-renewed.pem")

    # Gone: no series (the destination's file is refused for it, and says so).
    cert.unlink()
    metrics.observe_certificates(catalog)
    assert ("noord", "cert_file") not in _expiries(metrics)


def test_destinations_show_says_when_its_certificates_expire(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """What the scrape says, where an operator looks at one destination: within 14 days (as
    the alert) as a warning."""
    pki = tmp_path / "pki"
    pki.mkdir()
    _ca(pki, "ca")
    _leaf(pki, "client", "ca", "clientAuth")  # valid for a day: soon
    tls = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "client.pem"),
        "key_file": str(pki / "client.key"),
    }
    noord = destination("noord", 2575, providers=["p"], tls=tls)
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    (directory / "noord.yaml").write_text(dump_destination(noord))

    shown = run_cli("destinations", "show", "noord", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    expire = json.loads(shown.stdout)["certificates_expire"]
    assert set(expire) == {"cert_file", "ca_file"}
    when = datetime.fromisoformat(expire["cert_file"]).timestamp()
    assert when == _not_after(pki / "client.pem")

    plain = run_cli("destinations", "show", "noord", env={**env, "COLUMNS": "200"})
    assert "# tls.cert_file expires 20" in plain.stdout and "(in 0 days)" in plain.stdout, (
        plain.stdout
    )
