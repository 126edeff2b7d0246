"""``since`` and ``until`` as the API's document describes them, as a query parameter or a body
field: ``integrator.period_words``' text, the one the CLI's help says, with how to write the
``+`` of an offset in a URL. Every route and body that takes a period declares its bounds with
these, so none describes fewer forms than ``search.parse_moment`` reads.

``max_length``: as each declared it before (64 on most; none where none was), so describing a
bound changes what it accepts nowhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import Field

from integrator.period_words import since_help, until_help


def since_query(what: str, *, max_length: int | None = 64) -> Any:
    """A ``since`` query parameter selecting on ``what`` (``Created``, ``Died``)."""
    return Query(max_length=max_length, description=since_help(what, in_url=True))


def until_query(what: str, *, max_length: int | None = 64) -> Any:
    """An ``until`` query parameter selecting on ``what``."""
    return Query(max_length=max_length, description=until_help(what, in_url=True))


def since_field(what: str, *, max_length: int | None = 64) -> Any:
    """A ``since`` body field selecting on ``what``; not given, no lower bound."""
    return Field(None, max_length=max_length, description=since_help(what))


def until_field(what: str, *, max_length: int | None = 64) -> Any:
    """An ``until`` body field selecting on ``what``; not given, no upper bound."""
    return Field(None, max_length=max_length, description=until_help(what))
