"""``integrator health``: the container's HEALTHCHECK, asking the engine on this machine.

An image has no curl, and the API may speak HTTPS with a certificate only the engine's own
settings know how to trust; this command reads the same settings as ``run`` and asks
``/healthz`` (alive) or, with ``--ready``, ``/readyz`` (store and transport reachable).
It needs no token and no search key, so it works before anything else is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from integrator.cli.common import fail, run

if TYPE_CHECKING:
    from integrator.settings import Settings


def health(
    ready: Annotated[
        bool, typer.Option("--ready", help="Ask /readyz: the store and transport too.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 5.0,
) -> None:
    """Exit 0 when the engine on INTEGRATOR_HTTP_HOST:PORT answers healthy, else 1."""
    from pydantic import ValidationError

    from integrator.engine_api import engine_url
    from integrator.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        fail(f"bad settings: {exc.error_count()} problem(s); `integrator run` names them", 2)
    path = "/readyz" if ready else "/healthz"
    status = run(_ask(settings, path, timeout))
    if status != 200:
        fail(f"{engine_url(settings)}{path}: {status or 'no answer'}")
    typer.echo("ok")


async def _ask(settings: Settings, path: str, timeout: float) -> int:
    """The HTTP status of ``path``, or 0 when nothing answered."""
    import ssl

    import httpx

    from integrator.engine_api import engine_tls, engine_url

    try:
        async with httpx.AsyncClient(timeout=timeout, verify=engine_tls(settings)) as client:
            response = await client.get(f"{engine_url(settings)}{path}")
    except (httpx.HTTPError, OSError, ssl.SSLError):
        return 0
    return response.status_code
