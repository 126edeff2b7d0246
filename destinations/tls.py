"""TLS for MLLP connections: the destination's CA, and a client certificate for mutual TLS.

Verification is never switched off: a hospital link without a verified peer is not a secure
link, so there is deliberately no "insecure" option. Without ``ca_file`` the system trust store
is used. ``server_name`` is not part of the context; the client passes it as
``server_hostname`` (``MllpClient.for_destination`` does that).
"""

from __future__ import annotations

import ssl

from destinations.config import TlsSettings
from destinations.errors import TlsSetupError
from destinations.tls_files import FileStamp, file_stamp, no_password, reason
from shapes import TEXT, Shape

# Why the TLS files could not be used (``shapes``): ``reason`` is the system's own words.
NOT_LOADED = Shape(
    "delivery.tls_not_loaded",
    "{files} could not be loaded ({reason})",
    files=r"tls\.ca_file|tls\.cert_file/tls\.key_file",
    reason=TEXT,
)


def client_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """A verifying client context (TLS 1.2 or newer) from the destination's TLS settings."""
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=str(tls.ca_file) if tls.ca_file is not None else None,
        )
    except (OSError, ValueError) as exc:
        raise TlsSetupError(NOT_LOADED(files="tls.ca_file", reason=reason(exc))) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.cert_file is not None:
        try:
            context.load_cert_chain(
                str(tls.cert_file),
                str(tls.key_file) if tls.key_file is not None else None,
                password=no_password,
            )
        except (OSError, ValueError) as exc:
            files = "tls.cert_file/tls.key_file"
            raise TlsSetupError(NOT_LOADED(files=files, reason=reason(exc))) from exc
    return context


def _stamp(tls: TlsSettings) -> tuple[FileStamp | None, ...]:
    """The stamps of the TLS files (``file_stamp``): a change in any makes a new context."""
    return tuple(
        file_stamp(path) if path is not None else None
        for path in (tls.ca_file, tls.cert_file, tls.key_file)
    )


class RenewedTlsContext:
    """The destination's client context, made again at a new connection once one of its files
    changed: a certificate renewed in place (the same path, as certbot or a PKI's agent does
    it) was presented only after a restart of the engine, while ``destinations test`` already
    used the new one, so deliveries failed with a certificate that had expired.

    The files are looked at (one ``stat`` each) only when a connection is made; connections
    are kept open, so that is rare. Files that do not load (caught halfway through a renewal:
    the certificate copied, the key not yet) leave the last good context in use, and are tried
    again at the next connection.
    """

    __slots__ = ("_context", "_seen", "_tls")

    def __init__(self, tls: TlsSettings) -> None:
        self._tls = tls
        self._seen = _stamp(tls)
        self._context = client_ssl_context(tls)

    def current(self) -> ssl.SSLContext:
        seen = _stamp(self._tls)
        if seen != self._seen:
            try:
                self._context = client_ssl_context(self._tls)
            except TlsSetupError:
                return self._context  # halfway through a renewal, or broken: the last good one
            self._seen = seen
        return self._context
