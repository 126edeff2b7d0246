"""What a saved search may hold: identifier terms that run, a name, and never a BSN, however it
is typed or wherever it is pasted; each refusal names the field and the rule, not the value."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from integrator.saved_searches import (
    MAX_NAME,
    SavedSearchRefused,
    check_name,
    check_terms,
    query_of,
)
from integrator.settings import Settings
from tests.integrator.support import settings_for

BSN = "123456782"  # passes the eleven-test


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, search_key="a-saved-search-test-key")


def refusal(call: object) -> tuple[str, str]:
    assert callable(call)
    with pytest.raises(SavedSearchRefused) as caught:
        call()
    assert BSN not in str(caught.value)
    return caught.value.field, caught.value.rule


def test_terms_are_kept_trimmed_in_order_without_empty_ones(settings: Settings) -> None:
    kept = check_terms(
        settings, {"status": " dead ", "zd_number": "ZD100000001", "version": "", "until": None}
    )
    assert list(kept.items()) == [("zd_number", "ZD100000001"), ("status", "dead")]
    assert query_of(kept) == "zd_number=ZD100000001&status=dead"


@pytest.mark.parametrize(
    "terms",
    [
        {"bsn": BSN, "status": "dead"},
        {"zd_number": BSN},
        {"zd_number": "123 456 782"},
        {"destination": "noord 123.456.782"},
        {"since": f"2026-11-01 {BSN}"},
    ],
)
def test_a_bsn_is_refused_wherever_it_is(settings: Settings, terms: dict[str, str]) -> None:
    field, rule = refusal(lambda: check_terms(settings, terms))
    assert field in terms and "a BSN is patient data and is never saved" in rule


def test_the_digits_of_a_zd_number_are_not_taken_for_a_bsn(settings: Settings) -> None:
    assert check_terms(settings, {"zd_number": f"zd{BSN}"}) == {"zd_number": f"zd{BSN}"}


def test_only_the_identifier_terms_and_at_least_one(settings: Settings) -> None:
    assert refusal(lambda: check_terms(settings, {"event_id": "e-1"}))[0] == "event_id"
    assert refusal(lambda: check_terms(settings, {"status": " "})) == (
        "terms",
        "give at least one search term to save",
    )
    assert refusal(lambda: check_terms(settings, {"status": "gone"}))[0] == "status"
    assert refusal(lambda: check_terms(settings, {"until": "soon"}))[0] == "until"
    assert refusal(lambda: check_terms(settings, {"version": "v" * 201}))[0] == "version"


def test_a_name_is_trimmed_bounded_and_holds_no_bsn() -> None:
    assert check_name("  dead   at noord ") == "dead at noord"
    assert check_name("n" * MAX_NAME) == "n" * MAX_NAME
    assert refusal(lambda: check_name(" \t ")) == ("name", "give the saved search a name")
    assert refusal(lambda: check_name("n" * (MAX_NAME + 1))) == (
        "name",
        f"at most {MAX_NAME} characters",
    )
    assert refusal(lambda: check_name(f"patient {BSN[:3]} {BSN[3:6]} {BSN[6:]}"))[0] == "name"


def test_a_time_copied_from_a_narrow_listing_is_kept_with_its_year(settings: Settings) -> None:
    # ``01-02 03:04`` is this year's (what an 80-column listing leaves out); kept as typed, a
    # search saved this year would name another moment when run next year. ``2h`` moves with
    # the search, as it is meant to.
    year = datetime.now(settings.zone).year
    kept = check_terms(settings, {"since": "01-02 03:04", "until": "2h"})
    assert kept == {"since": f"{year}-01-02T03:04", "until": "2h"}
