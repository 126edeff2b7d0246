"""When the certificates a destination's TLS settings name stop being valid.

An expired client certificate failed every attempt with "the receiver closed the TLS connection
before answering", and nothing said beforehand that it was about to: no metric, no line. The
engine reads each file's certificates (PEM) and gives the earliest ``notAfter``: for a gauge at
scrape time and its alert (``Expiries``, which reads a file again only when its stamp changed,
so a scrape costs a ``stat`` per file) and for ``destinations show``, the API's and the
console's destination pages (``earliest_expiry``). Each says an expiry within ``SOON_DAYS`` as
a warning (``expires_soon``), as the alert fires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Literal

from destinations.config import TlsSettings
from destinations.tls_files import FileStamp, file_stamp

ExpiryOf = Callable[[Path], datetime | None]
CertificateFile = Literal["cert_file", "ca_file"]
"""The keys of a destination's TLS settings that name certificates (``tls.cert_file``)."""

SOON_DAYS: Final = 14
"""Within this many days an expiry is a warning: where ``IntegratorCertificateExpiresSoon``
(config/prometheus/alerts.yml) fires, so ``destinations show`` and the destination pages warn
when the alert does, not a day before or after."""


def expires_soon(at: datetime, now: datetime) -> bool:
    """Whether a certificate that expires ``at`` is to be renewed now: expired already, or
    within ``SOON_DAYS`` of ``now``."""
    return at - now < timedelta(days=SOON_DAYS)


def earliest_expiry(path: Path) -> datetime | None:
    """The earliest ``notAfter`` of the PEM certificates in ``path``; None when it cannot be
    read or holds none (the destination's file is refused for it then)."""
    from cryptography import x509  # at the first read: not on every command's start

    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return None
    return min((c.not_valid_after_utc for c in certificates), default=None)


def certificate_expiries(
    tls: TlsSettings | None, of: ExpiryOf = earliest_expiry
) -> dict[str, datetime]:
    """When each certificate file ``tls`` names expires, by key (``cert_file``, ``ca_file``);
    a file that cannot be read is left out."""
    if tls is None:
        return {}
    files: tuple[tuple[CertificateFile, Path | None], ...] = (
        ("cert_file", tls.cert_file),
        ("ca_file", tls.ca_file),
    )
    found = {name: of(path) for name, path in files if path is not None}
    return {name: at for name, at in found.items() if at is not None}


class Expiries:
    """The files read so far, each with the stamp it had then; one per scrape's owner."""

    def __init__(self) -> None:
        self._read: dict[Path, tuple[FileStamp, datetime | None]] = {}

    def of(self, path: Path) -> datetime | None:
        """``earliest_expiry``, read again only when the file's stamp changed."""
        stamp = file_stamp(path)
        if stamp is None:
            return None
        known = self._read.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        found = earliest_expiry(path)
        self._read[path] = (stamp, found)
        return found
