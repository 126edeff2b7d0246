"""One-time confirmations: a confirm form that is posted twice acts once.

Resending is the one action that puts patient messages on the wire again, and a browser posts
a form again all too easily: a reload of the result ("Confirm Form Resubmission"), Back and
submit, the same page in two tabs, two quick clicks. So every form that resends (or discards)
carries a one-time token (form field ``once``), made when the form is shown (``issue``) and
kept in the store (``console_confirmations``: its hash, the person, what it confirms, an
expiry of ``LASTS``), not in process memory, so it holds with several engines behind a load
balancer. Posting it (``once``) claims it with one conditional UPDATE: exactly one post does
the work and records its result; every other post of the same form does nothing and is shown
that result, with who did it and when. Pages then redirect to a result page reached by GET
(Post/Redirect/Get, ``once_then_result``), so a reload shows the result again and sends
nothing.

The token is the person's own and names its action (a token of one message's preview does not
resend another); an unknown or expired one refuses, and nothing is done. A refusal before
anything was done (no reason, a service's ``DeadLetterError``) releases the token, so the
same form can be posted again once it is right. The work runs shielded from the request: a
browser that drops the first request of a double click cannot stop it between sending and
recording what it sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from starlette.responses import RedirectResponse, Response

from deadletter import DeadLetterError
from integrator.console.errors import BadInput, ConsoleError
from integrator.console.refusals import Said
from integrator.console.visitor import Visitor
from integrator.engine import Engine
from integrator.patient_views import answering_headers_only
from integrator.refusal import code_of
from integrator.store import ConfirmationRecord

FIELD: Final = "once"
LASTS: Final = timedelta(hours=12)
"""As long as a console session at most: a form older than that cannot be posted anyway."""
WAIT: Final = 10.0
"""How long a second post waits for the first to finish, to show its result."""
FAILED: Final = "failed"
CLAIMS: Final = 3
"""How often a post claims a token released under it (each release a refusal of another post
of the same form): a bound, not a number that is ever reached in use."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(engine: Engine, visitor: Visitor, action: str) -> str:
    """A new token for a confirm form of ``action``, for this person only.

    For a ``HEAD`` (``patient_views.headers_only``) the form goes nowhere, so its token is
    kept nowhere: a request that should have no effect wrote a row (a link checker's or a
    monitor's HEAD of the unrouted events page, a row each time). It is made all the same, as
    long as a kept one, so the answer's headers (its length) are the ``GET``'s."""
    token = secrets.token_urlsafe(32)
    if answering_headers_only():
        return token
    now = engine.clock.now()
    await engine.store.add_confirmation(
        uuid.uuid4().hex,
        token_hash=_hash(token),
        person_id=visitor.signed_in.id,
        action=action,
        now=now,
        expires_at=now + LASTS,
    )
    return token


@dataclass(frozen=True, slots=True)
class Done:
    """The confirmation after a post: ``repeated`` when an earlier post did the work (this one
    did nothing); its ``result`` is None while that earlier one is still at it."""

    confirmation: ConfirmationRecord
    repeated: bool

    @property
    def id(self) -> str:
        return self.confirmation.id

    @property
    def result(self) -> Any:
        return self.confirmation.result


async def once(
    engine: Engine,
    visitor: Visitor,
    action: str,
    token: str,
    work: Callable[[], Awaitable[Any]],
) -> Done:
    """Run ``work`` for the first post of this token only; its result (JSON) is kept.

    A post that finds the token claimed waits for that post's result. When that one was
    refused before it did anything (the token released: a colleague resent the message
    meanwhile, say), this post is judged afresh and says the refusal itself: it waited out
    ``WAIT`` and landed on the page without a word, the person's confirmation neither done
    nor refused (a double click shows the second post's answer, not the first's)."""
    store = engine.store
    for _ in range(CLAIMS):
        won, row = (
            await store.claim_confirmation(
                _hash(token),
                person_id=visitor.signed_in.id,
                action=action,
                actor=visitor.actor,
                now=engine.clock.now(),
            )
            if token
            else (False, None)
        )
        if row is None:
            raise BadInput(
                Said(
                    "this confirmation is no longer valid (it expired after 12 hours, or it "
                    "was made for another person); nothing was done: start again from the list",
                    "console.confirmation_unknown",
                )
            )
        if won:
            break
        settled = await _settled(engine, visitor, row)
        if settled.used:
            return Done(settled, repeated=True)
    else:
        return Done(settled, repeated=True)
    claimed = row

    async def run() -> Done:
        try:
            result = await work()
        except (ConsoleError, DeadLetterError):
            await store.release_confirmation(claimed.id)  # refused whole: nothing was done
            raise
        except Exception:
            await store.finish_confirmation(claimed.id, {FAILED: True}, now=engine.clock.now())
            raise
        await store.finish_confirmation(claimed.id, result, now=engine.clock.now())
        settled = await store.get_confirmation(
            claimed.id, person_id=claimed.person_id, now=engine.clock.now()
        )
        return Done(settled or claimed, repeated=False)

    return await asyncio.shield(asyncio.ensure_future(run()))


async def once_then_result(
    engine: Engine,
    visitor: Visitor,
    action: str,
    token: str,
    work: Callable[[], Awaitable[Any]],
    *,
    result_at: str,
) -> Response:
    """``once``, then Post/Redirect/Get: a 303 to the result page of this confirmation
    (``<result_at>/<id>``), with ``?again=1`` when an earlier post did the work and this one
    did nothing, so that page says so. A reload of that page only shows the result again.
    ``once``'s refusals pass through, for the page to show the form again."""
    done = await once(engine, visitor, action, token, work)
    again = "?again=1" if done.repeated else ""
    return RedirectResponse(f"{result_at}/{done.id}{again}", status_code=303)


async def _settled(engine: Engine, visitor: Visitor, row: ConfirmationRecord) -> ConfirmationRecord:
    """The confirmation once its first post finished or released it (refused, it did
    nothing: no longer ``used``), or as it is after ``WAIT`` seconds."""
    waited = 0.0
    while row.used and not row.finished and waited < WAIT:
        await asyncio.sleep(0.1)
        waited += 0.1
        again = await engine.store.get_confirmation(
            row.id, person_id=visitor.signed_in.id, now=engine.clock.now()
        )
        if again is None:
            break
        row = again
    return row


async def confirmation(
    engine: Engine, visitor: Visitor, confirmation_id: str
) -> ConfirmationRecord | None:
    """The person's own confirmation that was posted; None for another's, an unknown or an
    expired one, or one never posted (its result page does not exist yet)."""
    if len(confirmation_id) > 64:
        return None
    row = await engine.store.get_confirmation(
        confirmation_id, person_id=visitor.signed_in.id, now=engine.clock.now()
    )
    return row if row is not None and row.used else None


def failed(row: ConfirmationRecord) -> bool:
    return isinstance(row.result, dict) and bool(row.result.get(FAILED))


def kept_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Result rows as the store keeps them (JSON): a note with its refusal code, values and
    field, so the result page words it in the reader's language as the page did before."""
    return [{**row, "note": kept_note(row["note"])} if "note" in row else row for row in rows]


def kept_note(note: Any) -> Any:
    """A note (a ``Said``, a coded text, plain text, None) as the store keeps it (``kept_rows``);
    ``shown_note`` makes it a ``Said`` again."""
    if isinstance(note, Said):
        return {
            "text": note.rule,
            "code": note.code,
            "values": dict(note.values),
            "field": note.field,
        }
    code, values = code_of(note)
    if code is not None:
        return {"text": str(note), "code": code, "values": dict(values)}
    return note


def shown_note(kept: Any) -> Any:
    """A note as ``kept_note`` kept it, as a ``Said`` again (plain text and None as they are)."""
    if not isinstance(kept, dict):
        return kept
    return Said(
        str(kept.get("text", "")),
        kept.get("code"),
        field=kept.get("field"),
        values=kept.get("values") or {},
    )


def shown_rows(row: ConfirmationRecord) -> list[dict[str, Any]]:
    """The result rows of a confirmation, each note as a ``Said`` again (``kept_rows``)."""
    if not isinstance(row.result, dict):
        return []
    return [
        {**kept, "note": shown_note(kept["note"])} if "note" in kept else kept
        for kept in row.result.get("rows", [])
    ]


async def kept(engine: Engine, visitor: Visitor, action: str, result: Any) -> str:
    """A confirmation of something already done, holding ``result`` (JSON, no patient data)
    for the page a redirect leads to: what the POST learnt (a change's warnings) is shown
    after the redirect, for this person only, and for ``LASTS`` at most. Its id."""
    token = await issue(engine, visitor, action)
    done = await once(engine, visitor, action, token, _returning(result))
    return done.id


def _returning(result: Any) -> Callable[[], Awaitable[Any]]:
    async def work() -> Any:
        return result

    return work


async def kept_result(engine: Engine, visitor: Visitor, action: str, confirmation_id: str) -> Any:
    """The result ``kept`` holds under ``confirmation_id`` for ``action``; None for another
    person's, another action's, an unknown or an expired one."""
    row = await confirmation(engine, visitor, confirmation_id)
    return row.result if row is not None and row.action == action else None
