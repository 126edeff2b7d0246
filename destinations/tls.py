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
from destinations.tls_files import no_password, reason
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
