"""An event file too large to send, declared to the running engine by its size alone.

``integrator submit`` does not read a file above ``EVENT_BODY_LIMIT`` (``integrator.submit``).
Through the engine it submits it as any file, with the file's size as the request's
``Content-Length`` but without its bytes: the API answers a declared size above its limit with
413 before it reads any of the body, and keeps the submission as rejected input when the token
may submit events (``integrator.http.refused_intake``), as for any sender.

The request's head is written here, not by the HTTP client: a client sends the body before it
reads the answer, and the engine, closing a connection with bytes on it that it did not read,
resets it, which lost its 413 (the client saw a ``ReadError``). With the head alone, the
engine's close is an orderly one, and its answer is read.
"""

from __future__ import annotations

import asyncio
import contextlib

from integrator.engine_api import auth_headers, engine_tls
from integrator.settings import Settings
from schemas.refused import REJECTED_ID_HEADER

EVENTS_PATH = "/api/v1/events"


class NoAnswer(Exception):
    """What came back is no HTTP answer."""


async def declared_status(
    settings: Settings, size: int, *, timeout: float
) -> tuple[int, str | None]:
    """The status the running engine answers to an event of ``size`` bytes, declared and not
    sent, and the id it kept it under (``X-Integrator-Rejected-Id``: only when the token may
    submit events). ``OSError``, ``TimeoutError`` or ``NoAnswer`` when it answers nothing
    readable."""
    tls = engine_tls(settings) if settings.http_tls else None
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(
            settings.http_host, settings.http_port, ssl=tls
        )
        try:
            writer.write(_head(settings, size))
            await writer.drain()
            status = _status(await reader.readline())
            kept = None
            while (line := await reader.readline()).strip():  # the headers, to the blank line
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == REJECTED_ID_HEADER:
                    kept = value.strip() or None
            return status, kept
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _head(settings: Settings, size: int) -> bytes:
    """The request as the HTTP client writes it, without a body; a token that is no header
    value (not printable ASCII) is left out, as no engine would take it."""
    lines = [
        f"POST {EVENTS_PATH} HTTP/1.1",
        f"Host: {settings.http_authority}",
        "Content-Type: application/json",
        f"Content-Length: {size}",
        "Connection: close",
        *(
            f"{name}: {value}"
            for name, value in auth_headers().items()
            if value.isascii() and value.isprintable()
        ),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _status(line: bytes) -> int:
    """The code of a status line, ``HTTP/1.1 413 Request Entity Too Large``."""
    version, _, rest = line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/") or not code.isdigit():
        raise NoAnswer("no HTTP status line")
    return int(code)
