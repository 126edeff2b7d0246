"""``--reason`` of a command that shows patient data or exports a listing: its audit entry's
why (docs/product.md §8; ``integrator.stated_reason``).

The server's CLI records its views and exports as ``local:<user>``, as the API and the console
record theirs under who signed in; the why is what the person at the terminal says. Checked as
every reason is (``integrator.reasons.bounded``: at most 1000 characters, no BSN written out)
before the store is opened, refused by the option's name (exit 2), and stated for the whole
command (``stated_reason.stating``), so whatever it reads and records carries it. Where the
engine requires a reason, a command that would show patient data or export without one is
refused, naming ``--reason``, before anything is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from integrator.cli.common import fail
from integrator.reasons import MAX_REASON, bounded

if TYPE_CHECKING:  # loaded when a command runs: ``--help`` loads nothing heavy
    from integrator.settings import Settings

WhyOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help=(
            "Why you look: recorded with the view or export in the audit log (at most "
            f"{MAX_REASON} characters; no BSN)."
        ),
    ),
]


@contextmanager
def why_stated(reason: str | None, settings: Settings) -> Iterator[None]:
    """Within it, ``reason`` (``--reason``) is the why of every view and export the command
    records; one that breaks a reason's rules ends the command first, exit 2. Where the
    engine requires a reason (``INTEGRATOR_REASON_REQUIRED``), a view or export without one
    ends it (``stated_reason.ReasonNeeded``, exit 2, ``--reason: required: …``) before
    anything is shown; a listing that shows no patient data needs none."""
    from integrator.errors import ConfigurationError
    from integrator.stated_reason import stating

    try:
        checked = bounded(reason, ConfigurationError)
    except ConfigurationError as refused:
        fail(f"--reason: {refused}", 2)
    with stating(checked, required=settings.reason_required, named="--reason"):
        yield
