"""A destination revision's action, actor and diff header in the person's language.

The store keeps them in English (``integrator.history_actions``) for the CLI and the API; the
history page and the edit form's "changed since you opened it" say them with the sentences
``history.action.<kind>`` of ``i18n_ops.py``. An action no sentence exists for is shown as
stored, so a new one is never lost, only untranslated (a test fails for it first).
"""

from __future__ import annotations

from typing import Final

from jinja2 import pass_context
from jinja2.runtime import Context

from integrator import history_actions
from integrator.console.i18n import CATALOGUES, Translator

_DIFF_HEADER: Final = {
    f"--- {history_actions.DIFF_BEFORE}": ("--- ", "history.diff.before"),
    f"+++ {history_actions.DIFF_AFTER}": ("+++ ", "history.diff.after"),
}


def action_text(t: Translator, action: str) -> str:
    """``rollback to 15`` as ``teruggezet naar revisie 15``; an unknown action as stored."""
    kind, values = history_actions.read_action(action)
    key = f"history.action.{kind}"
    return t(key, **values) if key in CATALOGUES["en"] else action


def actor_text(t: Translator, actor: str) -> str:
    """The actor of a hand edit (the file itself) in words; a person or token as stored."""
    return t("history.actor.file") if actor == history_actions.FILE_ACTOR else actor


def diff_line(t: Translator, line: str) -> str:
    """A line of a revision's diff: its header's file names worded, any other as it is."""
    header = _DIFF_HEADER.get(line.rstrip())
    if header is None:
        return line
    marker, key = header
    return marker + t(key)


def _translator(context: Context) -> Translator:
    t = context["t"]
    assert isinstance(t, Translator)
    return t


@pass_context
def action_filter(context: Context, action: str) -> str:
    return action_text(_translator(context), action)


@pass_context
def actor_filter(context: Context, actor: str) -> str:
    return actor_text(_translator(context), actor)


@pass_context
def diff_line_filter(context: Context, line: str) -> str:
    return diff_line(_translator(context), line)
