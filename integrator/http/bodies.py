"""Request bodies of the API; unknown keys are refused everywhere."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    since: str | None = None  # ISO date or date-time; a date is that whole local day
    until: str | None = None


class SearchBody(SearchTerms):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class ResendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str
    mode: Literal["original", "remap"] | None = None
    to: str | None = None


class BatchResendBody(ResendBody):
    message_ids: list[str] = Field(default_factory=list, max_length=100_000)
    filter: SearchTerms | None = None
    # Of the selection, the ids a person named: the others (found by a broad filter, or listed
    # by a client that searched first) are skipped when they already have a live resend to the
    # same destination. Default: ``deadletter.resend``'s rule (``message_ids`` are named, and so
    # is what a filter with a ZD number, event id or MSH-10 finds).
    named_ids: list[str] | None = None
    dry_run: bool = False
