"""An audit entry's origin and details on the console's audit page, in the reader's language.

The details read as ``key: value`` (``integrator.audit_details``, which ``integrator audit
list`` shows them by too), with a yes or no in the person's language, and a time recorded in
one (``expires_at``, ``until``: ISO 8601 in UTC) as the page shows its other times, in the
console's time zone (its ``when``): in UTC it read an hour or two off the entry's own time
beside it. ``source`` is not among them: the page shows it in its own column
(``integrator.audit.audit_origin``).

Everything here is plain text; the template escapes it (autoescaping), so a detail can never
become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from jinja2 import pass_context
from jinja2.runtime import Context

from integrator import audit_details
from integrator.audit import AuditOrigin
from integrator.audit_details import NOTHING, TimeText, YesNo
from integrator.console.i18n import Translator

SHOWN_APART: Final = frozenset({"source"})
"""Details the page shows in a column of their own."""


def _words(t: Translator) -> YesNo:
    return YesNo(yes=t("audit.yes"), no=t("audit.no"))


def detail_pairs(
    t: Translator, details: Mapping[str, Any] | None, times: TimeText | None = None
) -> list[tuple[str, str]]:
    """An entry's details as ``(key, value)`` in the order recorded, but for those shown in a
    column of their own; a recorded time as ``times`` shows one."""
    return audit_details.detail_pairs(details, _words(t), leave_out=SHOWN_APART, times=times)


def origin_text(t: Translator, origin: AuditOrigin) -> str:
    """From where, as a person reads it: an address as recorded, else its kind in words."""
    if origin.kind == "address":
        return origin.name
    if origin.kind == "token":
        return t("audit.origin.token", name=origin.name)
    if origin.kind in ("command_line", "engine"):
        return t(f"audit.origin.{origin.kind}")
    return NOTHING


def _translator(context: Context) -> Translator:
    t = context["t"]
    assert isinstance(t, Translator)
    return t


@pass_context
def details_filter(context: Context, details: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The page's details, its times as the page's ``when`` shows the entry's own."""
    when = context.get("when")
    return detail_pairs(_translator(context), details, when if callable(when) else None)


@pass_context
def origin_filter(context: Context, origin: AuditOrigin) -> str:
    return origin_text(_translator(context), origin)
