"""Idempotency keys: a request that does something, repeated with the same key, is done once.

A client whose request timed out does not know whether it was done. Repeating a resend would
send the message to the receiver again; so the API's resends and routings take an
``Idempotency-Key`` (a string the client chooses per request). The first request with a key
claims it in the store for its caller (a token, a person) and, once done, keeps its answer; the
same key again from the same caller with the same request, within :data:`RETENTION`, gets
that answer and does nothing. The rules:

- the same key with another request (route or body) is refused (:class:`KeyReused`): a
  client that reuses keys by mistake must not get another request's answer;
- the same key while the first is still being done is refused (:class:`KeyInProgress`):
  repeat it a moment later for the answer;
- a request refused before it did anything (an unknown message, a rule broken) keeps no
  answer: its key is released, and a repeat is judged afresh (it did nothing to repeat);
- a claim left unfinished for :data:`ABANDONED_AFTER` counts as abandoned, and the next
  request with its key is done afresh. A claim is left so when the engine stopped mid-request,
  or when the store failed to release it or to keep the answer. Without this bound such a key
  answered 409 "in progress" to every repeat for its whole :data:`RETENTION`;
- a request that was done but whose answer the store could not keep is answered all the same
  (it was done: an error would tell the caller to repeat it); its claim stays unfinished, so a
  repeat within :data:`ABANDONED_AFTER` is refused as in progress and one after it is done
  again. That is the one case a key does not prevent a second time, and it needs the store to
  fail between the work's own commit and the next statement;
- keys are a caller's own: another caller's same key is another key;
- without a key, nothing changes: support staff resending on purpose still can.

Keys expire :data:`RETENTION` after their request; the daily prune deletes them
(``integrator.lifecycle.prune``). The store keeps a hash of the request, never the body.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from integrator.access.permissions import Identity
from integrator.clock import Clock
from integrator.errors import PermanentError
from integrator.logging import get_logger
from integrator.store import Store
from integrator.store.errors import StoreError

log = get_logger("integrator.idempotency")

RETENTION: Final = timedelta(hours=24)
"""How long a key's answer is kept: a client retries within minutes, not days."""

ABANDONED_AFTER: Final = timedelta(minutes=10)
"""How long a claim may stay unfinished before it counts as abandoned. A keyed request does
its work in the request (one resend, or selecting a batch and starting its job), which takes
seconds; HTTP clients and proxies give up after a minute or so. Ten minutes is far beyond a
live request and short against a client's patience."""

MAX_LENGTH: Final = 200
KEY_RULE: Final = re.compile(r"[A-Za-z0-9._:~+/=-]{1,200}")
"""Printable ASCII without spaces or quotes: a UUID, a ULID, base64, ``job-42:try``."""

RULE_TEXT: Final = (
    f"1 to {MAX_LENGTH} characters of letters, digits and . _ : ~ + / = - (a UUID, say)"
)


class BadIdempotencyKey(PermanentError):
    """A key that breaks :data:`KEY_RULE`; the key itself is not echoed."""

    def __init__(self) -> None:
        super().__init__(f"Idempotency-Key: must be {RULE_TEXT}")


class KeyReused(PermanentError):
    """The key was first used for another request (another route or body)."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key: this key was used for another request (another route or body) "
            "in the last 24 hours; use a new key for each request, the same key only to repeat "
            "one exactly"
        )


class KeyInProgress(PermanentError):
    """The first request with the key is still being done."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key: the first request with this key is still in progress; repeat "
            "it in a moment for its answer"
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request answered: its status and JSON body; ``replayed`` when kept from before."""

    status: int
    body: Any
    replayed: bool = False


def checked_key(key: str) -> str:
    if KEY_RULE.fullmatch(key) is None:
        raise BadIdempotencyKey()
    return key


def caller_of(identity: Identity) -> str:
    """Whose keys: ``token:<id>``, ``person:<id>`` (ids, which a rename does not change)."""
    return f"{identity.kind.value}:{identity.id}"


def request_hash(route: str, body: Any) -> str:
    """The request a key was first used for: its route (with the path's ids) and body."""
    canonical = json.dumps([route, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def once(
    store: Store,
    clock: Clock,
    identity: Identity,
    key: str | None,
    *,
    route: str,
    body: Any,
    work: Callable[[], Awaitable[Answer]],
) -> Answer:
    """``work``'s answer; with a ``key``, done once per caller, key and request (see above).

    ``work`` raising (a refusal, or anything unexpected) releases the key and raises on; a
    store that cannot release the key or keep the answer leaves the claim to be abandoned
    (:data:`ABANDONED_AFTER`) and does not change what the request answers. ``work``
    cancelled (the engine's stop cuts off the requests still open) leaves the claim too: it
    may have committed what it did (a resend is committed before it is handed to delivery),
    and a key released then let the client's repeat resend the message a second time."""
    if key is None:
        return await work()
    caller = caller_of(identity)
    hashed = request_hash(route, body)
    now = clock.now()
    first = await store.claim_idempotency_key(
        caller,
        checked_key(key),
        request_hash=hashed,
        now=now,
        expires_at=now + RETENTION,
        abandoned_before=now - ABANDONED_AFTER,
    )
    if first is not None:
        if first.request_hash != hashed:
            raise KeyReused()
        if first.status is None:
            raise KeyInProgress()
        return Answer(first.status, first.answer, replayed=True)
    try:
        answer = await work()
    except Exception:
        try:
            await store.release_idempotency_key(caller, key)
        except StoreError as exc:  # the work's own outcome is the answer, not this
            log.warning("idempotency key not released", caller=caller, error=str(exc))
        raise
    try:
        await store.finish_idempotency_key(caller, key, status=answer.status, answer=answer.body)
    except StoreError as exc:
        log.warning("idempotency answer not kept", caller=caller, error=str(exc))
    return answer
