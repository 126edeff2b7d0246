"""A destination's id and cluster, alone: their form and bounds, without the destination file.

The store's columns, the metrics' labels, a resend's target, the broker's queue names and the
access rules' clusters need only these; ``destinations.config`` holds the destination file's
model (pydantic and YAML, some 30-50 ms of a command's start-up), which every command that
reads the store loaded for them.
"""

from __future__ import annotations

import re
from typing import Final

ID_FORM: Final = re.compile(r"[a-z0-9-]+")
"""The characters of a destination's id (a new one also begins and ends with a letter or a
digit and holds a letter: ``destinations.config``)."""

MAX_ID: Final = 64
"""A destination's id at most: the width of the store's columns that hold one
(``messages.destination_id``, ``destination_pauses.destination_id``). A longer one was taken
and worked on SQLite, which does not hold text to a column's width, while PostgreSQL refused
every event for its providers and, once it was paused, the engine's start."""


NEW_ID_FORM: Final = re.compile(r"(?=[a-z0-9-]*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?")
"""A destination's id as a file may give it: ``ID_FORM``'s characters, beginning and ending with
a letter or a digit (a ``-x`` reads as an option to the command line), with a letter in it
(``999990019`` would be a BSN in every URL, log line and audit entry that names the
destination; so a search term of this form is no BSN pasted there, ``search.term_holds_bsn``)."""


def is_new_destination_id(text: str) -> bool:
    """Whether ``text`` is of a new destination's id form (``NEW_ID_FORM``, at most
    ``MAX_ID``)."""
    return len(text) <= MAX_ID and NEW_ID_FORM.fullmatch(text) is not None


def is_destination_id(text: str) -> bool:
    """Whether ``text`` has a destination id's form (lower-case letters, digits, dashes; at
    most ``MAX_ID``), whether or not such a destination is configured."""
    return len(text) <= MAX_ID and ID_FORM.fullmatch(text) is not None


MAX_CLUSTER: Final = 64
"""A destination's cluster (the access rules' unit: ``integrator.clusters``) at most."""
