"""``integrator health``: the container's HEALTHCHECK, asking the engine on this machine.

An image has no curl, and the API may speak HTTPS with a certificate only the engine's own
settings know how to trust; this command reads the same settings as ``run`` and asks
``/healthz`` (alive) or, with ``--ready``, ``/readyz`` (the store usable; the transport's state
is named there, but a broker away does not make the engine not ready).
It needs no token and no search key, so it works before anything else is configured.
With ``--json`` a monitoring script reads the same verdict as one object, each check's state
included, and ``problem``, the error line's words, instead of parsing that line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from integrator.cli.common import JsonOption, environment_settings, fail, print_json, run

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
    checks that failed, as "store: unavailable", or why nothing answered, as "connection
    refused"). --json: {"url", "status", "healthy", "checks", "problem"}, "status" null when
    nothing answered, "problem" the error line's words (null when healthy)."""
    from integrator.engine_api import engine_url

    # Refused like every command that reads the settings, each problem named (never a value):
    # a probe that only counted them sent the operator to start the engine to learn which.
    settings = environment_settings()
    path = "/readyz" if ready else "/healthz"
    status, body, unanswered = run(_ask(settings, path, timeout))
    url = f"{engine_url(settings)}{path}"
    checks = _checks(body)
    problem = None if status == 200 else _problem(status, checks, unanswered)
    if as_json:
        print_json(
            {
                "url": url,
                "status": status or None,
                "healthy": problem is None,
                "checks": checks,
                "problem": problem,
            }
        )
    if problem is not None:
        fail(f"{url}: {problem}")
    if not as_json:
        typer.echo("ok")


def _problem(status: int, checks: dict[str, str], unanswered: str) -> str:
    """What is wrong, as the error line says it after the URL: ``503 (store: unavailable)``,
    or ``no answer (connection refused)``."""
    if not status:
        return f"no answer ({unanswered})"
    failing = ", ".join(f"{name}: {state}" for name, state in checks.items() if state != "ok")
    return f"{status} ({failing})" if failing else str(status)


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


async def _ask(settings: Settings, path: str, timeout: float) -> tuple[int, bytes, str]:
    """The HTTP status of ``path`` and its body; or 0, nothing, and why nothing answered
    (``_unanswered``)."""
    import ssl

    import httpx

    from integrator.engine_api import engine_tls, engine_url

    try:
        async with httpx.AsyncClient(timeout=timeout, verify=engine_tls(settings)) as client:
            response = await client.get(f"{engine_url(settings)}{path}")
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        return 0, b"", _unanswered(exc, timeout)
    return response.status_code, response.content, ""


def _unanswered(exc: BaseException, timeout: float) -> str:
    """The kind of failure, in words, from the exception and what caused it: "connection
    refused" (nothing listens on the port: the engine is not running, or on another port) asks
    for something else than "the host name does not resolve" or a certificate not trusted.
    Only the kind: the error's own text may hold the address, said once in the line already."""
    import socket
    import ssl

    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in causes:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    for found in causes:
        if isinstance(found, ssl.SSLCertVerificationError):
            return "TLS: the engine's certificate is not trusted"
        if isinstance(found, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(found, ConnectionRefusedError):
            return "connection refused"
        if isinstance(found, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(found, httpx.RemoteProtocolError):
            return "not an HTTP answer"
    return f"connection failed ({type(exc).__name__})"
