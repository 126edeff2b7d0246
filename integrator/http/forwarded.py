"""A request forwarded by a proxy nobody named: said once, so the operator learns why.

The client's address the audit trail records is the connection's unless the proxy it came
through is named in ``INTEGRATOR_TRUSTED_PROXIES`` (``integrator.runner``). Behind a proxy
that is not, every request's source is the proxy's, and a console behind one ending TLS
refuses its forms (their ``Origin`` is ``https://``, the request's scheme ``http``): the log
says so at the first such request, naming the proxy's address (no client's, no header's
value), and never again while the engine runs.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from integrator.logging import get_logger

log = get_logger("integrator.http")

FORWARDING: Final = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"})


class UntrustedForwarding:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._said = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self._said
            and scope["type"] == "http"
            and any(name in FORWARDING for name, _ in scope["headers"])
        ):
            self._said = True
            client = scope.get("client")
            log.warning(
                "a request came through a proxy that INTEGRATOR_TRUSTED_PROXIES does not "
                "name; its forwarded address and scheme are not believed",
                proxy=client[0] if client else None,
                setting="INTEGRATOR_TRUSTED_PROXIES",
            )
        await self.app(scope, receive, send)
