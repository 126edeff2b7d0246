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
  Also a file that is no destination's own (``Catalog.stray_files``: a name not of the form
  ``<id>.yaml``, such as ``lab-west.yml`` or ``Lab West.yaml``), which changes nothing in
  service: its target is the id it claims when another file already defines that id (the
  trail the operator reads for that destination), else the file's name, as no destination is
  named. ``details.file`` tells it from the destination's own file, so each file's refusals
  are told apart (``own_file``, ``this_file``) though they share a target.
- ``destination.file_restored``: a refused file was put back to the definition in service.

``details`` say what changed: ``keys``, the top-level keys, and for an edit taken into service
``changes``, each changed setting (``host``, ``retry.max_attempts``, ``messages.referral``) with
its old and new value. A definition holds no secret to leave out: TLS is named by the paths of
its files (docs/access.md), whose contents are never read here, and no patient data is in it.
A refused file is described by its keys and the rules it broke (each as its ``code`` and an
English ``rule``), never its values: they were not accepted, and may be anything. Where the
tools' text of a rule names a value from the file (the id inside a misnamed file, a version
name, what the YAML parser found), the entry says the rule without it (``SAID_WITHOUT_VALUES``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
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


SAID_WITHOUT_VALUES: Final[Mapping[str, str]] = {
    "file_misnamed": (
        "the id inside does not match the file name; a destination's file is named <id>.yaml, "
        "so this file is refused"
    ),
    "file_of_another": (
        "the id inside is that of a destination whose own file is another one; a "
        "destination's file is named <id>.yaml, so this file is refused"
    ),
    "yaml_syntax": "YAML syntax error",
    "version_unknown": "unknown message version (known: {known})",
    "version_event_type": "the message version is for {event_type} events",
    "version_retired": "the message version is retired; use its successor {successor!r}",
}
"""A refused file's rules whose English text (``DestinationFileError.rule``, which the tools
show whole) names a value from the file, as the trail says them: with only the values that
are the engine's own (the versions it knows, a successor), never the file's."""


def problem(error: DestinationFileError) -> dict[str, Any]:
    """One rule a refused file broke: its key, its code (ours, else pydantic's error type),
    and the rule in English without a value from the file."""
    code = error.code or error.type
    text = SAID_WITHOUT_VALUES.get(code or "")
    return {
        "key": error.key,
        "code": code,
        "rule": error.rule if text is None else text.format(**error.values),
    }


def stray_target(file: str, problems: tuple[DestinationFileError, ...]) -> str:
    """What a refused file that is no destination's own is about: the id it claims twice, or
    else its name.

    The id a second file claims is that of a destination whose own file defines it, in
    service: naming it takes no value from this file that the trail does not hold already,
    and puts the refusal where the operator looks for that destination. Any other id inside
    (a misnamed file's) was never accepted, so it is not the target.
    """
    return claimed_id(problems) or Path(file).name


def claimed_id(problems: tuple[DestinationFileError, ...]) -> str | None:
    """The id of a destination whose own file is another one, which this file claims too."""
    for error in problems:
        if error.code == "file_of_another":
            return str(error.values["id"])
    return None


def own_file(destination_id: str) -> Callable[[AuditRecord], bool]:
    """Whether a state entry about ``destination_id`` is about its own file (or made by a
    tool): not the refusal of another file claiming its id."""
    own = f"{destination_id}.yaml"

    def check(entry: AuditRecord) -> bool:
        return entry.action != REFUSED or entry.details.get("file") in (None, own)

    return check


def this_file(name: str) -> Callable[[AuditRecord], bool]:
    """Whether an entry is a refusal of the file ``name``."""

    def check(entry: AuditRecord) -> bool:
        return entry.action == REFUSED and entry.details.get("file") == name

    return check


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
        "problems": [problem(p) for p in problems],
        "revision": revision,
        "sha256": None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


def repeats_refusal(details: Mapping[str, Any]) -> Callable[[AuditRecord | None], bool]:
    """Whether the newest state entry already says this refusal: the same text refused for
    the same rules (told by key and rule: the code follows from the rule, and entries written
    before codes were kept have none)."""

    def check(last: AuditRecord | None) -> bool:
        return (
            last is not None
            and last.action == REFUSED
            and last.details.get("sha256") == details["sha256"]
            and _rules(last.details.get("problems")) == _rules(details["problems"])
        )

    return check


def _rules(problems: Any) -> list[tuple[Any, Any]]:
    return [(p.get("key"), p.get("rule")) for p in problems or ()]


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
