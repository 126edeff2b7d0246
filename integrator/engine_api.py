"""The CLI as a client of the running engine's HTTP API: where it is, and the token it sends.

Commands that work on the store directly are trusted as the operating-system user
(``local:<user>``). Commands that hand their work to the running engine (``submit``,
``resend``, ``deadletter resend``, ``events route``) go through its API, which asks for an
API token like any other caller: the one in the environment variable ``INTEGRATOR_TOKEN``,
sent as ``Authorization: Bearer …``, and the audit trail records that token
(``token:<name>``). It is read here, not in ``Settings``: only these clients need it, and it
is a secret that should not show up among the engine's settings. When the engine refuses
(401, 403), the command stops with one line naming the engine that answered (a user pointed at
the wrong engine sees which one) and what to do: set a token with the role the command needs
(none was sent: 401; the one sent lacks the role: 403), or make a new one (the engine did not
accept the one sent: 401, unknown, expired or revoked) (docs/access.md).

When no engine answers, the commands work in the store instead, unless the store says an engine
is running on it elsewhere: that decision is ``integrator.presence.engine_way``.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import httpx

from integrator.errors import IntegratorError
from integrator.settings import Settings

if TYPE_CHECKING:
    # Only named: importing the access package loads the store, which `integrator health`
    # (the container's HEALTHCHECK, run every few seconds) has no use for.
    from integrator.access.permissions import Role

TOKEN_VARIABLE: Final = "INTEGRATOR_TOKEN"  # noqa: S105 (the variable's name, not a token)


class EngineRefused(IntegratorError):
    """The running engine refused the command's token: none was sent, or the one sent is not
    accepted (``accepted`` False: the engine's 401, for a token unknown, expired or revoked),
    or it lacks the role (its 403). Said apart: a mistyped or expired token that holds the
    role was told to get the role, and its holder went looking for a grant it had.

    ``needs`` is the engine's own word on a 403, when it names the permission missing
    (``this needs the messages.resend permission in cluster CARD``): the role alone does not
    say which cluster, or that the token's grant is suspended."""

    def __init__(
        self, role: Role, engine: str, *, accepted: bool = True, needs: str | None = None
    ) -> None:
        make = f"`integrator tokens create NAME --role {role.value}`"
        if accepted:
            because = f"{needs}; " if needs else ""
            said = (
                f"the engine at {engine} refused: {because}set {TOKEN_VARIABLE} to a token "
                f"with the {role.value} role; {make} makes one"
            )
        else:
            said = (
                f"the engine at {engine} refused the token in {TOKEN_VARIABLE}: it is not "
                "accepted (unknown, expired or revoked, or its owner was deactivated); "
                f"{make}, run on the server, makes a new one"
            )
        super().__init__(said)
        self.role = role
        self.engine = engine
        self.accepted = accepted


@dataclass(frozen=True)
class EngineAnswer:
    """What the running engine did (or, in a dry run, would do), and as whom.

    ``actor`` is the identity the engine works under, the token's (``token:<name>``): the CLI
    reports it, since the audit log records that name and not the operating-system user.
    """

    results: list[dict[str, Any]]
    actor: str


def engine_url(settings: Settings) -> str:
    scheme = "https" if settings.http_tls else "http"
    return f"{scheme}://{settings.http_authority}"


def engine_tls(settings: Settings) -> ssl.SSLContext:
    """How the CLI checks the engine's certificate: it must be the one configured.

    The CLI runs on the engine's server and talks to ``INTEGRATOR_HTTP_HOST`` (often
    ``127.0.0.1``, which the certificate need not name), so instead of the host name it trusts
    exactly the certificate file the engine serves, self-signed or not.
    """
    cert = settings.http_tls_cert_file
    if cert is None:
        # Plain HTTP: no certificate is ever asked for. A context that trusts nothing (it
        # would refuse any TLS peer) spares each client loading the system's CA bundle,
        # about 25 ms of CPU in every command that looks for a running engine.
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cafile=str(cert))
    return context


def auth_headers() -> dict[str, str]:
    """``Authorization: Bearer $INTEGRATOR_TOKEN``, or nothing when the variable is unset."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    return {"authorization": f"Bearer {token}"} if token else {}


def engine_client(settings: Settings, *, timeout: float) -> httpx.AsyncClient:
    """A client of the running engine's API that sends the token of ``INTEGRATOR_TOKEN``."""
    return httpx.AsyncClient(
        base_url=engine_url(settings),
        timeout=timeout,
        headers=auth_headers(),
        verify=engine_tls(settings),
    )


def check_allowed(response: httpx.Response, role: Role) -> None:
    """Raise ``EngineRefused`` naming ``role`` and the engine when it answered 401 or 403.

    A 401 to a request that sent no token is the missing token's (set one); to one that sent
    a token, the token's own: the engine never says which of unknown, expired or revoked.
    """
    if response.status_code not in (401, 403):
        return
    url = response.request.url
    engine = f"{url.scheme}://{url.netloc.decode('ascii')}"
    sent = "authorization" in response.request.headers
    if response.status_code == 401:
        raise EngineRefused(role, engine, accepted=not sent)
    raise EngineRefused(role, engine, needs=_permission_needed(response))


_NEEDS: Final = "this needs the "
"""How the engine's 403 begins when it names the permission missing (``http.auth``'s refusal,
``clusters.NotPermitted``)."""
_NEEDS_AT_MOST: Final = 500


def _permission_needed(response: httpx.Response) -> str | None:
    """The engine's 403 ``detail``, when it names the permission missing; else None.

    Only that text is passed on (permission, role, cluster and grant names, no patient data),
    and only printable and short: the answer comes over the network, and whatever answers at
    the address (a proxy's page) may send anything."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):  # not JSON, or not an object
        return None
    if (
        not isinstance(detail, str)
        or not detail.startswith(_NEEDS)
        or len(detail) > _NEEDS_AT_MOST
        or not detail.isprintable()
    ):
        return None
    return detail


async def engine_running(settings: Settings, *, timeout: float = 1.0) -> bool:
    """Whether an engine answers on the configured port (``/healthz`` needs no token) within
    ``timeout`` seconds.

    False does not mean no engine runs: ask ``integrator.presence.engine_way`` before working
    in the store instead.
    """
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=engine_tls(settings)) as client:
            response = await client.get(f"{engine_url(settings)}/healthz")
    except (httpx.HTTPError, OSError, ssl.SSLError):
        return False
    return response.status_code == 200


class LeftRunning(Exception):
    """The command stopped following a job (a signal asked it to stop); the engine goes on
    with it: ``job_id`` finds it again, ``done`` of ``total`` were done when it was left."""

    def __init__(self, job_id: str, done: int, total: int) -> None:
        super().__init__(f"job {job_id} left running at {done} of {total}")
        self.job_id, self.done, self.total = job_id, done, total


class EngineGone(IntegratorError):
    """The engine stopped answering while a command followed its job (a deploy's stop, a
    crash): said with how far the job had got and where to look, not as a traceback of a
    failed poll. What the job did is committed and audited chunk by chunk; an engine marks a
    job it did not finish ``interrupted`` when it starts again (``integrator.jobs``)."""

    def __init__(self, what: str, job_id: str, done: int, total: int) -> None:
        super().__init__(
            f"the engine stopped answering while its {what} job {job_id} ran, at {done} of "
            f"{total} (each chunk done is committed and audited; the engine marks the job "
            f"interrupted when it starts again): once it is back, GET /api/v1/jobs/{job_id} "
            "says how far it got; run the command again for the rest"
        )
        self.job_id, self.done, self.total = job_id, done, total


async def follow_job(
    client: httpx.AsyncClient,
    job: dict[str, Any],
    *,
    check: Callable[[httpx.Response], None],
    progress: Callable[[int, int], None] | None,
    what: str,
    poll: float = 0.1,
    stop: Callable[[], bool] | None = None,
) -> list[dict[str, Any]]:
    """Poll a job the engine started (``/api/v1/jobs/{id}``) to its end; its results.

    ``check`` turns a refused answer into the command's own error; ``progress(done, total)``
    drives a progress bar. A job that failed is a ``RuntimeError`` naming ``what`` it did.
    ``stop()`` true: ``LeftRunning`` (the job itself goes on in the engine). An engine that
    stops answering meanwhile (no connection, or 503 while it stops): ``EngineGone``.
    """
    while job["state"] == "running":
        if stop is not None and stop():
            raise LeftRunning(str(job["id"]), int(job["done"]), int(job["total"]))
        if progress is not None:
            progress(job["done"], job["total"])
        await asyncio.sleep(poll)
        gone = EngineGone(what, str(job["id"]), int(job["done"]), int(job["total"]))
        try:
            response = await client.get(f"/api/v1/jobs/{job['id']}")
        except httpx.TransportError as exc:
            raise gone from exc
        if response.status_code == 503:
            raise gone
        check(response)
        job = response.json()
    if job["state"] != "done":
        raise RuntimeError(f"the engine's {what} job failed: {job.get('error')}")
    if progress is not None:
        progress(job["done"], job["total"])
    results: list[dict[str, Any]] = job["results"]
    return results
