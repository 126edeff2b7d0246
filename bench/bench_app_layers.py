"""The API's own layers per request: a revision against the working tree, as ratios.

Every request the engine answers (an intake POST, a load balancer's ``/healthz``, a scrape of
``/metrics``, a console page) passes FastAPI's and Starlette's layers and the app's own rules
(its dependencies, the body and query checks) before a route does its work. Here the ASGI
application is called directly, in process, with requests that need no engine and no store,
so what is measured is those layers alone: no socket, no HTTP parsing, no other process.

The intake POST (``POST /api/v1/events``) and an authenticated ``GET /api/v1/versions`` (a
route narrowed to the caller's clusters, ``ScopeDep``) go through what ``integrator run``
serves: the server's wrappers (``UntrustedForwarding``, ``EngineApp``, ``NoStore``,
``BodyLimits``) around the app, with a bearer token (and the POST a JSON body) and every
dependency the route declares. Their engine is a stand-in (``_StandIn``, in the state of the
other cases' requests too): the token's identity
is known without a store, and intake answers at once, so the route's own work (a token read,
validation, mapping, the commit) is left out and what remains is the door. The other cases
call the app itself, as they always have.

    .venv/bin/python bench/bench_app_layers.py REV --rounds 5

Per round, one process of REV (A) and one of the working tree (B), alternately (``ab.py``);
each builds the app once, warms it, and times (``time.process_time``, CPU) ``--requests``
requests of each case in ``--blocks`` blocks, the cases taking turns, and reports each case's
least block: on a machine shared with other jobs a block is often slowed by them (caches, the
other hyperthread), never sped up. Printed: µs per request, and B's gain (A's time over B's)
as the median of the rounds with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import MutableMapping
from datetime import date
from pathlib import Path
from typing import Any

import ab

CASES: dict[str, tuple[str, str, bytes]] = {
    "GET /healthz (open)": ("GET", "/healthz", b""),
    "GET /healthz?x=1 (an unknown parameter: 422)": ("GET", "/healthz", b"x=1"),
    "GET /api/v1/versions without a token (401)": ("GET", "/api/v1/versions", b""),
}
INTAKE_CASE = "POST /api/v1/events (202, the server's wrappers, an engine stand-in)"
SCOPED_CASE = "GET /api/v1/versions with a token (200, ScopeDep, the wrappers, the stand-in)"
ANSWERS: dict[str, int] = {
    "GET /healthz (open)": 200,
    "GET /healthz?x=1 (an unknown parameter: 422)": 422,
    "GET /api/v1/versions without a token (401)": 401,
    INTAKE_CASE: 202,
    SCOPED_CASE: 200,
}
"""What each case must answer: a stand-in the app outgrew answered 500 (an engine attribute
it lacked) and was timed as the error page for weeks; now such a run stops, naming the case."""
TOKEN = "itg_bench"  # the stand-in's, known to nothing else


class _StandIn:
    """What the intake route's dependencies and the route ask of an engine, and nothing more:
    ``access.authenticate_token`` (a token's identity: intake, and a viewer's in one cluster),
    ``intake.submit`` (an accepted event, without validating, mapping or storing anything);
    for ``GET /api/v1/versions`` (a route narrowed by ``ScopeDep``) an empty catalog and a day.
    """

    def __init__(self) -> None:
        from integrator.access.permissions import Grant, Identity, IdentityKind, Role
        from integrator.catalog import Catalog
        from integrator.intake import IntakeResult

        grants = frozenset({Grant(Role.INTAKE), Grant(Role.VIEWER, "CARD")})
        self.identity = Identity(IdentityKind.TOKEN, "t-1", "token:bench", grants)
        self.result = IntakeResult("e-1", "ZD-1", False, ())
        from integrator.settings import Settings

        self.access = self
        self.tokens = self
        self.intake = self
        self.jobs = None
        self.catalog = Catalog()
        self.settings = Settings()  # the defaults: what the app's own rules read of them

    def today(self) -> date:
        return date(2026, 12, 4)

    async def authenticate_token(self, token: str) -> Any:
        return self.identity if token == TOKEN else None

    async def authenticate(self, token: str, permission: Any) -> Any:
        """``tokens.authenticate``, as the app asks it now (``http.auth``)."""
        return self.identity if token == TOKEN else None

    async def submit(self, raw: bytes, *, source: str, caller: str | None = None) -> Any:
        assert raw and caller == self.identity.display
        return self.result


def _scope(method: str, path: str, query: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


def _served_scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    """A request as an HTTP client sends it, with the stand-in's token (and ``body``)."""
    scope = _scope(method, path, b"")
    scope["headers"] = [
        (b"host", b"127.0.0.1:8080"),
        (b"user-agent", b"python-httpx/0.28.1"),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"authorization", f"Bearer {TOKEN}".encode()),
    ]
    if body:
        scope["headers"] += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return scope


async def _measure(requests: int, blocks: int) -> dict[str, Any]:
    from common import make_events

    from integrator.http.app import EngineApp, build_app
    from integrator.http.forwarded import UntrustedForwarding

    app = build_app()
    stand_in = _StandIn()
    served = UntrustedForwarding(EngineApp(app, stand_in))  # type: ignore[arg-type]
    body = make_events(1, ["bench"])[0]

    async def no_body() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def event_body() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    # The app itself, with the engine in the request's state as ``EngineApp`` puts it there
    # (the app's own rules read its settings: ``deps.state_reason``).
    cases: dict[str, tuple[Any, dict[str, Any], Any]] = {
        case: (app, {**_scope(method, path, query), "state": {"engine": stand_in}}, no_body)
        for case, (method, path, query) in CASES.items()
    }
    cases[INTAKE_CASE] = (served, _served_scope("POST", "/api/v1/events", body), event_body)
    cases[SCOPED_CASE] = (served, _served_scope("GET", "/api/v1/versions", b""), no_body)
    statuses: dict[str, set[int]] = {case: set() for case in cases}
    best: dict[str, float] = {case: float("inf") for case in cases}
    for block in range(blocks + 1):  # block 0 warms: the routes' first-match work, caches
        for case, (asgi, scope, receive) in cases.items():
            seen = statuses[case]

            async def send(message: MutableMapping[str, Any], seen: set[int] = seen) -> None:
                if message["type"] == "http.response.start":
                    seen.add(message["status"])

            count = requests // blocks
            start = time.process_time()
            for _ in range(count):
                await asgi(dict(scope), receive, send)
            took = (time.process_time() - start) / count * 1e6
            if block:
                best[case] = min(best[case], took)
    wrong = {c: sorted(s) for c, s in statuses.items() if s != {ANSWERS[c]}}
    if wrong:
        raise SystemExit(f"answered otherwise than the case is meant to: {wrong}")
    return {"source": os.getcwd(), **best, "statuses": {c: sorted(s) for c, s in statuses.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", nargs="?", help="the revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument(
        "--blocks",
        type=int,
        default=5,
        help="each process times the requests in this many blocks, the cases in turn, and "
        "reports each case's least disturbed block (the least µs per request)",
    )
    parser.add_argument("--side", action="store_true", help="(internal) measure this tree")
    options = parser.parse_args()
    if options.side:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(asyncio.run(_measure(options.requests, options.blocks))))
        return
    if options.rev is None:
        parser.error("name the revision to compare with")
    here = str(Path(__file__).resolve())
    args = [here, "--side", "--requests", str(options.requests), "--blocks", str(options.blocks)]
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with ab.sides(options.rev, None, prefix="app-layers-") as (a, b):
        for n in range(options.rounds):
            got = ab.alternate(n, a, b, lambda source: ab.run_json(args, source, name="layers"))
            rows.append(got)
            print(f"round {n + 1}: A {got[0]}\n         B {got[1]}", flush=True)
    print(ab.heading(options.rev, None, options.rounds))
    print("| request | A µs | B µs | B better by | spread |\n|---|---:|---:|---:|---|")
    for case in [*CASES, INTAKE_CASE, SCOPED_CASE]:
        a_values = [a[case] for a, _ in rows]
        b_values = [b[case] for _, b in rows]
        gain = ab.ratios(a_values, b_values, b_over_a=False)
        print(
            f"| {case} | {sorted(a_values)[len(a_values) // 2]:.0f} | "
            f"{sorted(b_values)[len(b_values) // 2]:.0f} | {gain.median:.2f}x | {gain.spread()} |"
        )


if __name__ == "__main__":
    main()
