"""``BadId``: an id as people give it that names no one thing.

Apart from ``common`` so that the exception tree (``integrator.errors``, which pulls in the
event schemas) is imported only by a command that resolves an id, not by every start.
"""

from __future__ import annotations

from integrator.errors import PermanentError


class BadId(PermanentError):
    """An id as given matches nothing, or several things: bad input (exit 2).

    ``unknown``: nothing of the kind has that id (not: too short, several have it), so a
    command may look whether it names something else (``message_reads.named_instead``).
    """

    exit_code = 2

    def __init__(self, text: str, *, unknown: bool = False) -> None:
        super().__init__(text)
        self.unknown = unknown
