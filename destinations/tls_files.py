"""Whether the files a destination names under ``tls`` load as what they are named for.

Checked when a definition is written or read from its file (``destinations.config``: refused
there, naming the key), and again by delivery each time it sets up TLS (``destinations.tls``),
since a file may be replaced or removed under a definition that was accepted. One place, so
both say the same thing in the same words. A key protected by a passphrase is refused rather
than asked for: OpenSSL would otherwise prompt on the engine's terminal and wait for ever.
"""

from __future__ import annotations

import os
import re
import ssl
from pathlib import Path


def ca_problem(ca_file: Path) -> str | None:
    """Why ``ca_file`` holds no certificate to trust (the system's words); None if it does."""
    try:
        ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    except (OSError, ValueError) as exc:
        return reason(exc)
    return None


def pair_problem(cert_file: Path, key_file: Path | None) -> str | None:
    """Why ``cert_file`` (with ``key_file``, else a key in the same file) is no certificate and
    matching key; None if it is."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(
            str(cert_file), str(key_file) if key_file is not None else None, password=no_password
        )
    except (OSError, ValueError) as exc:
        return reason(exc)
    return None


def no_password() -> bytes:
    """The passphrase OpenSSL is given for a key: none, so an encrypted key fails to load
    instead of prompting on the terminal."""
    return b""


_WHERE = re.compile(r"\s*\(_ssl\.c:\d+\)$")


def reason(exc: Exception) -> str:
    """The system's reason, never the file's content: OpenSSL's name for it (``KEY_VALUES_
    MISMATCH``), else its words without the source line, else the kind of error."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return _WHERE.sub("", exc.strerror)
    return type(exc).__name__


FileStamp = tuple[int, int, int]


def file_stamp(path: Path) -> FileStamp | None:
    """What tells a file's content changed without reading it: its inode, size and change
    time (None when it cannot be looked at). A renewal writes the file anew or over it, and
    either changes this; the TLS context and the certificates' expiry are made again then."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
