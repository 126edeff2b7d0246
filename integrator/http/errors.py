"""Error answers of the API: they name the parameter and the rule, never what was sent.

A BSN typed into the wrong field, a URL or a body that is not JSON must not come back in the
answer (which ends up in browser histories, proxies and tickets) nor in a log line:

- a request that fails validation gets FastAPI's usual shape, ``{"detail": [{loc, msg, type}]}``,
  without the ``input`` and ``ctx`` that FastAPI would add (they quote what was sent);
- an unexpected error is a plain 500 and one log line with the route and the error's type only:
  exception texts (a database driver's, say) may quote parameters. A store error's text is the
  exception: it is made without the driver's text (``integrator.store.failures``), names the
  operation, the SQLSTATE or SQLite code and, for what the operator must fix, the cause in
  words (a full disk, a database that is gone), so the log line carries it. A store that is
  down, gone or cannot be written is a 503,
  and so is a value sealed with a data key this engine was not started with (after a key
  rotation the engine was not restarted for): the answer and the log line name the key's id,
  which is no secret, so the operator knows what to configure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrator.destination_dir import DirectoryUnusable
from integrator.logging import get_logger
from integrator.store import StoreUnavailable
from integrator.store.errors import StoreError, UnknownDataKey
from integrator.transport.committed import UNAVAILABLE
from integrator.transport.errors import TransportUnavailable

log = get_logger("integrator.http")

WITHHELD: Final = "…"
# Every name the API declares (body keys, query and path parameters) is snake_case, as the
# intake schema's keys are (schemas.translate.SCHEMA_KEY); a test holds the OpenAPI document to
# it. A key of another shape (`Jansen`, `1961-04-12`) may be data sent as a key: not repeated.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Headers are the one exception, and only declared ones are ever validated.
_HEADER = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_DIGIT_RUN = re.compile(r"\d{5,}")


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


def safe_name(key: str, *, header: bool = False) -> str:
    """A key as it may be shown: a name of the API's shape (snake_case; a header's name when
    ``header``), or ``…`` for any other key, which could be data (a name, a date, a BSN)."""
    if (_HEADER if header else _NAME).fullmatch(key) and not _DIGIT_RUN.search(key):
        return key
    return WITHHELD


def _public_loc(loc: Sequence[Any]) -> list[str | int]:
    """An error's location with each key as ``safe_name`` shows it (a header's as a header's)."""
    header = bool(loc) and loc[0] == "header"
    return [p if isinstance(p, int) else safe_name(str(p), header=header) for p in loc]


def public_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors as ``{loc, msg, type}`` without anything quoted from the request."""
    public = []
    for error in errors:
        given = error.get("input")
        scalars = [given] if isinstance(given, str | int | float) else []
        public.append(
            {
                "loc": _public_loc(error["loc"]),
                "msg": without_values(str(error["msg"]), scalars),
                "type": str(error["type"]),
            }
        )
    return public


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": public_errors(exc.errors())}, status_code=422)


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

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            log_failure(scope, exc)
            if not started:
                await _answer_for(exc)(scope, receive, send)


def log_failure(scope: Scope, exc: Exception) -> None:
    """The one log line of a request that failed: its route's template, the error's type and,
    for a missing data key, the key's id; never the error's text, except a store error's (made
    safe by ``integrator.store.failures``: the operation, the code, the cause in words; never
    a value). The console's error pages (``integrator.console.errors``), which answer the
    store's failures as HTML, log it too."""
    route = scope.get("route")
    log.error(
        "http request failed",
        method=scope.get("method"),
        route=getattr(route, "path", None),  # the template: no ids, no query
        error_type=type(exc).__name__,
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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(ContainUnexpectedErrors)
