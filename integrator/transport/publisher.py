"""A batch of publishes written to the broker at once, each message still confirmed on its own.

The intake commits events in batches and hands the batch's messages over together. aiormq's
``basic_publish`` costs, per message, a coroutine (a Task when gathered), the channel lock, a
timeout scope, an entry on the connection's write queue, a turn of the writer task and a socket
write of its own: in the engine's profile publishing took a tenth of its CPU and the socket
writes another tenth. ``publish_batch`` marshals a batch under one lock into a few writes.

What stays exactly as with ``basic_publish``: every message gets its own delivery tag and its
own confirmation future in the channel's table, so the broker's ack or nack (single or
``multiple``) and a lost channel or connection resolve each message exactly as aiormq does for
its own publishes; the caller awaits every one of them. The frames on the wire are the same
(method, header, body split at the negotiated frame size).

A ``mandatory`` publish the broker cannot route comes back as ``basic.return`` (before its
``basic.ack``); aiormq finds its confirmation by message id (``message_id_delivery_tag``) and
fails it with ``PublishError``. So every message is entered in that table too, as
``basic_publish`` does, or a return would find nothing and the ack after it would pass for
success: the message confirmed and dropped.

This leans on aiormq's channel internals (the confirmation table, the delivery tag counter, the
connection's write queue). ``can_batch`` checks they are there; where they are not (another
aiormq version) the transport publishes message by message as before, and a test says which
path the installed aiormq takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import aiormq
import pamqp.frame
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.header import ContentHeader

#: Frames are joined into writes of about this size: a few hundred small messages each.
WRITE_BYTES = 256 * 1024

_INTERNALS = (
    "confirmations",
    "delivery_tag",
    "message_id_delivery_tag",
    "write_queue",
    "number",
    "max_content_size",
)
#: The internals were read and tested on aiormq 7; another major release publishes one by one.
_KNOWN_AIORMQ = version("aiormq").split(".")[0] == "7"


@dataclass(frozen=True, slots=True)
class Outgoing:
    exchange: str
    routing_key: str
    properties: Basic.Properties
    body: bytes
    #: The broker returns it (``basic.return``) instead of dropping it when no queue is bound.
    mandatory: bool = False


def can_batch(channel: object) -> bool:
    """Whether ``channel`` is an aiormq channel with confirms whose internals we know."""
    return (
        _KNOWN_AIORMQ
        and isinstance(channel, aiormq.Channel)
        and bool(getattr(channel, "publisher_confirms", False))
        and all(hasattr(channel, name) for name in _INTERNALS)
    )


@lru_cache(maxsize=4096)
def _method_frame(channel_number: int, exchange: str, routing_key: str, mandatory: bool) -> bytes:
    """The ``basic.publish`` frame: the same bytes for every message to one destination."""
    return pamqp.frame.marshal(
        Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory),
        channel_number,
    )


def _frames(channel_number: int, frame_max: int, message: Outgoing) -> list[bytes]:
    body = message.body
    parts = [
        _method_frame(channel_number, message.exchange, message.routing_key, message.mandatory),
        pamqp.frame.marshal(
            ContentHeader(body_size=len(body), properties=message.properties), channel_number
        ),
    ]
    # As aiormq splits a body: one frame when it fits, else frames of ``frame_max`` bytes.
    if len(body) < frame_max:
        parts.append(pamqp.frame.marshal(ContentBody(body), channel_number))
    else:
        for start in range(0, len(body), frame_max):
            chunk = body[start : start + frame_max]
            parts.append(pamqp.frame.marshal(ContentBody(chunk), channel_number))
    return parts if body else parts[:2]


async def publish_batch(
    channel: aiormq.abc.AbstractChannel, messages: Sequence[Outgoing]
) -> list[asyncio.Future[Any]]:
    """Write ``messages`` in as few writes as ``WRITE_BYTES`` allows; the futures resolve with
    each message's confirm.

    Frames are marshalled as they are written, never more than one write ahead, so a chunk of
    large messages (attachments) is not copied whole first. If marshalling fails or the wait
    for room in the write queue is cancelled, the tags and confirmations of what was not queued
    are taken back (as ``basic_publish`` does) and the error is raised; what was queued goes
    out and is confirmed as usual, and the caller re-publishes the chunk (same message ids).
    """
    assert can_batch(channel)
    chan: Any = channel
    number: int = chan.number
    frame_max: int = chan.max_content_size
    futures: list[asyncio.Future[Any]] = []
    by_message_id: dict[str, int] = chan.message_id_delivery_tag
    async with chan.lock:  # also raises if the channel closed meanwhile
        queued = tag = chan.delivery_tag  # the last tag whose frames are in the write queue
        parts: list[bytes] = []
        size = 0
        try:
            for message in messages:
                frames = _frames(number, frame_max, message)
                tag += 1
                future = chan.create_future()
                chan.confirmations[tag] = future
                chan.delivery_tag = tag
                message_id = message.properties.message_id
                if message_id:  # where a basic.return finds its confirmation
                    by_message_id[message_id] = tag
                    future.add_done_callback(_forget(by_message_id, message_id, tag))
                futures.append(future)
                parts += frames
                size += sum(len(f) for f in frames)
                if size >= WRITE_BYTES:
                    await chan.write_queue.put(_write(parts))
                    queued, parts, size = tag, [], 0
            if parts:
                await chan.write_queue.put(_write(parts))
                queued = tag
        except BaseException:
            for unsent in range(queued + 1, tag + 1):
                future = chan.confirmations.pop(unsent, None)
                if future is not None:
                    future.cancel()
            chan.delivery_tag = queued
            raise
    return futures


def _forget(
    by_message_id: dict[str, int], message_id: str, tag: int
) -> Callable[[asyncio.Future[Any]], None]:
    """Drop the message id's entry once its confirm is settled (unless a later publish of the
    same id took it over), as ``basic_publish`` does; cancelled futures come here too."""

    def forget(_: asyncio.Future[Any]) -> None:
        if by_message_id.get(message_id) == tag:
            del by_message_id[message_id]

    return forget


def _write(parts: list[bytes]) -> ChannelFrame:
    return ChannelFrame(payload=b"".join(parts), should_close=False)
