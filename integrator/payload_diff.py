"""Where two versions of one event differ, by field name only.

The same ``event_id`` is accepted once (it is the idempotency key), so a second copy whose
content differs, say a corrected family name, would be answered "duplicate" and its change
dropped without a word. Intake says which fields differ instead, so the sender learns that the
change was not taken. Only field paths are named (``patient.name.family``, ``attachments[0]``):
the values are patient data and stay out of answers and logs.
"""

from __future__ import annotations

from typing import Any

#: Paths named at the most; the rest is counted.
MAX_PATHS = 8


def differing_fields(before: Any, after: Any, path: str = "") -> list[str]:
    """The paths under which ``before`` and ``after`` (JSON-ready values) differ, in order."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(before.keys() | after.keys()):
            out += differing_fields(
                before.get(key), after.get(key), f"{path}.{key}" if path else key
            )
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            out += differing_fields(old, new, f"{path}[{index}]")
        return out
    return [path or "$"]


def described(paths: list[str]) -> str:
    """``a, b and 3 more``: the first ``MAX_PATHS`` paths, then how many besides."""
    shown = ", ".join(paths[:MAX_PATHS])
    rest = len(paths) - MAX_PATHS
    return f"{shown} and {rest} more" if rest > 0 else shown
