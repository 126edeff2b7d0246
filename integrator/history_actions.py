"""What a destination's revision records as its action, and how a front door reads it back.

The store keeps the action as English words (``pause``, ``rollback to 15``), which the CLI and
the API show as they are. The console says them in the person's language, so it needs the
whole set and the revision a rollback names as data rather than by guessing at the text: both
live here, beside the words ``DestinationAdmin`` writes, so a new action is added in one place
and ``tests/console/test_history_words.py`` fails until the console has a sentence for it.
The diff's two file names are here for the same reason: the console words its header too.
"""

from __future__ import annotations

import re
from typing import Final

ADD: Final = "add"
UPDATE: Final = "update"
PAUSE: Final = "pause"
RESUME: Final = "resume"
REMOVE: Final = "remove"
FILE: Final = "file"
"""A hand edit of the destination's file, recorded when the engine loads it."""
ROLLBACK: Final = "rollback"

ACTIONS: Final = (ADD, UPDATE, PAUSE, RESUME, REMOVE, FILE, ROLLBACK)
"""Every kind of action a revision records (a rollback's is ``rollback to N``)."""

FILE_ACTOR: Final = "file"
"""The actor of a hand edit: nobody known, the file itself."""

DIFF_BEFORE: Final = "before"
DIFF_AFTER: Final = "after"
"""The file names of a revision's unified diff (``--- before``, ``+++ after``)."""

_ROLLBACK: Final = re.compile(r"rollback to (\d+)")


def told(action: str, actor: str, at: str) -> str:
    """A revision's action, actor and time (``at``, as shown) as one English phrase, for the
    CLI's history and a refusal that names the latest revision: ``pause by local:root at …``.
    A hand edit, which the store keeps as action ``file`` by actor ``file``, is said as what
    it was, "file by file" told an operator nothing; its time is when a process read the file
    and recorded it, not when it was edited, so it is said so."""
    if action == FILE and actor == FILE_ACTOR:
        return f"the file edited by hand, found at {at}"
    return f"{action} by {actor} at {at}"


def rollback_to(revision: int) -> str:
    """The action of a rollback to ``revision``, as the store keeps it."""
    return f"{ROLLBACK} to {revision}"


def read_action(action: str) -> tuple[str, dict[str, int]]:
    """A stored action as its kind and values: ``("rollback", {"revision": 15})``; an action
    this code does not know (written by a later version, say) comes back as it is."""
    rollback = _ROLLBACK.fullmatch(action)
    if rollback is not None:
        return ROLLBACK, {"revision": int(rollback.group(1))}
    return action, {}
