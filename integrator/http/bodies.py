"""Request bodies of the API; unknown keys are refused everywhere.

Every integer a request can carry is bounded to what the store can hold (``INT_MAX``, the
largest 32-bit integer, the size of a revision column), so an out-of-range number is a 422
naming the field, never an overflow deep in the database driver.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrator.http.periods import since_field, until_field
from integrator.ids import stored_id
from integrator.reasons import MAX_REASON
from integrator.search import closed_value

INT_MAX: Final = 2**31 - 1
"""The largest offset or revision the API takes: the store's 32-bit integer columns."""
MAX_LIMIT: Final = 1000
"""The most rows one page of a list holds."""

LIMIT_TEXT: Final = f"at most this many items (1 to {MAX_LIMIT}), newest first"
OFFSET_TEXT: Final = (
    "items to skip, in the listing's order (newest first; the route says by what key). Items "
    "that arrive between two pages push the others down, so the next page repeats some, and a "
    "deep offset is slow (the store walks every item before it): to page, prefer `after` "
    "(docs/support.md, 'Paging')"
)
AFTER_TEXT: Final = (
    "the id of the last item of the page before: this page holds the items listed after it, in "
    "the listing's order, with the same terms. Items that arrive meanwhile do not shift the "
    "pages, and every page is as fast as the first. Not with `offset` (docs/support.md, "
    "'Paging')"
)
TOP_LIMIT_TEXT: Final = (
    f"at most this many items (1 to {MAX_LIMIT}), newest first; there is no offset. When "
    "`limit` items come back there may be more: ask for narrower periods (`since`, `until`) "
    "until each answers fewer than `limit` (docs/support.md, 'Paging')"
)
"""The paging parameters' descriptions, in the document (docs/support.md, 'Paging'): offset
paging shifts as new items arrive (newest first) and walks every skipped item; ``after`` (a
keyset on the listing's own order) does neither."""

PageLimit = Annotated[int, Field(strict=True, ge=1, le=MAX_LIMIT, description=LIMIT_TEXT)]
PageOffset = Annotated[int, Field(strict=True, ge=0, le=INT_MAX, description=OFFSET_TEXT)]
PageAfter = Annotated[str | None, Field(max_length=64, description=AFTER_TEXT)]
"""``after`` of a search body that lists messages or events: an id (a UUID)."""
PageAfterEntry = Annotated[int | None, Field(strict=True, ge=1, le=INT_MAX, description=AFTER_TEXT)]
"""``after`` of an audit search: an entry's id (a number)."""
PageTopLimit = Annotated[int, Field(strict=True, ge=1, le=MAX_LIMIT, description=TOP_LIMIT_TEXT)]
"""The ``limit`` of a listing without an offset (rejected input)."""
Flag = Annotated[bool, Field(strict=True)]
"""A body's true or false: JSON's, not ``"off"``, ``"no"`` or ``0``, which pydantic would
read as false (``{"dry_run": "off"}`` resent for real)."""
AuditReason = Annotated[
    str,
    Field(
        max_length=MAX_REASON,
        description=(
            f"why (goes into the audit trail): required, at most {MAX_REASON} characters; a "
            "longer one is a 422 naming reason and the bound, and nothing is done"
        ),
    ),
]
"""A resend's or a discard's reason. Blank is refused by the service (422 'a reason is
required'), in the same words as the command line and the console."""


class SearchTerms(BaseModel):
    """Message search terms; the only way to search by BSN (a body, never the URL)."""

    model_config = ConfigDict(extra="forbid")

    bsn: str | None = Field(None, repr=False)  # never in a repr, so never in a traceback
    zd_number: str | None = None
    event_id: str | None = None
    control_id: str | None = None
    destination: str | None = None
    status: str | None = None
    version: str | None = None
    event_type: str | None = None
    since: str | None = since_field("Created", max_length=None)
    until: str | None = until_field("Created", max_length=None)


class SearchBody(SearchTerms):
    limit: PageLimit = 100
    offset: PageOffset = 0
    after: PageAfter = None


class ResendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: AuditReason
    mode: Literal["original", "remap"] | None = None
    to: str | None = None

    @field_validator("mode", mode="before")
    @classmethod
    def _any_case(cls, given: object) -> object:
        """A mode in any case (``Original``), as the command line and every search term of a
        closed set take it (``search.closed_value``); anything else is left for the field's
        own refusal, which lists the modes."""
        if isinstance(given, str):
            return closed_value(given, ("original", "remap")) or given
        return given


class MessageResendBody(ResendBody):
    """One message's resend; ``expected_newest_resend`` is its guard only (a batch's skip rules
    are ``deadletter.resend``'s)."""

    expected_newest_resend: str | None = Field(
        None,
        max_length=64,
        description=(
            "the `message_id` of the newest resend of the message the client saw (its "
            '`resends` in `GET /api/v1/messages/{id}`), or `""` when it saw none: when another '
            "has been made since (a colleague's, a moment before), nothing is sent and the "
            "answer is a 409 naming it. Left out, the message is resent whatever was resent "
            "before"
        ),
    )

    @field_validator("expected_newest_resend")
    @classmethod
    def _as_stored(cls, given: str | None) -> str | None:
        """An id read as the store keeps it (in either case, with or without dashes)."""
        if not given:
            return given
        found = stored_id(given)
        if found is None:
            raise ValueError('must be a message id, or "" when no resend was seen')
        return found


class BatchDiscardBody(BaseModel):
    """Dead letters to discard, each with its resend chain: ``message_ids``, and/or the
    unresolved ones that ``all``, a ``destination`` or a period on when they died select (what
    ``GET /api/v1/deadletters`` lists with the same terms)."""

    model_config = ConfigDict(extra="forbid")

    reason: AuditReason
    message_ids: list[str] = Field(default_factory=list, max_length=100_000)
    every: bool = Field(
        False,
        alias="all",
        strict=True,
        description="every unresolved dead letter of the caller's clusters",
    )
    destination: str | None = Field(None, max_length=128)
    since: str | None = since_field("Died")
    until: str | None = until_field("Died")
    dry_run: Flag = False

    @field_validator("message_ids")
    @classmethod
    def _as_stored(cls, ids: list[str]) -> list[str]:
        """As ``BatchResendBody`` reads them: an id in either case, with or without dashes."""
        return [stored_id(i) or i for i in ids]


class BatchResendBody(ResendBody):
    message_ids: list[str] = Field(default_factory=list, max_length=100_000)
    filter: SearchTerms | None = None
    # Of the selection, the ids a person named: the others (found by a broad filter, or listed
    # by a client that searched first) are skipped when they already have a live resend to the
    # same destination. Default: ``deadletter.resend``'s rule (``message_ids`` are named, and so
    # is what a filter with a ZD number, event id or MSH-10 finds).
    named_ids: list[str] | None = None
    dry_run: Flag = False

    @field_validator("message_ids", "named_ids")
    @classmethod
    def _as_stored(cls, ids: list[str] | None) -> list[str] | None:
        """Ids read as the store keeps them, as in a path: in either case, with or without
        dashes; what is no id stays as sent, and is refused as an unknown one."""
        if ids is None:
            return None
        return [stored_id(i) or i for i in ids]
