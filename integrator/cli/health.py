"""``integrator health``: the container's HEALTHCHECK, asking the engine on this machine.

An image has no curl, and the API may speak HTTPS with a certificate only the engine's own
settings know how to trust; this command reads the same settings as ``run`` and asks
``/healthz`` (alive) or, with ``--ready``, ``/readyz`` (the store usable; the transport's state
is named there, but a broker away does not make the engine not ready).
It needs no token and no search key, so it works before anything else is configured.
With ``--json`` a monitoring script reads the same verdict as one object, each check's state
included, instead of parsing the error line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from integrator.cli.common import JsonOption, fail, print_json, run

if TYPE_CHECKING:
    from integrator.settings import Settings


def health(
    ready: Annotated[
        bool, typer.Option("--ready", help="Ask /readyz: whether the store is usable too.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 5.0,
    as_json: JsonOption = False,
) -> None:
    """Exit 0 when the engine on INTEGRATOR_HTTP_HOST:PORT answers healthy, else 1 (naming the
    checks that failed, as "store: unavailable"). --json: {"url", "status", "healthy",
    "checks"}, "status" null when nothing answered."""
    import os

    from pydantic import ValidationError

    from integrator.engine_api import engine_url
    from integrator.settings import Settings, unknown_variables

    # Refused like every command that reads the settings (unknown variables too), but only
    # counted: the HEALTHCHECK's output is a line in `docker inspect`.
    count = len(unknown_variables(os.environ))
    settings = None
    try:
        settings = Settings()
    except ValidationError as exc:
        count += exc.error_count()
    if count or settings is None:
        fail(f"bad settings: {count} problem(s); `integrator run` names them", 2)
    path = "/readyz" if ready else "/healthz"
    status, body = run(_ask(settings, path, timeout))
    url = f"{engine_url(settings)}{path}"
    checks = _checks(body)
    if as_json:
        healthy = status == 200
        print_json({"url": url, "status": status or None, "healthy": healthy, "checks": checks})
    if status != 200:
        failing = ", ".join(f"{name}: {state}" for name, state in checks.items() if state != "ok")
        why = f" ({failing})" if failing else ""
        fail(f"{url}: {status or 'no answer'}{why}")
    if not as_json:
        typer.echo("ok")


#: At most this many characters of a check's name or state are shown (the answer is the
#: engine's, but whatever listens on the port is printed to a terminal).
_MAX_SHOWN = 40


def _checks(body: bytes) -> dict[str, str]:
    """Each check ``/readyz`` names with its state (``{"store": "unavailable"}``), from
    its JSON body (``{"status": "not ready", "checks": {...}}``: names and states only, no
    secrets), each cut to ``_MAX_SHOWN`` characters; empty when the body names none or is not
    that (``/healthz``, or something else on the port)."""
    import json

    try:
        checks = json.loads(body).get("checks")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(checks, dict):
        return {}
    return {str(name)[:_MAX_SHOWN]: str(state)[:_MAX_SHOWN] for name, state in checks.items()}


async def _ask(settings: Settings, path: str, timeout: float) -> tuple[int, bytes]:
    """The HTTP status of ``path`` and its body, or 0 when nothing answered."""
    import ssl

    import httpx

    from integrator.engine_api import engine_tls, engine_url

    try:
        async with httpx.AsyncClient(timeout=timeout, verify=engine_tls(settings)) as client:
            response = await client.get(f"{engine_url(settings)}{path}")
    except (httpx.HTTPError, OSError, ssl.SSLError):
        return 0, b""
    return response.status_code, response.content
