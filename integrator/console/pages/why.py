"""Why a person looks at patient data in this session: stated once, shown on every page.

The audit trail records the why of every view of patient data and every export
(``integrator.stated_reason``). The API's callers say it with each request and the CLI's with
each command; a person in the console would not type it at every click, so they state it for
their session here (``AccessService.state_session_reason`` keeps it with the session and
checks it as every reason is checked: at most 1000 characters, no BSN) and every request of
the session states it again (``visitor.read_visitor``). Every page of a signed-in person shows
it under the header, with a link here to give, change or clear it (``base.html``).

A few reasons Dutch support staff give most are offered to choose from, recorded in the words
the person saw, with what they typed after it; or their own words alone. Saved or cleared,
the person is sent back to the page they came from: ``next``, by the rule every way back
follows (``errors.way_back``: a GET page of this console, with only the parameters it takes,
never another site and never an address holding a BSN). Where the engine requires a reason
(``INTEGRATOR_REASON_REQUIRED``), a page that would show patient data without one sends the
person here first (``errors.reason_asked``, ``needed``), and here back to it.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import BadAccessInput
from integrator.console.errors import REASON_PAGE, LoginNeeded, reason_address, way_back
from integrator.console.i18n import translate
from integrator.console.i18n_why import PRESETS
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import PersonDep, Visitor
from integrator.reasons import MAX_REASON, too_long

router = APIRouter()
NAV: Final[list[NavItem]] = []
OWN: Final = "own"
"""The choice of no preset: the person's own words alone."""

Typed = Annotated[str, Form(max_length=MAX_REASON)]
TOO_LONG_WITH_CHOICE: Final = (
    "with the choice above in front, the reason is longer than a reason may be: at most "
    "{room} characters of your own words"
)
"""Own words a field takes whole (``MAX_REASON``), too long once a choice is put in front."""
Next = Annotated[str, Form(max_length=2000)]


@router.get(REASON_PAGE)
async def reason_form(
    request: Request, visitor: PersonDep, next: str = "/", needed: str = ""
) -> Response:
    """The form, with the reason stated now; nothing changes here. ``needed``: the engine
    asked for it before showing the page the person opened (``errors.reason_asked``)."""
    return _form(request, visitor, _back(request, next), needed=needed == "1")


@router.post(REASON_PAGE)
async def state_reason(
    request: Request,
    visitor: PersonDep,
    choice: Annotated[str, Form(max_length=16)] = OWN,
    reason: Typed = "",
    action: Annotated[Literal["save", "clear"], Form()] = "save",
    next: Next = "/",
) -> Response:
    """Save (or clear) the session's reason, then back to the page the person came from. A
    refused reason shows the form again with the rule, never with what was typed: it may be
    a BSN (``reasons.HOLDS_BSN``)."""
    back = _back(request, next)
    text = None if action == "clear" else stated_text(visitor.lang, choice, reason)
    if text is not None and too_long(text):  # the choice in front made it too long
        room = MAX_REASON - (len(text) - len(reason.strip()))
        problem = Said(
            TOO_LONG_WITH_CHOICE.format(room=room),
            "why.too_long_with_choice",
            values={"room": room},
        )
        return _form(request, visitor, back, problem=problem, choice=choice)
    assert visitor.session is not None  # a signed-in person (``PersonDep``) has one
    try:
        kept = await engine_of(request).access.state_session_reason(visitor.session, text)
    except BadAccessInput as exc:
        return _form(request, visitor, back, problem=said(exc, field=False), choice=choice)
    if not kept:
        raise LoginNeeded()  # the session ended meanwhile: nothing was kept
    return RedirectResponse(back, status_code=303)


def stated_text(lang: str, choice: str, typed: str) -> str | None:
    """The reason a form states: a preset in the words the person saw, with what they typed
    after it; what they typed alone; or nothing (None), which clears it."""
    own = typed.strip()
    if choice not in PRESETS:
        return own or None
    preset = translate(lang, f"why.preset.{choice}")
    return f"{preset}: {own}" if own else preset


def _back(request: Request, target: str) -> str:
    """Where saving returns to (``errors.way_back``); this page itself is no page to return
    to, so it is the start page."""
    back = way_back(request, target)
    return "/" if urlsplit(back).path == REASON_PAGE else back


def _form(
    request: Request,
    visitor: Visitor,
    back: str,
    *,
    problem: Said | None = None,
    choice: str = "",
    needed: bool = False,
) -> Response:
    return page(
        request,
        visitor,
        "why.html",
        status=422 if problem is not None else 200,
        # The language switch comes back here with the way back checked, not the one given.
        address=reason_address(back, needed=needed),
        back=back,
        needed=needed,
        presets=PRESETS,
        chosen=choice if choice in (*PRESETS, OWN) else "",
        problem=problem,
    )
