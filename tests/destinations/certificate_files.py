"""A destination's TLS files made by openssl, one expiring soon and one not: for the pages
that say when a destination's certificates expire (the API's, the console's), beside
``tests/delivery/test_certificate_expiry_metric.py``, whose scrape says it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from tests.delivery.test_certificate_expiry_metric import _not_after
from tests.destinations.test_tls import _ca, _leaf

CA_DAYS: Final = 30
"""The CA's validity: past ``cert_expiry.SOON_DAYS``, so its expiry is no warning."""


def tls_files(directory: Path) -> dict[str, str]:
    """A destination's ``tls`` settings in ``directory``: a CA valid for ``CA_DAYS`` and a
    client certificate it signed valid for a day (so within ``SOON_DAYS``: a warning)."""
    directory.mkdir(parents=True, exist_ok=True)
    _ca(directory, "ca", days=CA_DAYS)
    _leaf(directory, "client", "ca", "clientAuth")
    return {
        "ca_file": str(directory / "ca.pem"),
        "cert_file": str(directory / "client.pem"),
        "key_file": str(directory / "client.key"),
    }


def not_after(path: str | Path) -> datetime:
    """When the certificate in ``path`` expires, as openssl wrote it."""
    return datetime.fromtimestamp(_not_after(Path(path)), UTC)
