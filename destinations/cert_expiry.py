"""When the certificates a destination's TLS settings name stop being valid.

An expired client certificate failed every attempt with "the receiver closed the TLS connection
before answering", and nothing said beforehand that it was about to: no metric, no line. The
engine reads each file's certificates (PEM) and gives the earliest ``notAfter``, for a gauge at
scrape time and its alert. A file is read again only when its size or change time changed
(``_stamp``), so a scrape costs a ``stat`` per file.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

Stamp = tuple[int, int, int]


class Expiries:
    """The files read so far, each with the stamp it had then; one per scrape's owner."""

    def __init__(self) -> None:
        self._read: dict[Path, tuple[Stamp, datetime | None]] = {}

    def of(self, path: Path) -> datetime | None:
        """The earliest ``notAfter`` of the PEM certificates in ``path``; None when it cannot
        be read or holds none (the destination's file is refused for it then)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        known = self._read.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        from cryptography import x509  # at the first read: not on every command's start

        try:
            certificates = x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError):
            found = None
        else:
            found = min((c.not_valid_after_utc for c in certificates), default=None)
        self._read[path] = (stamp, found)
        return found
