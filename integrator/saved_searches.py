"""Saved searches: a person's named message searches, kept on the server, never patient data.

A saved search holds identifier terms only (ZD number, destination, status, version, event
type, period): they name messages, not patients, so running one is a plain link. A BSN is
patient data: it is refused here, as a term and anywhere in a name or a term's value, before
anything is written, so no saved search can ever hold one. The terms are checked as a search
checks them (``search.build_filter``), so what is saved is a search that runs.

Every call names the person, and the store answers only with that person's saved searches:
another person's id is as unknown as an id that never existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from urllib.parse import urlencode

from integrator.search import BadSearch, build_filter, holds_bsn, term_holds_bsn, with_its_year
from integrator.settings import Settings
from integrator.store import Conflict, Store
from integrator.store.saved_searches import SavedSearchRecord

TERMS: Final = ("zd_number", "destination", "status", "version", "event_type", "since", "until")
"""What a saved search may hold, in the order the Messages page shows them."""
MAX_NAME: Final = 100
"""The longest name, in characters (the column's width)."""
MAX_TERM: Final = 200
"""The longest value of one term, as the Messages form takes it."""
MAX_PER_PERSON: Final = 25
"""The most saved searches one person keeps: a list to choose from, not an archive."""

_NO_BSN: Final = "a BSN is patient data and is never saved"


class SavedSearchRefused(ValueError):
    """What was given cannot be saved; names the field and the rule, never the value.

    ``code`` (with ``values``) names the rule for a front door that words it in the person's
    language; ``search`` is a search term's own rule (``search.BadSearch``), given in ``rule``.
    """

    def __init__(self, field: str, rule: str, code: str, **values: object) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        self.code = code
        self.values = values


class UnknownSavedSearch(LookupError):
    """No saved search of this person has that id (another person's is no different)."""


def check_name(name: str) -> str:
    """The name as kept: trimmed, 1 to ``MAX_NAME`` characters, no BSN in it."""
    kept = " ".join(name.split())
    if not kept:
        raise SavedSearchRefused("name", "give the saved search a name", "name_empty")
    if len(kept) > MAX_NAME:
        raise SavedSearchRefused(
            "name", f"at most {MAX_NAME} characters", "too_long", chars=MAX_NAME
        )
    if holds_bsn(kept):
        raise SavedSearchRefused("name", _NO_BSN, "bsn")
    return kept


def check_terms(settings: Settings, terms: Mapping[str, str | None]) -> dict[str, str]:
    """The terms as kept: identifier terms only, at least one, each usable in a search.

    ``bsn`` is refused, not silently dropped: whoever sends it must learn that it was not kept.
    A value that is, or holds, a BSN (pasted into the wrong field) is refused the same way.
    A period's bound copied from a narrow listing (``12-04 18:44``) is kept with its year
    (``search.with_its_year``): run next year, it still names the moment it was saved for.
    """
    given = {name: (value or "").strip() for name, value in terms.items()}
    if given.get("bsn"):
        raise SavedSearchRefused("bsn", _NO_BSN, "bsn")
    unknown = sorted(name for name, value in given.items() if value and name not in TERMS)
    if unknown:
        raise SavedSearchRefused(
            unknown[0],
            f"not a term a search can save; {', '.join(TERMS)}",
            "not_a_term",
            terms=", ".join(TERMS),
        )
    kept = {name: given[name] for name in TERMS if given.get(name)}
    for bound in ("since", "until"):
        if bound in kept:
            kept[bound] = with_its_year(kept[bound], settings)
    if not kept:
        raise SavedSearchRefused("terms", "give at least one search term to save", "no_terms")
    for name, value in kept.items():
        if len(value) > MAX_TERM:
            raise SavedSearchRefused(
                name, f"at most {MAX_TERM} characters", "too_long", chars=MAX_TERM
            )
        if term_holds_bsn(name, value):
            raise SavedSearchRefused(name, _NO_BSN, "bsn")
    try:
        build_filter(settings, **kept)
    except BadSearch as exc:
        # The term's own refusal code, for a front door that words it (``integrator.refusal``).
        raise SavedSearchRefused(
            exc.field, exc.rule, "search", search_code=exc.code, **exc.values
        ) from None
    return kept


async def save(
    store: Store,
    settings: Settings,
    person_id: str,
    name: str,
    terms: Mapping[str, str | None],
    *,
    now: datetime,
) -> SavedSearchRecord:
    """Keep ``terms`` under ``name`` for the person; refused with the field and the rule."""
    kept_name = check_name(name)
    kept_terms = check_terms(settings, terms)
    search_id = str(uuid.uuid4())
    try:
        added = await store.add_saved_search(
            search_id,
            person_id=person_id,
            name=kept_name,
            terms=kept_terms,
            now=now,
            most=MAX_PER_PERSON,
        )
    except Conflict:
        raise SavedSearchRefused(
            "name", "you have a saved search by that name already", "name_taken"
        ) from None
    if not added:
        raise SavedSearchRefused(
            "name",
            f"at most {MAX_PER_PERSON} saved searches per person; delete one to save another",
            "too_many",
            most=MAX_PER_PERSON,
        )
    return SavedSearchRecord(search_id, person_id, kept_name, kept_terms, now)


async def saved_by(store: Store, person_id: str) -> list[SavedSearchRecord]:
    return await store.list_saved_searches(person_id)


async def delete(store: Store, person_id: str, search_id: str) -> None:
    if not await store.delete_saved_search(person_id, search_id):
        raise UnknownSavedSearch(search_id)


def query_of(terms: Mapping[str, str]) -> str:
    """The query string that runs the search: identifier terms only, so fit for a URL."""
    return urlencode([(name, terms[name]) for name in TERMS if terms.get(name)])
