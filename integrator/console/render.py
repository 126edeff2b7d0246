"""Pages from templates: one Jinja2 environment, one function that every page answers with.

Autoescaping is on for every template, so a value (a receiver's ACK text, a destination name)
can never become markup. Every page gets the same context: ``t`` (the person's language),
``visitor``, ``csrf``, ``nav`` (only the entries the person may use) and ``may``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from destinations.config import readable_duration
from integrator import kept_searches
from integrator.access.permissions import Permission
from integrator.console import audit_text, history_text
from integrator.console.access_form import refused_controls
from integrator.console.errors import BadInput, ConsoleError, Forbidden
from integrator.console.form_limits import LIMITS
from integrator.console.i18n import COOKIE, LANGUAGES, Translator, choose
from integrator.console.refusals import say
from integrator.console.session import (
    engine_of,
    local_path,
    path_holds_bsn,
    set_presession_cookie,
    this_page,
)
from integrator.console.visitor import Visitor, read_visitor
from integrator.presenters import shown_time

ENV = Environment(
    loader=PackageLoader("integrator.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def duration(span: timedelta) -> str:
    """``4 s``, ``12 min 3 s``, ``5 h 2 min``, ``3 d 4 h``: as precise as a glance needs."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


ENV.filters["duration"] = duration
# A destination file's own spelling (``10s``, ``24h``), so the page reads as the file does; a
# fraction of a second over one in seconds (``6.5s``, not ``6500ms``), which a file accepts too.
ENV.filters["file_duration"] = readable_duration
ENV.filters["history_action"] = history_text.action_filter
ENV.filters["history_actor"] = history_text.actor_filter
ENV.filters["diff_line"] = history_text.diff_line_filter
# An audit entry's details as key: value, and from where, in the person's language.
ENV.filters["audit_details"] = audit_text.details_filter
ENV.filters["audit_origin"] = audit_text.origin_filter
# How long a search by BSN is kept for its pages (``integrator.console.kept``), as pages say it.
# The grant rows' controls a refusal is about (marked aria-invalid: ``_grant_rows.html``).
ENV.globals["refused_controls"] = refused_controls
ENV.globals["limits"] = LIMITS  # every maxlength, from the services (form_limits)
ENV.globals["kept_minutes"] = int(kept_searches.LASTS.total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the navigation, shown to who holds ``permission`` somewhere (None: anybody
    signed in), or, with ``everywhere``, only to who holds it for all clusters: a page about
    what lies in no cluster would only refuse everybody else."""

    path: str
    label_key: str
    permission: Permission | None
    everywhere: bool = False

    def shown_to(self, visitor: Visitor) -> bool:
        if self.permission is None:
            return True
        if self.everywhere:
            return visitor.may(self.permission)
        return visitor.may_somewhere(self.permission)


def local_time(value: datetime | str | None, zone: tzinfo) -> str:
    """A time as people read it: in the engine's time zone, to the second, with its offset
    (which tells the repeated hour when summer time ends apart)."""
    return shown_time(value, zone).replace("T", " ")


def navigation(request: Request, visitor: Visitor) -> list[NavItem]:
    if visitor.identity is None:
        return []
    items: list[NavItem] = request.app.state.navigation
    return [i for i in items if i.shown_to(visitor)]


def start_page(request: Request, visitor: Visitor) -> NavItem | None:
    """Where the person starts: the first page of the navigation they may use (the dashboard
    for who may see destinations); None for who is not signed in."""
    items = navigation(request, visitor)
    return items[0] if items else None


RETURN_LIMIT = 2000
"""The longest return target the language form sends (``pages.auth.Next`` takes no more)."""


def language_return(request: Request, status: int = 200, address: str | None = None) -> str | None:
    """Where the language switch returns to: this very page, path and query, or None.

    A GET page is its address with the parameters the page takes (``session.this_page``): a
    search (``/messages?status=dead``) is kept across the switch. That puts nothing anywhere
    the page's own address does not hold already: a search by BSN is a ``?search=<handle>``
    (``console.kept``), never the number; a parameter the page does not take is left off, so
    whatever was typed into one (a BSN) is never drawn into the page; and the target travels
    in the form's body, to a redirect to the same address. It is a path of this console only
    (``local_path``, as for the sign-in page's ``next``): never a redirect elsewhere. Longer
    than the form takes, it is the path alone.

    A page that answers a form (a POST) has no address to return to: opening its action again
    would not show it, and sending its state round again is not something to do for a
    language. The invitation's second step is one: it shows the new TOTP secret, which only
    ever travels in form bodies, and opening the link again would make another one, so that
    an authenticator entry already scanned stops working. Such pages (that step, a form shown
    again with its errors, a confirmation) therefore offer no switch: None, and the page says
    the language can be changed on the next page (``base.html``), rather than lose the page.

    A refusal (``status`` 400 or more) returns to its path alone: its query may be the very
    thing refused (a BSN typed into an address, a handle that names nothing), and a refusal
    never repeats what it refused, not even in a hidden field. A page not found (404), or one
    whose path holds a BSN (``session.path_holds_bsn``: ``/messages/<BSN>``), returns to the
    start page: the path is then what was typed, a name or a BSN as likely as anything.

    A page whose parameters are themselves addresses gives its own ``address`` as it would be
    opened again: the sign-in page's ``next``, as it was given, may be any text (another site,
    a parameter of another page's); the switch returns to the sign-in page with the ``next``
    the sign-in itself accepts (``pages.auth``, ``errors.way_back``), never the one given.
    """
    if request.method != "GET":
        return None
    if address is not None:
        target = address
    elif status < 400:
        target = this_page(request)
    elif status == 404 or path_holds_bsn(request.url.path):
        target = "/"  # no page to return to, or one whose address holds a BSN typed into it
    else:
        target = local_path(request.url.path)
    if len(target) > RETURN_LIMIT:
        target = request.url.path
    return local_path(target)


def page(
    request: Request,
    visitor: Visitor,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    address: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``visitor``; hands out their pre-session cookie if new.
    ``address``: this page's own, for the language switch (``language_return``), when the
    page's address as it was opened must not be repeated."""
    html = ENV.get_template(template).render(
        t=Translator(visitor.lang),
        visitor=visitor,
        session_warning=session_warning(request) if visitor.identity is not None else None,
        csrf=visitor.csrf,
        nav=navigation(request, visitor),
        path=request.url.path,
        # Where the language switch returns to: this page, unless it answered a form (None).
        here=language_return(request, status, address),
        page_refused=status == 422,  # the title says so: a page that answers a refused form
        languages=LANGUAGES,
        may=visitor.may,
        P=Permission,
        when=functools.partial(local_time, zone=engine_of(request).settings.zone),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=headers)
    if visitor.fresh_presession is not None:
        set_presession_cookie(request, response, visitor.fresh_presession)
    return response


WARN_BEFORE_END = timedelta(minutes=2)
"""How long before its session ends a page says so, with "stay signed in" (as GOV.UK's
timeout warning does; WCAG 2.2.1 asks for at least 20 seconds)."""


@dataclass(frozen=True, slots=True)
class SessionWarning:
    """What a signed-in page needs to warn before its session ends (``static/console.js``):
    when to ask the server how long is left (``check_after``, seconds), and how long before
    the end to warn (``lead``)."""

    check_after: int
    lead: int


def session_warning(request: Request) -> SessionWarning:
    surely_left = engine_of(request).access.idle_left_at_least
    return SessionWarning(
        check_after=max(int((surely_left - WARN_BEFORE_END).total_seconds()), 0),
        lead=int(WARN_BEFORE_END.total_seconds()),
    )


SESSION_ENDED: Final = ("session.ended", "session.sign_in_again")
"""The notice (and its link's text) that the session ended."""
REASON_NEEDED: Final = ("why.stopped", "why.give")
"""The notice (and its link's text) that a reason is required and the session gives none."""


def session_ended(
    request: Request, link: str, *, status: int, notice: tuple[str, str] = SESSION_ENDED
) -> HTMLResponse:
    """The notice that a page that refreshed itself stopped (``errors.login_redirect``, ``errors.
    reason_asked``), with a link to what it needs (``link``: sign in, give a reason): swapped
    out of band into the page's ``#session-ended`` (a ``role="alert"`` region), and nothing
    else of the page (``HX-Reswap: none``), so what the person was typing stays."""
    lang = choose(request.cookies.get(COOKIE), request.headers.get("accept-language"))
    said, link_text = notice
    html = ENV.get_template("_session_ended.html").render(
        t=Translator(lang), link=link, said=said, link_text=link_text
    )
    return HTMLResponse(html, status_code=status, headers={"HX-Reswap": "none"})


async def error_page(
    request: Request, error: ConsoleError, *, anonymous: bool = False
) -> HTMLResponse:
    """The page of a refusal; ``anonymous``: without asking the store who is signed in (it
    is down), so in the language the browser asks for and without the navigation."""
    visitor = await read_visitor(request, check_post=False, ask_store=not anonymous)
    # A service's refusal (a ``refusals.Said``) is worded in the person's language here.
    message = say(visitor.lang, error.message) if isinstance(error, BadInput) else None
    # The way back is a page the person may open: an admin without destinations.read has no
    # dashboard, and a link to it would only lead on to somewhere else.
    back = start_page(request, visitor)
    needs = None  # what a refused page asks, and which roles give it
    if isinstance(error, Forbidden) and error.needed is not None:
        from integrator.access.permissions import roles_with

        needs = {
            "permission": error.needed.value,
            "roles": ", ".join(role.value for role in roles_with(error.needed)),
        }
    return page(
        request,
        visitor,
        "error.html",
        needs=needs,
        status=error.status,
        title_key=error.title_key,
        text_key=error.text_key,
        message=message,
        field=error.field if isinstance(error, BadInput) else None,
        back=back,
        again=error.again,
        again_key=error.again_key,
    )
