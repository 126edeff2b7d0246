"""An audit entry's origin and details as a person reads them, in their language.

The trail keeps ``details`` as JSON (``integrator.store``), which the API, ``--json`` and the
CSV export give as they are. Shown as Python writes them (``grants=['viewer@CARD']``,
``source=None``) an admin reads brackets and a word that is neither Dutch nor English; so the
audit page shows each detail as ``key: value``: a list joined with commas, nothing recorded as
``—``, a yes or no in the person's language, a nested object as its own ``key: value`` pairs
(in parentheses when deeper still). The keys stay as recorded: they are the trail's own names,
the ones ``docs/access.md`` describes and a search or a report refers to. ``source`` is not
among them: the page shows it in its own column (``integrator.audit.audit_origin``).

Everything here is plain text; the template escapes it (autoescaping), so a detail can never
become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from jinja2 import pass_context
from jinja2.runtime import Context

from integrator.audit import AuditOrigin
from integrator.console.i18n import Translator

NOTHING: Final = "—"
"""A value the trail recorded as absent (``null``), or an empty list or object."""
SHOWN_APART: Final = frozenset({"source"})
"""Details the page shows in a column of their own."""


def value_text(t: Translator, value: Any, *, nested: bool = False) -> str:
    """One detail's value in words: ``viewer@CARD, lab@LAB``, ``yes``/``ja``, ``—``."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):  # before int: a bool is one
        return t("audit.yes") if value else t("audit.no")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{k}: {value_text(t, v, nested=True)}" for k, v in value.items())
        if not pairs:
            return NOTHING
        return f"({pairs})" if nested else pairs
    if isinstance(value, list | tuple):
        return ", ".join(value_text(t, v, nested=True) for v in value) or NOTHING
    return str(value)


def detail_pairs(t: Translator, details: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """An entry's details as ``(key, value)`` in the order recorded, but for those shown in a
    column of their own."""
    return [
        (key, value_text(t, value))
        for key, value in (details or {}).items()
        if key not in SHOWN_APART
    ]


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
    return detail_pairs(_translator(context), details)


@pass_context
def origin_filter(context: Context, origin: AuditOrigin) -> str:
    return origin_text(_translator(context), origin)
