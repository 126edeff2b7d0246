"""Body limits: 413 before the body is read, chunked bodies cut off, large bodies queued."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.app import EngineApp
from integrator.http.limits import (
    BODY_LIMIT,
    EVENT_BODY_LIMIT,
    LARGE_BODY_SLOTS,
    MIB,
    BodyLimits,
)
from tests.http.support import bearer, token_for

CHUNK = b" " * (64 * 1024)


def test_the_events_limit_is_base64_of_50_mib_plus_room_for_the_rest() -> None:
    assert EVENT_BODY_LIMIT == 4 * -(-50 * MIB // 3) + 4 * MIB  # 70.7 MiB
    assert BODY_LIMIT == MIB


async def call(app: Any, scope: dict[str, Any], body: list[bytes]) -> tuple[list[Message], int]:
    """``app`` called as a server would; what it sent and how often it asked for the body."""
    asked = 0
    sent: list[Message] = []
    parts = list(body)

    async def receive() -> Message:
        nonlocal asked
        asked += 1
        if parts:
            return {"type": "http.request", "body": parts.pop(0), "more_body": bool(parts)}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent, asked


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"api"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


@pytest.mark.parametrize(
    ("path", "length"),
    [("/api/v1/events", EVENT_BODY_LIMIT + 1), ("/api/v1/messages/search", BODY_LIMIT + 1)],
)
async def test_a_declared_length_above_the_limit_is_a_413_without_reading_the_body(
    app: EngineApp, path: str, length: int
) -> None:
    scope = http_scope(path, [(b"content-length", str(length).encode())])
    sent, asked = await call(app, scope, [CHUNK])
    assert asked == 0
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert b"larger than" in b"".join(m.get("body", b"") for m in sent[1:])


async def chunks(total: int, consumed: list[int]) -> AsyncIterator[bytes]:
    """``total`` bytes of JSON-ish filler in 64 KiB chunks; ``consumed[0]`` counts those taken."""
    sent = 0
    while sent < total:
        consumed[0] += 1
        sent += len(CHUNK)
        yield CHUNK


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/api/v1/messages/search", BODY_LIMIT), ("/api/v1/events", EVENT_BODY_LIMIT)],
)
async def test_a_chunked_body_is_cut_off_with_a_413_once_it_passes_the_limit(
    api: httpx.AsyncClient, path: str, limit: int
) -> None:
    consumed = [0]
    response = await api.post(
        path,
        content=chunks(limit + 20 * MIB, consumed),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"the request body is larger than {limit} bytes, the most this route accepts"
    )
    # An event submission is kept as rejected input, and the answer says under which id.
    assert ("rejected_id" in response.json()) is (path == "/api/v1/events")
    assert consumed[0] <= limit // len(CHUNK) + 2  # nothing read beyond the limit


async def test_a_declared_body_above_1_mib_on_another_route_is_a_413(
    api: httpx.AsyncClient,
) -> None:
    body = json.dumps({"zd_number": "ZD100000001", "padding": "x" * BODY_LIMIT})
    response = await api.post(
        "/api/v1/messages/search",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    small = await api.post("/api/v1/messages/search", json={"zd_number": "ZD100000001"})
    assert small.status_code == 200


async def test_an_event_above_1_mib_is_still_accepted(
    api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    pdf = b"%PDF-1.4\n" + b"\0" * (3 * MIB)
    referral_data["attachments"][0]["data"] = base64.b64encode(pdf).decode("ascii")
    body = json.dumps(referral_data).encode()
    assert len(body) > BODY_LIMIT
    response = await api.post(
        "/api/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 202, response.text


async def test_large_bodies_beyond_the_slots_wait_then_get_a_503() -> None:
    release = asyncio.Event()
    entered = 0

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal entered
        await receive()  # the body: where a large one takes its slot
        entered += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limits = BodyLimits(slow, large_slots=1, large_wait=0.2)
    big = [(b"content-length", str(2 * MIB).encode())]
    first = asyncio.create_task(call(limits, http_scope("/api/v1/events", big), [b"{}"]))
    await asyncio.sleep(0.05)
    sent, asked = await call(limits, http_scope("/api/v1/events", big), [b"{}"])
    assert sent[0]["status"] == 503 and (b"retry-after", b"5") in sent[0]["headers"]
    assert asked == 0 and entered == 1  # its body never read
    small = [(b"content-length", b"2")]
    waiting_small = asyncio.create_task(call(limits, http_scope("/api/v1/events", small), [b"{}"]))
    await asyncio.sleep(0.05)
    assert entered == 2  # small bodies are not queued behind large ones
    release.set()
    assert (await first)[0][0]["status"] == 202
    assert (await waiting_small)[0][0]["status"] == 202


async def _reads_its_body(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def trickled(
    limits: BodyLimits, parts: list[bytes], pause: float
) -> tuple[list[Message], int]:
    """``parts`` sent ``pause`` seconds apart, without a length, to ``limits`` over
    ``_reads_its_body``: what was answered, and how many parts were read."""
    sent: list[Message] = []
    left = list(parts)
    read = 0

    async def receive() -> Message:
        nonlocal read
        await asyncio.sleep(pause)
        read += 1
        return {"type": "http.request", "body": left.pop(0), "more_body": bool(left)}

    async def send(message: Message) -> None:
        sent.append(message)

    await limits(http_scope("/api/v1/events", []), receive, send)
    return sent, read


async def test_a_body_trickling_in_is_a_408_and_frees_its_slot() -> None:
    """A byte every half second held a large-body slot as long as the sender liked."""
    limits = BodyLimits(_reads_its_body, large_slots=1, grace=0.2, min_rate=1000)
    sent, read = await trickled(limits, [b"x"] * 100, pause=0.05)
    assert sent[0]["status"] == 408 and read < 10
    assert b"too slowly" in sent[1]["body"]
    again, _ = await trickled(limits, [b"x" * 4000, b"{}"], pause=0.0)
    assert again[0]["status"] == 202  # the slot is free again


async def test_a_body_that_stops_coming_is_a_408() -> None:
    limits = BodyLimits(_reads_its_body, idle=0.1)
    sent, read = await trickled(limits, [b"{", b"}"], pause=0.3)
    assert sent[0]["status"] == 408 and read == 0


async def test_a_body_sent_at_a_fair_pace_is_taken() -> None:
    limits = BodyLimits(_reads_its_body, grace=0.05, min_rate=1000)
    sent, read = await trickled(limits, [b"x" * 1000] * 5 + [b"{}"], pause=0.02)
    assert sent[0]["status"] == 202 and read == 6


async def test_a_caller_without_a_token_holds_no_large_body_slot(engine: Engine) -> None:
    """The slot is taken when the body is first read, after the route asked who is calling:
    with every slot held by a submission under way, a caller without a token is answered 401
    at once, not queued behind them (and given their slot later)."""
    app = create_app(engine)
    big = [(b"content-length", str(2 * MIB).encode())]
    token = await token_for(engine)
    authorized = [*big, (b"authorization", bearer(token)["authorization"].encode())]
    never = asyncio.Event()

    async def stalls_after_a_part() -> Message:
        if not stalled.done():
            stalled.set_result(None)
            return {"type": "http.request", "body": b"{", "more_body": True}
        await never.wait()
        return {"type": "http.disconnect"}

    async def discard(message: Message) -> None:
        pass

    holding = []
    for _ in range(LARGE_BODY_SLOTS):
        stalled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        holding.append(
            asyncio.create_task(
                app(http_scope("/api/v1/events", authorized), stalls_after_a_part, discard)
            )
        )
        await stalled  # it holds a slot, its body under way
    try:
        sent, asked = await asyncio.wait_for(
            call(app, http_scope("/api/v1/events", big), [b"{}"]), timeout=5
        )
        assert sent[0]["status"] == 401 and asked == 0  # its body never read
    finally:
        for task in holding:
            task.cancel()
        await asyncio.gather(*holding, return_exceptions=True)


def test_every_server_has_large_body_slots_of_its_own_in_its_own_event_loop() -> None:
    """Servers of one process (the engines of the test suite, each in its loop) share the
    routes (``shared_app``) but not the large-body slots: when the slots were part of the
    shared application, a request waiting for a slot in one server's loop bound them to it,
    and the next server's large request failed with a 500 (seen in the console's tests)."""

    def serve_a_queue_of_large_bodies() -> list[int]:
        async def queued() -> list[int]:
            release = asyncio.Event()

            async def held(scope: Scope, receive: Receive, send: Send) -> None:
                await receive()
                await release.wait()
                await send({"type": "http.response.start", "status": 202, "headers": []})
                await send({"type": "http.response.body", "body": b""})

            server = EngineApp(cast(FastAPI, held), cast(Engine, object()))
            big = [(b"content-length", str(2 * MIB).encode())]
            calls = [
                asyncio.create_task(call(server, http_scope("/api/v1/events", big), [b"{}"]))
                for _ in range(LARGE_BODY_SLOTS + 1)  # the last one waits for a slot
            ]
            await asyncio.sleep(0.05)
            release.set()
            return [sent[0]["status"] for sent, _ in await asyncio.gather(*calls)]

        return asyncio.run(queued())

    assert serve_a_queue_of_large_bodies() == [202] * (LARGE_BODY_SLOTS + 1)
    assert serve_a_queue_of_large_bodies() == [202] * (LARGE_BODY_SLOTS + 1)


async def test_over_a_real_socket_the_413_comes_before_the_body_is_sent(engine: Engine) -> None:
    token = await token_for(engine)
    listener = socket.create_server(("127.0.0.1", 0))  # listening before the server runs
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(engine), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            "POST /api/v1/events HTTP/1.1\r\nHost: api\r\n"
            f"Authorization: {bearer(token)['authorization']}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {60 * 1024 * MIB}\r\n\r\n"
        )
        writer.write(head.encode())  # the 60 GiB body is never sent
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=5)
        assert status.startswith(b"HTTP/1.1 413")
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    finally:
        server.should_exit = server.force_exit = True  # a request left hanging ends too
        await asyncio.wait_for(task, timeout=10)
        listener.close()
