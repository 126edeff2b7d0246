"""The destinations directory refusing to be read or written: one clear error, not a traceback.

The documented systemd layout keeps ``/var/lib/integrator`` to the service's user
(``StateDirectoryMode=0700``), so a person in group ``integrator`` who runs ``integrator
destinations list`` as themselves cannot list the directory, and with a directory they may read
but not write, ``destinations pause`` cannot create the file it replaces the old one with. The
operating system says so with an ``OSError`` naming the path; ``files_of`` turns that into
``DirectoryUnusable``, which names the directory, what could not be done (read, write) and what
that takes, and is an ``IntegratorError``: the CLI prints it as one line and exits 1 (a problem
of the environment, not of what was typed), the API and the console answer it instead of a 500.

Only an error about the directory or a path in it counts: any other ``OSError`` (a store's
connection reset, say) passes unchanged, since it is not this. No change is half made: a
destination's file is replaced atomically or not at all (``operators._replace_text``), and its
revision is only recorded once the file is written.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal

from integrator.errors import IntegratorError

Operation = Literal["read", "write"]

_NEEDS: Final[dict[Operation, str]] = {
    "read": "listing the destination files takes read and execute permission on the directory",
    "write": (
        "changing a destination takes write and execute permission on the directory, where "
        "its file is replaced by a new one"
    ),
}


class DirectoryUnusable(IntegratorError):
    """The destinations directory could not be read or written (``operation``).

    The text names the directory: it is for who may change destination files, the server's
    users and ``destinations.write`` (``integrator.file_paths``); ``rule`` is the same without
    the path, for everybody else.
    """

    exit_code = 1

    def __init__(self, directory: Path, operation: Operation, reason: str, *, denied: bool):
        self.directory = directory
        self.operation = operation
        self.denied = denied
        what = "read it" if operation == "read" else "write in it"
        self.rule = f"cannot {what}: {reason}" + (f" ({_NEEDS[operation]})" if denied else "")
        super().__init__(f"destinations directory {directory}: {self.rule}")
        if operation == "read":
            self.coded("destination.directory_unreadable")
        else:
            self.coded("destination.directory_unwritable")

    @property
    def without_path(self) -> str:
        """The text for who is not shown the server's paths."""
        return f"destinations directory: {self.rule}"


def unusable(exc: OSError, directory: Path, operation: Operation) -> DirectoryUnusable | None:
    """``exc`` as ``DirectoryUnusable`` when it is about ``directory``, a path in it or one of
    the directories above it (a parent that is a file, say); else None."""
    if exc.filename is None:
        return None
    path = Path(str(exc.filename))
    if not (path == directory or directory in path.parents or path in directory.parents):
        return None
    denied = isinstance(exc, PermissionError)
    if isinstance(exc, (NotADirectoryError, FileExistsError)):  # a file where it should be
        reason = f"{path} is not a directory"
    else:
        reason = (exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)).lower()
    return DirectoryUnusable(directory, operation, reason, denied=denied)


@contextmanager
def files_of(directory: Path, operation: Operation) -> Iterator[None]:
    """Within it, an ``OSError`` about ``directory`` becomes ``DirectoryUnusable``."""
    try:
        yield
    except OSError as exc:
        refused = unusable(exc, directory, operation)
        if refused is None:
            raise
        raise refused from exc
