"""Request body limits, on every route of the app: too large is a 413 before the body is read.

- ``POST /api/v1/events``: ``EVENT_BODY_LIMIT``, what the contract can need: 70.7 MiB
  (74,099,372 bytes), defined in ``schemas.refused`` for every door (the AMQP intake and
  ``integrator submit`` refuse a larger event too).
- Every other route: ``BODY_LIMIT``, 1 MiB (a search, a destination, a resend, a token).

A ``Content-Length`` above the limit is answered with 413 at once, without reading a byte of
the body. A chunked body (no length) is counted as it arrives and refused with 413 the moment
it passes the limit: nothing beyond the limit is kept.

A refused event submission (``POST /api/v1/events``) is kept as rejected input, without its
body, when its caller may submit events: ``refused`` is told the limit and the size declared,
or seen when the body was cut off (``integrator.http.refused_intake``; ``create_app`` passes
it). Other routes' refusals are only answered. It is kept before the 413 is answered, so the
answer says the id (``X-Integrator-Rejected-Id`` and ``rejected_id``); a body cut off was kept
only after its answer had gone, which then named none, as if nothing had been kept.

Memory stays bounded with many senders at once: only ``LARGE_BODY_SLOTS`` requests with a body
above ``BODY_LIMIT`` (or of unknown length) are read and handled at the same time; the others
wait, unread (the server stops reading a connection whose request is not being read, so a waiting
sender costs its socket buffers, some 64 KiB), up to ``LARGE_BODY_WAIT`` seconds, then get 503
with ``Retry-After``. A request takes its slot when its body is first read, so after the route
has asked who is calling where it does so first (``POST /api/v1/events``): a caller without a
token is answered 401 and never holds one.

A large body (or one of unknown length) must keep coming: a pause of ``BODY_IDLE_S`` between
two of its parts, or less than ``MIN_BODY_RATE`` bytes a second on average once
``BODY_GRACE_S`` have passed, is a 408 and the end of the request. A sender trickling a byte
every half second held a large-body slot for as long as it liked, and with two of them nobody
could submit a large event.

An event in the engine costs at most about four times its body (the bytes,
the parsed JSON, the decoded attachments, the stored copy), so large events hold at most
``LARGE_BODY_SLOTS`` × 4 × 70.7 MiB ≈ 570 MiB at the default of 2; small requests (up to 1 MiB)
are not queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The one definition, shared with the AMQP intake and ``integrator submit``; named here too.
from schemas.refused import EVENT_BODY_LIMIT as EVENT_BODY_LIMIT
from schemas.refused import REJECTED_ID_HEADER

KEPT_KEY: Final = "rejected_id"
"""The answer's key beside ``detail`` naming the id a refused submission is kept under, as
intake's own refusal (``EventRefused``) names it."""

MIB: Final = 1024 * 1024
BODY_LIMIT: Final = 1 * MIB
EVENTS_PATH: Final = "/api/v1/events"
LARGE_BODY_SLOTS: Final = 2
LARGE_BODY_WAIT: Final = 30.0
BODY_IDLE_S: Final = 30.0
BODY_GRACE_S: Final = 10.0
MIN_BODY_RATE: Final = 16 * 1024
"""Bytes a second a body must average after its first ``BODY_GRACE_S``: 70.7 MiB in 75 minutes,
which any link a hospital's platform sends from exceeds by far."""


Refused = Callable[[Scope, int, int, bool], Awaitable[str | None]]
"""Keeps a refused event submission; the id it is kept under, or None."""

"""Told of a refused event submission: its scope, the limit, the size, whether declared."""


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the most this route accepts"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit; a 413 for the client."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit))


class BodyTooSlow(HTTPException):
    """Raised from ``receive`` when a body stops coming or comes too slowly; a 408."""

    def __init__(self) -> None:
        super().__init__(
            status_code=408,
            detail=(
                f"the request body came too slowly (at least {MIN_BODY_RATE} bytes a second, "
                f"no pause over {BODY_IDLE_S:g} s)"
            ),
        )


class NoSlot(HTTPException):
    """Raised from ``receive`` when no large-body slot came free in time; a 503."""

    def __init__(self) -> None:
        super().__init__(
            status_code=503,
            detail="too many large requests at once: try again",
            headers={"retry-after": "5"},
        )


class BodyLimits:
    """The ASGI middleware that enforces the limits above (``create_app`` installs it)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: int = BODY_LIMIT,
        event_limit: int = EVENT_BODY_LIMIT,
        large_slots: int = LARGE_BODY_SLOTS,
        large_wait: float = LARGE_BODY_WAIT,
        refused: Refused | None = None,
        idle: float = BODY_IDLE_S,
        grace: float = BODY_GRACE_S,
        min_rate: float = MIN_BODY_RATE,
    ) -> None:
        self.app = app
        self.refused = refused
        self.body_limit = body_limit
        self.event_limit = event_limit
        self.large_wait = large_wait
        self.idle = idle
        self.grace = grace
        self.min_rate = min_rate
        self._large = asyncio.Semaphore(large_slots)

    def limit_for(self, scope: Scope) -> int:
        return self.event_limit if _is_intake(scope) else self.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        length = _content_length(scope)
        if length == -1:
            await _answer(send, 400, "the Content-Length header is not a number")
            return
        if length is not None and length > limit:
            kept = await self._tell_refused(scope, limit, length, declared=True)
            await _answer(send, 413, too_large(limit), rejected_id=kept)
            return
        large = length is None or length > self.body_limit
        await self._limited(scope, receive, send, limit, self._large if large else None)

    async def _limited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        slot: asyncio.Semaphore | None,
    ) -> None:
        received = 0
        started = False
        cut_off = False
        kept: str | None = None
        holding = False
        body_done = False
        loop = asyncio.get_running_loop()
        began: float | None = None

        async def counted() -> Message:
            nonlocal received, cut_off, holding, body_done, began, kept
            if body_done:  # what follows the body (a disconnect) may take any time
                return await receive()
            if slot is not None and not holding:
                try:
                    await asyncio.wait_for(slot.acquire(), timeout=self.large_wait)
                except TimeoutError:
                    raise NoSlot() from None
                holding = True
            if slot is None:  # a small body, whole in its first part: no timer on the hot path
                message = await receive()
            else:
                if began is None:
                    began = loop.time()
                try:
                    async with asyncio.timeout(self.idle):
                        message = await receive()
                except TimeoutError:
                    raise BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Kept before the answer, which names the id (the route ran its
                    # dependencies before it read the body, so the caller is known).
                    if not cut_off:
                        cut_off = True
                        kept = await self._tell_refused(scope, limit, received, declared=False)
                    raise BodyTooLarge(limit)
                body_done = not message.get("more_body", False)
                if slot is not None and not body_done:
                    assert began is not None
                    elapsed = loop.time() - began
                    if elapsed > self.grace and received < self.min_rate * elapsed:
                        raise BodyTooSlow()
            else:
                body_done = True
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except (BodyTooLarge, BodyTooSlow, NoSlot) as refusal:
            if started:
                raise
            await _answer(
                send,
                refusal.status_code,
                refusal.detail,
                retry_after=isinstance(refusal, NoSlot),
                rejected_id=kept,
            )
        finally:
            if holding:
                assert slot is not None
                slot.release()

    async def _tell_refused(
        self, scope: Scope, limit: int, size: int, *, declared: bool
    ) -> str | None:
        if self.refused is not None and _is_intake(scope):
            return await self.refused(scope, limit, size, declared)
        return None


def _is_intake(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path", "").rstrip("/") == EVENTS_PATH


def _content_length(scope: Scope) -> int | None:
    """The declared length; ``None`` without one (chunked), -1 if it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _answer(
    send: Send,
    status: int,
    detail: str,
    *,
    retry_after: bool = False,
    rejected_id: str | None = None,
) -> None:
    headers = {"connection": "close"}
    if retry_after:
        headers["retry-after"] = "5"
    body = {"detail": detail}
    if rejected_id is not None:
        headers[REJECTED_ID_HEADER] = rejected_id
        body[KEPT_KEY] = rejected_id
    response = JSONResponse(body, status_code=status, headers=headers)
    await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
