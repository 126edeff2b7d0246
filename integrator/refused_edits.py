"""A refused hand edit that a tool's change writes over: kept beside its file, and named.

A destination whose file is refused (broken) runs on its last good definition, and a change
made to it through a tool (a pause during a hospital's maintenance window, say) rewrites the
file from that definition. The refused edit may hold good changes besides its mistake (a new
port beside a misspelt key); before, they were gone without a word but "the refused edit is
gone". Now the file as it was refused is copied beside it first, under a name the loader and
the watcher skip, and the change's notice names the keys the refused edit had changed, so
nothing typed by hand is lost and the operator knows what to put back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REFUSED_SUFFIX = ".refused"
"""Not ``.yaml``/``.yml``: the catalog's loader and the directory watcher leave the copy alone."""


def refused_copy_path(path: Path, now: datetime) -> Path:
    """Where the refused text of ``path`` is kept: one copy per rewrite, never overwritten."""
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    return path.with_name(f"{path.name}.{stamp}{REFUSED_SUFFIX}")


def edited_keys(refused_text: str | None, good: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The top-level keys of the refused file whose value differs from the good definition
    (``definition_of``): what the hand edit changed, its mistakes included. A key the file
    leaves out is not counted: a hand-written file may leave defaults out. Empty when the
    refused text is no YAML mapping (it cannot be told key by key) or nothing is known."""
    if refused_text is None or good is None:
        return ()
    try:
        refused = yaml.safe_load(refused_text)
    except yaml.YAMLError:
        return ()
    if not isinstance(refused, dict):
        return ()
    return tuple(sorted({str(key) for key, value in refused.items() if good.get(key) != value}))
