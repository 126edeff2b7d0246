"""Error answers of the API: they name the parameter and the rule, never what was sent.

A BSN typed into the wrong field, a URL or a body that is not JSON must not come back in the
answer (which ends up in browser histories, proxies and tickets) nor in a log line:

- a request that fails validation gets FastAPI's usual shape, ``{"detail": [{loc, msg, type}]}``,
  without the ``input`` and ``ctx`` that FastAPI would add (they quote what was sent);
- a JSON body that cannot be read (no JSON, nested too deep) is that shape too, with ``loc``
  ``["body"]`` (``integrator.http.json_body``), also where FastAPI's own parser gave up, which
  FastAPI answers with an undocumented 400;
- a refusal of an event submission that kept it as rejected input (a 415, a 422 for a query
  parameter, a 413 of a body cut off) names the id it is kept under, in
  ``X-Integrator-Rejected-Id`` and ``rejected_id`` (``integrator.http.refused_intake``);
- an unexpected error is a plain 500 and one log line with the route and the error's type only:
  exception texts (a database driver's, say) may quote parameters. A store error's text is the
  exception: it is made without the driver's text (``integrator.store.failures``), names the
  operation, the SQLSTATE or SQLite code and, for what the operator must fix, the cause in
  words (a full disk, a database that is gone), so the log line carries it. A store that is
  down, gone or cannot be written is a 503,
  and so is a value sealed with a data key this engine was not started with (after a key
  rotation the engine was not restarted for): the answer and the log line name the key's id,
  which is no secret, so the operator knows what to configure.

While the store is unavailable every request fails the same way: the first failure of the
outage on a route gets that log line, then one line a minute sums up the rest
(``StoreOutages``), and one more says when one of its requests succeeds again. Any other
failure is logged every time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrator.destination_dir import DirectoryUnusable
from integrator.http.body_keys import UNKNOWN_KEY, keys_taken
from integrator.http.json_body import NOT_JSON, TOO_DEEP, JsonBodyRoute, bad_json
from integrator.http.limits import KEPT_KEY
from integrator.http.refused_intake import kept_under
from integrator.log_throttle import EVERY, Clock, Line, LogThrottle, Outage
from integrator.logging import get_logger
from integrator.stated_reason import NEEDED, ReasonNeeded
from integrator.store import StoreUnavailable
from integrator.store.errors import StoreError, UnknownDataKey
from integrator.transport.committed import UNAVAILABLE
from integrator.transport.errors import TransportUnavailable
from schemas.refused import REJECTED_ID_HEADER

log = get_logger("integrator.http")

WITHHELD: Final = "…"
# An error's location starts with where the value came from: FastAPI's own words.
_SOURCES: Final = frozenset({"body", "query", "path", "header", "cookie"})
WELL_KNOWN: Final = frozenset({"bsn", "patient_bsn", "burgerservicenummer", "Authorization"})
"""Keys the API declares nowhere but names when sent: a BSN put where none goes (``?bsn=``),
refused with where a BSN is searched instead (``integrator.http.query``); and the
``Authorization`` header, which the OpenAPI document declares as the bearer security scheme,
not as a parameter (given twice it was named ``…``, where product.md §7 names it)."""


def without_values(text: str, values: Iterable[object]) -> str:
    """``text`` with every given value cut out: an error never repeats what was sent.

    Quoted values become ``'…'``, and any value of four characters or more still in the text
    becomes ``…`` (shorter ones are left, as they would match parts of the rule's own words).
    """
    given = sorted({str(v) for v in values if str(v)}, key=len, reverse=True)
    for value in given:
        text = text.replace(repr(value), f"'{WITHHELD}'")
    for value in given:
        if len(value) >= 4:
            text = text.replace(value, WITHHELD)
    return text


def declared_names(app: FastAPI) -> frozenset[str]:
    """Every name the API declares: the keys of its bodies and the names of its query, path
    and header parameters, read from its OpenAPI document once."""
    names = getattr(app.state, "declared_names", None)
    if not isinstance(names, frozenset):
        names = frozenset(_names_in(app.openapi()))
        app.state.declared_names = names
    return names


def _names_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from (str(name) for name in properties)
        if isinstance(node.get("in"), str) and isinstance(node.get("name"), str):
            yield node["name"]
        for value in node.values():
            yield from _names_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names_in(value)


def safe_name(key: str, known: Collection[str], *, header: bool = False) -> str:
    """A key as it may be shown: one of ``known`` (the names the API declares,
    ``declared_names``; a header's in any case) or of ``WELL_KNOWN``, else ``…``. Any other key
    could be data sent as a key (a name, a date, a BSN), also one of the API's snake_case
    shape (``jansen``, ``de_vries``), so it is never repeated."""
    if key in known or key in WELL_KNOWN:
        return key
    if header and key.lower() in {name.lower() for name in known}:
        return key
    return WITHHELD


def _public_loc(loc: Sequence[Any], known: Collection[str]) -> list[str | int]:
    """An error's location with each key as ``safe_name`` shows it (a header's as a header's);
    where the value came from (``body``, ``query``) as FastAPI says it."""
    header = bool(loc) and loc[0] == "header"
    return [
        p
        if isinstance(p, int) or (i == 0 and p in _SOURCES)
        else safe_name(str(p), known, header=header)
        for i, p in enumerate(loc)
    ]


def public_errors(errors: Sequence[Any], known: Collection[str]) -> list[dict[str, Any]]:
    """Validation errors as ``{loc, msg, type}`` without anything quoted from the request;
    a key named only when it is one of ``known`` (``safe_name``)."""
    public = []
    for error in errors:
        given = error.get("input")
        scalars = [given] if isinstance(given, str | int | float) else []
        public.append(
            {
                "loc": _public_loc(error["loc"], known),
                "msg": without_values(str(error["msg"]), scalars),
                "type": str(error["type"]),
            }
        )
    return public


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = public_errors(exc.errors(), declared_names(request.app))
    for error in errors:
        if error["type"] == "extra_forbidden" and error["loc"][:1] == ["body"]:
            # pydantic's "Extra inputs are not permitted": and which are? (body_keys)
            taken = keys_taken(request.scope.get("route"), error["loc"])
            if taken:
                error["msg"] = UNKNOWN_KEY.format(keys=", ".join(taken))
    return _with_kept(request, JSONResponse({"detail": errors}, status_code=422))


def _with_kept(request: Request, refusal: JSONResponse) -> JSONResponse:
    """``refusal`` naming the id its event submission was kept under as rejected input
    (``refused_intake.kept_under``), in ``X-Integrator-Rejected-Id`` and ``rejected_id``
    beside its ``detail``; as it is when nothing was kept. Without it, a sender of a 415 or of
    a 422 for a query parameter had no id to quote, and the docs read that as nothing kept."""
    kept = kept_under(request.state)
    if kept is None:
        return refusal
    body = json.loads(bytes(refusal.body))
    headers = {k: v for k, v in refusal.headers.items() if k != "content-length"}
    headers[REJECTED_ID_HEADER] = kept
    return JSONResponse({**body, KEPT_KEY: kept}, status_code=refusal.status_code, headers=headers)


class ContainUnexpectedErrors:
    """An error no route expected becomes a 500 and one log line with its type, no text.

    Without this the server would log the traceback, whose last line is the exception's text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        status = 0

        async def send_tracked(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            log_failure(scope, exc)
            if not started:
                await _answer_for(exc)(scope, receive, send)
        else:
            if 200 <= status < 300:  # answered: a store it needed answered again
                log_store_back(scope)


def log_failure(scope: Scope, exc: Exception) -> None:
    """The one log line of a request that failed: its route's template, the error's type and,
    for a missing data key, the key's id; never the error's text, except a store error's (made
    safe by ``integrator.store.failures``: the operation, the code, the cause in words; never
    a value). The console's error pages (``integrator.console.errors``), which answer the
    store's failures as HTML, log it too.

    While the store is unavailable only the first failure of a route gets this line, then a
    summary once a minute (``StoreOutages``)."""
    method, route = _method_route(scope)
    line = None
    if isinstance(exc, StoreUnavailable):
        line = store_outages(scope).failed(method, route, exc)
        if line is None:
            return
    log.error(
        "http request failed" if line is None or line.full else STILL_FAILING,
        method=method,
        route=route,
        error_type=type(exc).__name__,
        **({} if line is None or line.full else _summary(line)),
        **({"error": str(exc)} if isinstance(exc, StoreError) else {}),
        **({"data_key": exc.kid} if isinstance(exc, UnknownDataKey) else {}),
        # The engine's own destinations directory it may not read or write: which, for the
        # operator (the log is theirs; the answer does not name the server's paths).
        **(
            {"directory": str(exc.directory), "operation": exc.operation}
            if isinstance(exc, DirectoryUnusable)
            else {}
        ),
    )


STILL_FAILING: Final = "http requests still failing: the store is unavailable"
"""The line a minute of a route's requests failing while the store is away (``StoreOutages``)."""
STORE_BACK: Final = "http requests succeed again: the store is back"


def _method_route(scope: Scope) -> tuple[str | None, str | None]:
    """The request's method and its route's template (no ids, no query): a log line's words."""
    return scope.get("method"), getattr(scope.get("route"), "path", None)


def _summary(line: Line) -> dict[str, int]:
    return {"failed": line.since_last, "failing_for_s": round(line.down_for)}


class StoreOutages:
    """The failures of a store outage, per route, method, error type and code, for the log.

    An outage is told by its first failure on each, in full, then once a minute with the count
    of requests failed meanwhile (``integrator.log_throttle``): two pollers made 53 lines in
    two minutes. The store's code is in the key so a changed cause (a dropped database made
    again, empty: 3D000, then 42P01) is told in full too. A request on the route that succeeds
    (a 2xx answer) ends its outages: the store answered it again.
    """

    def __init__(self, *, every: float = EVERY, clock: Clock = time.monotonic) -> None:
        self._every = every
        self._clock = clock
        self._routes: dict[tuple[str | None, str | None], dict[tuple[str, str | None], LogThrottle]]
        self._routes = {}

    def failed(self, method: str | None, route: str | None, exc: StoreUnavailable) -> Line | None:
        """Count a failed request; the line to log for it, or None."""
        outages = self._routes.setdefault((method, route), {})
        kind = (type(exc).__name__, exc.code)
        throttle = outages.get(kind)
        if throttle is None:
            throttle = outages[kind] = LogThrottle(first=1, every=self._every, clock=self._clock)
        return throttle.failed()

    def succeeded(self, method: str | None, route: str | None) -> Outage | None:
        """End the outage of a route whose request succeeded: its failures of every cause, and
        how long since the first; None when it had none (the usual case, one lookup)."""
        if not self._routes:
            return None
        ended = [t.ended() for t in self._routes.pop((method, route), {}).values()]
        outages = [outage for outage in ended if outage is not None]
        if not outages:
            return None
        return Outage(sum(o.failures for o in outages), max(o.down_for for o in outages))


_OUTAGES_STATE: Final = "store_outages"
"""Where an app keeps its ``StoreOutages`` (``app.state``): each app its own, so two engines
in one process (tests) do not count each other's requests."""


def store_outages(scope: Scope) -> StoreOutages:
    """The ``StoreOutages`` of the app serving ``scope`` (made at its first use)."""
    state = getattr(scope.get("app"), "state", None)
    if state is None:  # not served by Starlette: nowhere to count, each failure told in full
        return StoreOutages()
    outages = getattr(state, _OUTAGES_STATE, None)
    if not isinstance(outages, StoreOutages):
        outages = StoreOutages()
        setattr(state, _OUTAGES_STATE, outages)
    return outages


def watch_store_outages(app: Any, outages: StoreOutages) -> None:
    """Count ``app``'s store outages in ``outages`` (a test's, with its own clock)."""
    setattr(app.state, _OUTAGES_STATE, outages)


def log_store_back(scope: Scope) -> None:
    """Say that a route whose requests failed while the store was away succeeds again; not
    for an answer the route gave without the store (``store_away`` in the request's state:
    ``/metrics`` for a remembered token)."""
    if scope.get("state", {}).get("store_away"):
        return
    state = getattr(scope.get("app"), "state", None)
    outages = getattr(state, _OUTAGES_STATE, None) if state is not None else None
    if not isinstance(outages, StoreOutages):
        return
    method, route = _method_route(scope)
    outage = outages.succeeded(method, route)
    if outage is not None:
        log.info(
            STORE_BACK,
            method=method,
            route=route,
            failed=outage.failures,
            failed_for_s=round(outage.down_for),
        )


def _answer_for(exc: Exception) -> JSONResponse:
    """503 while the store is down, gone (a dropped database, one without the store's tables)
    or cannot be written (a full disk): try again, it comes back once the operator has fixed
    it, which the log line says how;
    503 for a value sealed with a key this engine lacks: it comes back when the engine is
    restarted with the key; anything else is a 500.

    ``TransportUnavailable`` reaching here was raised before anything was committed: after a
    commit, every operation that publishes catches it and succeeds with a note
    (``integrator.transport.committed``), since answering that one 503 would invite a retry
    that does the work twice. Before a commit, trying again later is the right advice.
    """
    if isinstance(exc, StoreUnavailable):
        return JSONResponse(
            {"detail": "the store is unavailable; try again later"},
            status_code=503,
            headers={"retry-after": "5"},
        )
    if isinstance(exc, TransportUnavailable):
        return JSONResponse(
            {"detail": f"{UNAVAILABLE}; try again later"},
            status_code=503,
            headers={"retry-after": "5"},
        )
    if isinstance(exc, UnknownDataKey):
        return JSONResponse({"detail": unknown_key_text(exc.kid)}, status_code=503)
    if isinstance(exc, DirectoryUnusable):
        return JSONResponse({"detail": directory_text(exc)}, status_code=503)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def directory_text(exc: DirectoryUnusable) -> str:
    """What the API says when the engine may not read or write its destinations directory:
    the operation and the permission it takes, not the path (the log line names it)."""
    return f"{exc.without_path}; the engine's log names the directory"


def unknown_key_text(kid: str) -> str:
    """What an operator must do when a stored value names a data key this engine lacks."""
    return (
        f"a stored value is sealed with data key {kid!r}, which this engine was not started "
        "with: restart it with that key in INTEGRATOR_DATA_KEYS (docs/operators.md, "
        "'Encryption at rest')"
    )


_BODY_UNREADABLE: Final = "There was an error parsing the body"
"""FastAPI's 400 for a JSON body its parser gave up on (nested too deep for it, or bytes that
are no text): not an answer of this API, which says the same as ``json_body.parse_json``."""


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _BODY_UNREADABLE:
        cause = exc.__cause__
        refusal = bad_json(TOO_DEEP if isinstance(cause, RecursionError) else NOT_JSON)
        return JSONResponse({"detail": refusal.detail}, status_code=refusal.status_code)
    answered = await http_exception_handler(request, exc)
    if isinstance(answered, JSONResponse):
        return _with_kept(request, answered)
    return answered


async def _reason_needed(request: Request, exc: Exception) -> Response:
    """A view of patient data or an export asked without ``X-Integrator-Reason`` where the
    engine requires one (``stated_reason.ReasonNeeded``): a 422 naming the header, as a
    header that breaks a reason's rule is, before anything was shown."""
    assert isinstance(exc, ReasonNeeded)
    loc = ("header", exc.named)
    return await _validation_error(
        request, RequestValidationError([{"type": "missing", "loc": loc, "msg": NEEDED}])
    )


def install_error_handlers(app: FastAPI) -> None:
    # Every route, one added later too, reads its JSON body by the API's rule (json_body).
    app.router.route_class = JsonBodyRoute
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ReasonNeeded, _reason_needed)
    app.add_middleware(ContainUnexpectedErrors)
