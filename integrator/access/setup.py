"""The access service as the engine and the CLI build it from the engine settings.

One place, so the running engine (API, console) and ``integrator users`` on the server make
the same links and send invitations the same way: by e-mail when ``INTEGRATOR_SMTP_HOST`` is
set, else the link is returned to pass on.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from integrator.access.known_devices import device_key
from integrator.access.mail import SmtpMailer
from integrator.access.service import AccessService, KnownClusters
from integrator.access.settings import AccessSettings
from integrator.access.sign_in_throttle import SignInThrottle
from integrator.clock import Clock
from integrator.settings import Settings
from integrator.store import Store


def public_url(settings: Settings) -> str:
    """Where people reach the engine, for links: ``INTEGRATOR_PUBLIC_URL``, else the API's own
    address (which only works for someone on the server itself)."""
    if settings.public_url:
        return settings.public_url
    scheme = "https" if settings.http_tls else "http"
    return f"{scheme}://{settings.http_authority}"


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]"})
"""Addresses that mean "every interface" to a server and nothing to a browser."""

EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example")
"""The names reserved for examples (RFC 2606, RFC 6761): a link on one reaches no console. The
systemd example file sets ``INTEGRATOR_PUBLIC_URL=https://integrator.example.org`` for the
operator to change; left as it is, every invitation pointed there."""


def _example_host(host: str | None) -> bool:
    name = (host or "").lower().rstrip(".")
    return any(name == d or name.endswith("." + d) for d in EXAMPLE_DOMAINS)


def wildcard_link_warning(settings: Settings, base_url: str | None = None) -> str | None:
    """Why a link made with these settings will not open, or None when it may: a wildcard
    address, or a domain reserved for examples (``EXAMPLE_DOMAINS``).

    Without ``INTEGRATOR_PUBLIC_URL`` (or ``base_url``) links are built on
    ``INTEGRATOR_HTTP_HOST``, which the image and the systemd example set to ``0.0.0.0`` so
    the API listens on every interface: an invitation to ``http://0.0.0.0:8080/…`` reaches
    nobody, and the person finds out only when the link fails.
    """
    base = base_url or public_url(settings)
    host = urlsplit(base).hostname
    if _example_host(host):
        return (
            f"the link uses {base}, a domain reserved for examples, which reaches no console; "
            "set INTEGRATOR_PUBLIC_URL to where people reach the console"
        )
    if base_url or settings.public_url:
        wildcard = host in WILDCARD_HOSTS
    else:
        wildcard = settings.http_host in WILDCARD_HOSTS
    if not wildcard:
        return None
    where = "the link" if base_url or settings.public_url else "INTEGRATOR_HTTP_HOST"
    return (
        f"the link uses {base}: {where} is a wildcard address, which no browser can open; "
        "set INTEGRATOR_PUBLIC_URL to where people reach the console "
        "(https://integrator.example.nl)"
    )


def smtp_mailer(settings: Settings) -> SmtpMailer | None:
    """The mailer of the ``INTEGRATOR_SMTP_*`` settings, or None when no host is set."""
    if settings.smtp_host is None or settings.smtp_from is None:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=password,
        starttls=settings.smtp_starttls,
    )


def access_service(
    store: Store,
    clock: Clock,
    settings: Settings,
    *,
    base_url: str | None = None,
    known_clusters: KnownClusters | None = None,
    sign_ins_held: Callable[[], None] | None = None,
) -> AccessService:
    """The access service on ``store``; ``base_url`` overrides where links point.

    ``known_clusters``: the clusters of the destinations in service (the engine's catalog);
    None reads the destination files as the engine does, so a grant for a cluster that no
    destination is in is refused by the CLI and the engine alike. ``sign_ins_held`` is called
    for each sign-in attempt refused for its address (the engine's metric).
    """

    async def from_files() -> frozenset[str]:
        from integrator.message_reads import configured_catalog

        catalog = await configured_catalog(store, settings)
        return frozenset(c.cluster for c in catalog.destinations.values() if c.cluster)

    return AccessService(
        store,
        clock,
        AccessSettings(base_url=base_url or public_url(settings), zone=settings.zone),
        mailer=smtp_mailer(settings),
        known_clusters=known_clusters or from_files,
        sign_ins=SignInThrottle(clock, held=sign_ins_held),
        device_key=device_key(
            settings.search_key.get_secret_value() if settings.search_key else None,
            settings.search_key_weakness(),
        ),
    )
