"""A destination change's intent, kept beside its file until the change is recorded.

A change through a tool writes the destination's file and then commits its revision (who, why)
in the store (``operators._under_revision``). A process stopped between the two (a crash, a
SIGKILL, a deploy that did not wait) left the file changed and no revision: the next load took
the file for a hand edit and recorded it as ``file``, without the person or token who made the
change and their reason, and the caller's retry found nothing left to change, so the trail
never named them (docs/operators.md: "who, when, why").

So before the file is written, the change's actor, action, reason and definition are kept in a
hidden file beside it (``.ID.change``: the loader, the watcher and the stray-file check skip
hidden files), deleted once the revision is committed or the change did not happen. A load that
finds a file saying the definition an intent names records the revision as that change, with
its actor and reason, and deletes the intent; an intent whose definition the file does not say
(the change never reached the file, or a hand edit came after) is deleted when the file is
recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUFFIX = ".change"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a change was about to record: who, which action, why, and the definition."""

    actor: str
    action: str
    reason: str | None
    definition: dict[str, Any]


def intent_path(directory: Path, destination_id: str) -> Path:
    return directory / f".{destination_id}{SUFFIX}"


def keep_intent(directory: Path, destination_id: str, intent: Intent) -> Path:
    """Write ``intent`` for ``destination_id`` whole (a reader never sees half of it); where."""
    path = intent_path(directory, destination_id)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    text = json.dumps(
        {
            "actor": intent.actor,
            "action": intent.action,
            "reason": intent.reason,
            "definition": intent.definition,
        },
        ensure_ascii=False,
    )
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def read_intent(directory: Path, destination_id: str) -> Intent | None:
    """The intent kept for ``destination_id``, or None: none, or one that cannot be read
    (then the file is recorded as a hand edit, as before)."""
    try:
        data = json.loads(intent_path(directory, destination_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("definition"), dict):
        return None
    actor, action, reason = data.get("actor"), data.get("action"), data.get("reason")
    if not isinstance(actor, str) or not isinstance(action, str):
        return None
    return Intent(actor, action, reason if isinstance(reason, str) else None, data["definition"])


def drop_intent(directory: Path, destination_id: str) -> None:
    with contextlib.suppress(OSError):
        intent_path(directory, destination_id).unlink()
