"""Accepting an invitation: the link's secret travels in a form body, never in a URL.

The link is ``<base>/invitation#<secret>``. Browsers never send a fragment to a server, so the
secret stays out of access logs and ``Referer`` headers; ``static/invitation.js`` reads it and
posts it (a person without JavaScript pastes it into the field). Then ``begin_accept`` shows the
TOTP secret, ``finish_accept`` sets the password and checks the code, and the recovery codes are
shown once. The rules (validity, password policy, code check, audit) are ``AccessService``'s.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from integrator.access import totp
from integrator.access.errors import (
    AccessRefusals,
    BadAccessInput,
    InvitationInvalid,
    SignInsHeld,
)
from integrator.access.service import AcceptStart
from integrator.console.answers import in_place
from integrator.console.pages.auth import held_page
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import VisitorDep
from integrator.http.deps import source_of

router = APIRouter()
NAV: Final[list[NavItem]] = []

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""An e-mail address, roughly: the hidden field is only shown again, never used for a rule."""
_CHANGED: Final = (
    "this form came back changed or incomplete; open the link again (Continue below) and scan "
    "the new code it shows"
)

Secret = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=1024)]
Code = Annotated[str, Form(max_length=32)]


def _page(request: Request, visitor: VisitorDep, template: str, **context: Any) -> Response:
    """A page of the invitation, answered in place (``answers.in_place``), not kept for a
    redirect: its steps hold the new authenticator secret and the recovery codes, which are
    stored nowhere, and posting one again is harmless (opening the link makes a new secret;
    an invitation accepted is refused a second time)."""
    return in_place(page(request, visitor, template, **context))


@router.get("/invitation")
async def invitation(request: Request, visitor: VisitorDep) -> Response:
    return _page(request, visitor, "invitation.html", step="link", problem=None)


def link_secret(pasted: str) -> str:
    """The secret of an invitation as pasted into the field: on its own, or the whole link
    (``…/invitation#<secret>``, or ``#<secret>``), which is what a person copies from the mail
    when the page opened without its ``#`` part (no JavaScript, a mail program that cut it)."""
    return pasted.strip().rpartition("#")[2].strip()


@router.post("/invitation/open")
async def open_invitation(request: Request, visitor: VisitorDep, secret: Secret) -> Response:
    secret = link_secret(secret)
    try:
        start = await engine_of(request).access.begin_accept(secret, source=source_of(request))
    except InvitationInvalid:
        return _invalid(request, visitor)
    except SignInsHeld as held:
        return held_page(
            request, visitor, held, "invitation.html", step="link", secret=secret, problem=None
        )
    return _page(
        request,
        visitor,
        "invitation.html",
        step="password",
        qr=qr_code,
        secret=secret,
        start=start,
        problem=None,
    )


_MISMATCH: Final = "password_again"
"""The field of the form's own refusal: the two passwords differ (its sentence says so)."""


@router.post("/invitation/accept")
async def accept_invitation(
    request: Request,
    visitor: VisitorDep,
    secret: Secret,
    password: Password,
    password_again: Password,
    code: Code,
    email: Annotated[str, Form(max_length=320)],
    totp_secret: Annotated[str, Form(max_length=200)],
) -> Response:
    access = engine_of(request).access
    if not totp.looks_like_secret(totp_secret) or not _EMAIL.match(email):
        # The form's hidden fields, which only show the same secret again after a mistake,
        # came back changed or cut short: there is nothing sound to show again, and a secret
        # pyotp cannot read would fail the page. Back to the link, which makes a new secret.
        field = "totp_secret" if not totp.looks_like_secret(totp_secret) else "email"
        return _page(
            request,
            visitor,
            "invitation.html",
            status=422,
            step="link",
            secret=secret.strip(),
            problem=Said(_CHANGED, "console.invitation_form_changed", field=field),
        )
    # Two passwords that differ are said with the service's refusals (policy, code), and
    # make it activate nothing.
    mismatch = BadAccessInput("The two passwords differ.", field=_MISMATCH)
    known = [mismatch.coded("console.password_mismatch")] if password != password_again else []
    problems: list[Said] = []
    try:
        done = await access.finish_accept(
            secret.strip(), password, code.strip(), source=source_of(request), known=known
        )
    except InvitationInvalid:
        return _invalid(request, visitor)
    except SignInsHeld as held:
        # Nothing was checked. The same secret again, as after a mistake: the person may
        # have scanned it, and continues with a fresh code once the wait is over.
        again = AcceptStart(email, "", totp_secret, totp.provisioning_uri(totp_secret, email))
        return held_page(
            request,
            visitor,
            held,
            "invitation.html",
            step="password",
            qr=qr_code,
            secret=secret.strip(),
            start=again,
            problem=None,
        )
    except BadAccessInput as exc:  # each names its rule (policy, code), never the value
        refused = exc.problems if isinstance(exc, AccessRefusals) else (exc,)
        problems = [said(one, field=getattr(one, "field", None) != _MISMATCH) for one in refused]
    else:
        return _page(
            request,
            visitor,
            "invitation.html",
            step="done",
            codes=done.recovery_codes,
            problem=None,
        )
    # Opening the link again would make a new TOTP secret, and the person may have scanned this
    # one already: show the same one again (the service checks the code against its own copy).
    start = AcceptStart(email, "", totp_secret, totp.provisioning_uri(totp_secret, email))
    return _page(
        request,
        visitor,
        "invitation.html",
        status=422,
        step="password",
        qr=qr_code,
        secret=secret.strip(),
        start=start,
        problem=None,
        problems=problems,
    )


def qr_code(uri: str) -> str:
    """The ``otpauth://`` address as a QR code for an authenticator app to scan: an SVG data
    URI made here, so the secret never leaves the engine for a QR service."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def _invalid(request: Request, visitor: VisitorDep) -> Response:
    return _page(
        request,
        visitor,
        "invitation.html",
        status=410,
        step="link",
        problem="invite.invalid",
    )
