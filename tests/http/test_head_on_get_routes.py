"""Every ``GET`` route of the API answers ``HEAD`` as its ``GET``, without the body (RFC 9110
§9.3.2): the same status, headers and ``Content-Length``, behind the same permission. It was a 405
on every route but the probes.

The body is looked for where the application hands it over (its ASGI messages): a client
library, like a server, drops a ``HEAD``'s body, so it could not tell. The CSV exports export
nothing for a ``HEAD``: no rows read, no ``*.export`` audit entry for a file that never left. A
``HEAD`` of a message, an event or rejected input records no view of patient data: none of it
leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Message

from integrator.access import Grant, Permission
from integrator.access.routes import ROUTE_PERMISSIONS
from integrator.http.app import EngineApp
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store import AuditFilter, Store
from tests.http.test_access import World, filled, lacking, world  # noqa: F401 (the fixture)
from tests.http.test_store_failures import engine_on, serving

GET_ROUTES = sorted(
    path
    for method, path in ROUTE_PERMISSIONS
    if method == "GET" and ("HEAD", path) not in ROUTE_PERMISSIONS
)
"""Every ``GET`` route but the probes, which declare their ``HEAD`` (test_head_probes.py)."""
EXPORTS = [path for path in GET_ROUTES if path.endswith(".csv")]
VIEWED = {
    "/api/v1/messages/{message_id}",
    "/api/v1/events/{event_id}",
    "/api/v1/rejected/{rejected_id}",
}
"""The routes whose ``GET`` shows patient data, each recorded as a view."""
CHANGING = {"/metrics"}
"""Whose body changes from one request to the next (counters), so its length may too."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def asked(
    app: EngineApp, method: str, url: str, headers: Sequence[tuple[str, str]] = ()
) -> Answer:
    """``method url`` as the server hands it to the application; what the application sends
    back, every byte of the body it sends included."""
    path, _, query = url.partition("?")
    sent: list[Message] = []
    given = False

    async def receive() -> Message:
        nonlocal given
        if given:
            return {"type": "http.disconnect"}
        given = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"api"), *((k.encode(), v.encode()) for k, v in headers)],
        "client": ("127.0.0.1", 50000),
        "server": ("api", 80),
    }
    await app(scope, receive, send)
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], response_headers, body)


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def url_of(where: World, path: str) -> str:
    return filled(where, path.replace("{name}", "swagger-ui.css"))


async def test_every_get_route_answers_head_as_its_get_without_a_body(
    world: World,  # noqa: F811
) -> None:
    assert len(GET_ROUTES) > 20
    for path in GET_ROUTES:
        url = url_of(world, path)
        got = await asked(world.app, "GET", url, auth(world.everything))
        head = await asked(world.app, "HEAD", url, auth(world.everything))
        assert head.status == got.status, (path, head.status, got.status)
        assert got.status in (200, 404), (path, got.status)  # 404: a job id nothing has
        assert head.body == b"", path
        if path in EXPORTS:  # what only the file tells is left out (see the next test)
            assert set(head.headers) == set(got.headers) - {"content-length"}, path
            continue
        if path in CHANGING:
            assert set(head.headers) == set(got.headers), path
            continue
        if path in VIEWED and got.status == 200:  # an unrecorded view: not even its size
            assert set(head.headers) == set(got.headers) - {"content-length"}, path
            continue
        assert head.headers == got.headers, path
        assert int(head.headers["content-length"]) == len(got.body) > 0, path


async def test_head_needs_what_its_get_needs(world: World) -> None:  # noqa: F811
    """``ROUTE_PERMISSIONS`` names the ``GET``; its ``HEAD`` is refused alike, no body either."""
    tokens: dict[Permission, str] = {}
    for path in GET_ROUTES:
        url = url_of(world, path)
        anonymous = await asked(world.app, "HEAD", url)
        assert anonymous.status == 401, path
        assert anonymous.headers["www-authenticate"] == "Bearer", path
        assert anonymous.body == b"", path
        permission = ROUTE_PERMISSIONS[("GET", path)]
        if not isinstance(permission, Permission):
            continue  # the docs pages: any identity
        if permission not in tokens:
            tokens[permission] = await world.token(Grant(lacking(permission)))
        refused = await asked(world.app, "HEAD", url, auth(tokens[permission]))
        got = await asked(world.app, "GET", url, auth(tokens[permission]))
        assert refused.status == got.status == 403, (path, refused.status)
        assert refused.headers["content-length"] == str(len(got.body)), path
        assert refused.body == b"", path


async def views(store: Store) -> int:
    return await store.count_audit(AuditFilter(action=PATIENT_DATA_VIEW))


async def test_head_records_no_view_of_patient_data(world: World) -> None:  # noqa: F811
    """A ``HEAD`` of a message, an event or rejected input is checked as its ``GET`` is and
    then sends none of it: a ``patient_data.view`` for it said in the trail that someone saw a
    patient they never saw, indistinguishable from a real view. Every ``GET`` route is asked,
    so a route that records views later is held to it too; each ``GET`` that shows patient
    data still records its view."""
    store = world.engine.store
    rejected_id = await store.reject_event(
        b'{"patient": {"bsn": "999990019"}}', "amqp", [{"path": "", "rule": "x", "message": "x"}]
    )
    recorded = set()
    for path in GET_ROUTES:
        url = url_of(world, path.replace("{rejected_id}", rejected_id))
        before = await views(store)
        head = await asked(world.app, "HEAD", url, auth(world.everything))
        assert await views(store) == before, path
        assert head.body == b"", path
        got = await asked(world.app, "GET", url, auth(world.everything))
        assert head.status == got.status, (path, head.status, got.status)
        if await views(store) > before:
            assert await views(store) == before + 1, path
            assert head.status == 200, path
            # Unrecorded, it said how long the patient's record is (a security review).
            assert "content-length" not in head.headers, path
            recorded.add(path)
    assert recorded == VIEWED


async def test_a_get_beside_a_head_is_still_recorded(world: World) -> None:  # noqa: F811
    """What tells the service that nothing is shown holds for the ``HEAD``'s own request:
    ``GET``s answered at the same time, in the same process, each record their view."""
    store = world.engine.store
    url = f"/api/v1/messages/{world.card_message}"
    before = await views(store)
    answers = await asyncio.gather(
        *(asked(world.app, method, url, auth(world.everything)) for method in ("HEAD", "GET") * 4)
    )
    assert [a.status for a in answers] == [200] * 8
    assert await views(store) == before + 4


async def test_head_on_an_export_exports_nothing(world: World) -> None:  # noqa: F811
    """An export is audited before its first row goes out: a ``HEAD`` that made one would put
    an export of rows that never left in the trail, and do the work a ``GET`` then does again.
    Its answer says what the file would be (type, name, how many match) without it."""
    store = world.engine.store
    for path in EXPORTS:
        before = await store.count_audit(AuditFilter())
        head = await asked(world.app, "HEAD", path, auth(world.everything))
        assert head.status == 200, path
        assert head.body == b"", path
        assert "content-length" not in head.headers, path  # 0 would be a lie
        assert head.headers["content-type"] == "text/csv; charset=utf-8", path
        assert head.headers["content-disposition"].startswith("attachment;"), path
        assert await store.count_audit(AuditFilter()) == before, path  # nothing exported
        got = await asked(world.app, "GET", path, auth(world.everything))
        assert head.headers["x-total-count"] == got.headers["x-total-count"], path
        assert got.body.count(b"\n") > 1, path  # the file: its header and its rows
        assert await store.count_audit(AuditFilter()) == before + 1, path


async def test_head_over_a_real_port_ends_after_its_headers(tmp_path: Path) -> None:
    """As ``integrator run`` serves it: the status and ``Content-Length`` of the ``GET``, and
    not a byte after the headers, on a connection that stays usable."""
    async with (
        engine_on(tmp_path, f"sqlite:///{tmp_path}/store.db") as engine,
        serving(engine) as api,
    ):
        got = await api.get("/api/v1/versions")
        assert got.status_code == 200
        port = api.base_url.port
        assert port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            request = (
                "HEAD /api/v1/versions HTTP/1.1\r\nHost: api\r\n"
                f"Authorization: {api.headers['authorization']}\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode())
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), timeout=30)
        finally:
            writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert f"content-length: {len(got.content)}".encode() in head.lower()
        # The next answer follows the headers at once: the HEAD's body was never sent.
        assert rest.startswith(b"HTTP/1.1 200"), rest[:80]
        assert rest.endswith(b'{"status":"ok"}')
