"""Intake submissions the API refuses before intake reads them, kept as rejected input.

Bad input never disappears (docs/product.md §2): an event body refused because it is too large
(413, ``integrator.http.limits``), not sent as JSON or declared in a charset other than UTF-8
(415, ``integrator.http.media``), or sent with query parameters, which it takes none of (422,
``integrator.http.query``) is kept
as a rejected event like a body that broke a rule, by the same service
(``Intake.keep_rejected``): the same record, log line and metric, so support finds it. Only for
``POST /api/v1/events``; other routes take no input that needs keeping.

- Only for a caller who may submit events. A 413 for a declared size comes before any
  dependency runs, so who asks is found here with the same check (``auth.permitted_caller``);
  a body cut off while it was read, or a 415, comes after ``authorize``, whose identity is on
  the request. A caller without a valid token leaves nothing: anybody could otherwise fill the
  store with rows.
- A body too large is not kept (it may be gigabytes): the record's raw input is empty and its
  rule says so, with the limit and the size declared or seen. A body not sent as JSON is kept
  as it arrived; it is bounded by the size limit, which was checked while it was read.
- Keeping the record never changes the answer: when the store cannot take it, the refusal is
  still answered and the failure logged (by kind only).
- Every refusal that kept the input says the id it is kept under: ``X-Integrator-Rejected-Id``,
  and ``rejected_id`` beside its ``detail``. The id is noted in the request's state
  (:func:`kept_under`), where the answer is made (``integrator.http.errors``,
  ``integrator.http.limits``); a 415 or a 422 for a query parameter carried none, while a 413
  did, and docs/product.md tells senders that no id means nothing was kept.
- A submission with an ``Idempotency-Key`` is refused first (``integrator.http.idempotency``)
  and never kept, also when its declared size is refused: it changes nothing, so a client
  whose helper sends one learns the rule and keeps no rows behind it.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request
from starlette.datastructures import State
from starlette.types import Scope

from integrator.access.permissions import Identity
from integrator.http.auth import permitted_caller, route_key
from integrator.http.limits import EVENTS_PATH
from integrator.http.served import engine_of
from integrator.logging import get_logger
from integrator.store import RejectedKeys
from schemas import FieldError
from schemas.refused import not_json, not_utf8, too_large, with_query

log = get_logger("integrator.http")

INTAKE: Final = ("POST", EVENTS_PATH)
SOURCE: Final = "http"
IDEMPOTENCY_KEY: Final = "idempotency-key"
"""The header ``POST /api/v1/events`` refuses (``integrator.http.idempotency``)."""
KEPT: Final = "rejected_id"
"""Where ``_keep`` notes the id in the request's state (``kept_under`` reads it)."""


def is_intake(request: Request) -> bool:
    """Whether ``request`` is an event submission (the route intake answers)."""
    return (request.method, request.url.path.rstrip("/")) == INTAKE


async def body_refused(scope: Scope, limit: int, size: int, declared: bool) -> str | None:
    """``BodyLimits``' ``refused``: a submission answered with 413 (``keep_too_large``); the
    id it is kept under, for the answer's ``X-Integrator-Rejected-Id``."""
    return await keep_too_large(Request(scope), limit=limit, size=size, declared=declared)


async def keep_too_large(request: Request, *, limit: int, size: int, declared: bool) -> str | None:
    """Keep a submission refused with 413, without its body, if its caller may submit; the id
    it is kept under, or None when it is not kept.

    ``declared``: refused by its ``Content-Length`` before any dependency ran, so the caller is
    authenticated here; otherwise cut off while the route read it, after ``authorize``.
    """
    if not is_intake(request) or IDEMPOTENCY_KEY in request.headers:
        return None
    caller = await _caller(request) if declared else _authorized(request)
    if caller is None:
        return None
    error = too_large(limit=limit, size=size, declared=declared)
    return await _keep(request, caller, b"", error, RejectedKeys())


async def keep_not_json(request: Request) -> str | None:
    """Keep a submission refused with 415, its body as it arrived; ``authorize`` ran first.
    The id it is kept under (noted for the answer too), or None."""
    return await _keep_as_arrived(request, not_json(request.headers.get("content-type")))


async def keep_not_utf8(request: Request) -> str | None:
    """Keep a submission refused with 415 for a charset other than UTF-8, as it arrived."""
    return await _keep_as_arrived(request, not_utf8(request.headers.get("content-type")))


async def keep_with_query(request: Request) -> str | None:
    """Keep a submission refused with 422 for query parameters (``query.
    refuse_unclear_parameters``: the intake route takes none), its body as it arrived;
    ``authorize`` ran first. A valid referral sent with a proxy's cache-buster was answered
    422 and left nothing for support to find. (The same check refuses a header the route
    reads given twice; the intake route reads none but ``Authorization``, which ``authorize``
    answers first, so a refusal without a query is not kept under the query's rule.)"""
    if request.query_params:
        return await _keep_as_arrived(request, with_query())
    return None


def kept_under(state: State) -> str | None:
    """The id this request's submission was kept under as rejected input, for its answer;
    None when nothing was kept."""
    kept: str | None = getattr(state, KEPT, None)
    return kept


async def _keep_as_arrived(request: Request, error: FieldError) -> str | None:
    """Keep an event submission the app refused after ``authorize``, its body as it arrived,
    with ``error``; nothing for another route, for a caller not authorized, or for one that
    sent an ``Idempotency-Key`` (refused for it before this is asked)."""
    caller = _authorized(request)
    if route_key(request) != INTAKE or caller is None or IDEMPOTENCY_KEY in request.headers:
        return None
    return await _keep(request, caller, await request.body(), error, None)


async def _caller(request: Request) -> Identity | None:
    try:
        return await permitted_caller(request, INTAKE)
    except Exception as exc:  # the store is away: the 413 is answered all the same
        log.error("refused submission not kept", reason="caller", error_type=type(exc).__name__)
        return None


def _authorized(request: Request) -> Identity | None:
    identity: Identity | None = getattr(request.state, "identity", None)
    return identity


async def _keep(
    request: Request, caller: Identity, raw: bytes, error: FieldError, keys: RejectedKeys | None
) -> str | None:
    engine = engine_of(request)
    try:
        kept = await engine.intake.keep_rejected(
            raw, SOURCE, [error], keys=keys, caller=caller.display
        )
    except Exception as exc:  # the refusal is answered whatever happens here
        log.error("refused submission not kept", rule=error.rule, error_type=type(exc).__name__)
        return None
    setattr(request.state, KEPT, kept)
    return kept
