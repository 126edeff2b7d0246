"""What the audit trail says about a destination's file changed by hand (actor ``file``).

A hand edit goes live within a second and can move a hospital's traffic to another host, so it
belongs in the audit trail like a change made through the CLI, the API or the console
(docs/product.md §8), not only in the destination's history. The engine writes these entries
when it reads the directory (``DestinationAdmin.record_file_changes``); nobody signed in made
the change, so the actor is ``file``, as in the history, and the target is the destination.

- ``destination.file``: a definition taken into service from its file: an edit, a new file, or
  the file deleted (``details.removed``). Written in the transaction that records its revision,
  so exactly once however many engines watch the directory.
- ``destination.file_refused``: the file was refused; the destination runs on as it was.
- ``destination.file_restored``: a refused file was put back to the definition in service.

``details`` say what changed: ``keys``, the top-level keys, and for an edit taken into service
``changes``, each changed setting (``host``, ``retry.max_attempts``, ``messages.referral``) with
its old and new value. A definition holds no secret to leave out: TLS is named by the paths of
its files (docs/access.md), whose contents are never read here, and no patient data is in it.
A refused file is described by its keys and the rules it broke, never its values: they were
not accepted, and may be anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from destinations.config import DestinationFileError
from integrator import history_actions
from integrator.refused_edits import edited_keys
from integrator.store import AuditRecord

EDIT: Final = f"destination.{history_actions.FILE}"
REFUSED: Final = "destination.file_refused"
RESTORED: Final = "destination.file_restored"

STATE_ACTIONS: Final = (
    *(f"destination.{action}" for action in history_actions.ACTIONS),
    REFUSED,
    RESTORED,
)
"""The entries that say what a destination's file holds: a tool's change (which writes the
file), a hand edit, a refusal or a repair. The newest of them decides whether a refusal or a
repair is new or was written already (by this engine's last reload, or by another engine)."""


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``details`` of a definition taken into service: ``keys`` and ``changes``.

    ``before`` None: a new destination (every setting changes from null); ``after`` None: its
    file was deleted (every setting changes to null, and ``removed`` says so).
    """
    old = _flat(before or {})
    new = _flat(after or {})
    changed = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    details: dict[str, Any] = {
        "keys": sorted({key.split(".", 1)[0] for key in changed}),
        "changes": {key: {"from": old.get(key), "to": new.get(key)} for key in changed},
    }
    if before is None:
        details["added"] = True
    if after is None:
        details["removed"] = True
    return details


def refusal(
    text: str | None,
    problems: tuple[DestinationFileError, ...],
    good: Mapping[str, Any] | None,
    revision: int | None,
) -> dict[str, Any]:
    """The ``details`` of a refused file: the keys the edit changed, the rules broken, the
    revision still in service, and the text's SHA-256 (``sha256``), which tells one refused
    edit from the next without keeping its values."""
    return {
        "keys": list(edited_keys(text, good)),
        "problems": [{"key": p.key, "rule": p.rule} for p in problems],
        "revision": revision,
        "sha256": None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


def repeats_refusal(details: Mapping[str, Any]) -> Callable[[AuditRecord | None], bool]:
    """Whether the newest state entry already says this refusal: the same text refused."""

    def check(last: AuditRecord | None) -> bool:
        return (
            last is not None
            and last.action == REFUSED
            and last.details.get("sha256") == details["sha256"]
            and last.details.get("problems") == details["problems"]
        )

    return check


def repeats_restored(last: AuditRecord | None) -> bool:
    """A file that loads again is a repair only when the trail's last word on it is a
    refusal; anything else means the repair was written already, or made by a tool."""
    return last is None or last.action != REFUSED


def _flat(definition: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"retry": {"initial": "2s"}}`` as ``{"retry.initial": "2s"}``; lists stay whole."""
    flat: dict[str, Any] = {}
    for key, value in definition.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat
