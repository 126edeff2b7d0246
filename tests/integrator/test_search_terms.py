"""Search terms as support staff type them: times as listings show them, ZD numbers in any case,
BSNs with spaces or dots; and the bounds of a period, refused by name (CLI exit 2, API 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.presenters import compact_time, iso_time, shown_time
from integrator.search import BadSearch, build_filter, misplaced_bsn, parse_moment, without_bsn
from integrator.settings import Settings
from tests.http.support import api_client
from tests.integrator.support import settings_for

AMSTERDAM = Settings(timezone="Europe/Amsterdam", search_key="search-terms-test-key")
BSN = "999990019"


def test_a_shown_time_carries_its_offset_in_winter_and_in_summer() -> None:
    winter = datetime(2026, 11, 30, 8, 15, 2, 999_999, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 8, 15, 2, tzinfo=UTC)
    assert shown_time(winter, AMSTERDAM.zone) == "2026-11-30T09:15:02+01:00"  # cut, not rounded
    assert shown_time(summer.isoformat(), AMSTERDAM.zone) == "2026-07-01T10:15:02+02:00"
    assert shown_time(None, AMSTERDAM.zone) == "-"
    assert iso_time(winter, AMSTERDAM.zone) == "2026-11-30T09:15:02.999999+01:00"


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        # As a listing shows it: ``until`` includes that whole second.
        ("2026-11-30T09:15:02+01:00", (8, 15, 2), (8, 15, 3)),
        # Without an offset: local time (here winter time, +01:00).
        ("2026-11-30T09:15:02", (8, 15, 2), (8, 15, 3)),
        ("2026-11-30 09:15", (8, 15, 0), (8, 16, 0)),
        ("2026-11-30T09:15:02Z", (9, 15, 2), (9, 15, 3)),
        ("2026-11-30T09:15:02+0100", (8, 15, 2), (8, 15, 3)),
    ],
)
def test_a_period_accepts_what_listings_show(
    text: str, since: tuple[int, int, int], until: tuple[int, int, int]
) -> None:
    flt = build_filter(AMSTERDAM, since=text, until=text)
    assert flt.since == datetime(2026, 11, 30, *since, tzinfo=UTC)
    assert flt.until == datetime(2026, 11, 30, *until, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 4, 17, 44, 31, tzinfo=UTC),
        datetime(2026, 7, 1, 22, 30, tzinfo=UTC),  # the 2nd of July there, summer time
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already 2027 there
    ],
)
def test_a_period_takes_back_the_minute_a_narrow_listing_shows(moment: datetime) -> None:
    """``12-04 18:44`` (``compact_time``: a listing too narrow for the full time) leaves out
    the year only for this year's times, so it is read in this year, where the engine is."""
    now = moment + timedelta(minutes=5)
    shown = compact_time(moment, AMSTERDAM.zone, now)
    assert len(shown) == len("12-04 18:44"), shown
    minute = moment.replace(second=0)
    assert parse_moment(shown, AMSTERDAM, now=now) == minute
    assert parse_moment(shown, AMSTERDAM, end=True, now=now) == minute + timedelta(minutes=1)
    assert parse_moment(shown.replace(" ", "T"), AMSTERDAM, now=now) == minute


@pytest.mark.parametrize("value", ["12-04", "02-30 10:00", "12-04 18", "1-04 18:44"])
def test_a_month_day_is_taken_only_as_a_listing_shows_it(value: str) -> None:
    """No year is guessed for anything else: a month-day alone is no listing's."""
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, since=value)
    assert str(refused.value).startswith("since: not an ISO date")
    assert "a time to the minute as narrow listings show it (11-27 09:30: this year's)" in str(
        refused.value
    )


def test_the_hour_that_repeats_is_told_apart_by_its_offset() -> None:
    first = build_filter(AMSTERDAM, since="2026-10-25T02:30:00+02:00").since
    second = build_filter(AMSTERDAM, since="2026-10-25T02:30:00+01:00").since
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("term", "value"),
    [
        ("since", "0001-01-01"),
        ("until", "9999-12-31"),
        ("since", "0001-01-01T00:00:00+01:00"),
        ("until", "9999-12-31T23:59:59-01:00"),
        ("since", datetime(1, 1, 1, tzinfo=UTC)),
        ("until", datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
    ],
)
def test_a_period_beyond_the_calendar_is_refused_by_name(term: str, value: str | datetime) -> None:
    terms: dict[str, Any] = {term: value}
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, **terms)
    assert str(refused.value).startswith(f"{term}: give a year from 1900 to 9998")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-11-30T25:00", "27-11-2026"])
def test_a_time_that_is_not_iso_is_refused_naming_the_term(value: str) -> None:
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, until=value)
    assert str(refused.value).startswith("until: not an ISO date")
    assert value not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        (" 2H ", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("0h", timedelta()),
    ],
)
def test_a_period_takes_a_time_back_from_now_exactly(text: str, back: timedelta) -> None:
    now = datetime(2026, 11, 30, 8, 15, 2, 123456, tzinfo=UTC)
    for end in (False, True):  # `until 2h` is two hours ago, not a unit later
        assert parse_moment(text, AMSTERDAM, end=end, now=now) == now - back


def test_a_time_back_is_counted_from_the_moment_of_the_search() -> None:
    before = datetime.now(UTC)
    since = build_filter(AMSTERDAM, since="2h").since
    assert since is not None
    assert before - timedelta(hours=2) <= since <= datetime.now(UTC) - timedelta(hours=2)


@pytest.mark.parametrize("value", ["999999w", "100000d"])
def test_a_time_back_beyond_the_calendar_is_refused_by_name(value: str) -> None:
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, since=value)
    assert str(refused.value).startswith("since: give a year from 1900 to 9998")


@pytest.mark.parametrize("value", ["2x", "h2", "-2h", "2.5h", "2 hours"])
def test_a_time_back_that_is_not_one_is_refused_with_the_forms(value: str) -> None:
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, since=value)
    assert "or a time back from now (30m, 2h or 2u, 3d, 2w)" in str(refused.value)


def test_hours_back_are_read_as_dutch_writes_them_too() -> None:
    """``2u`` (twee uur) was refused: the console's Dutch support staff write hours so."""
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    two_hours = parse_moment("2h", AMSTERDAM, now=now)
    assert parse_moment("2u", AMSTERDAM, now=now) == two_hours == now - timedelta(hours=2)
    assert parse_moment("2 U", AMSTERDAM, now=now) == two_hours
    assert parse_moment("2 uur", AMSTERDAM, now=now) == parse_moment("2uur", AMSTERDAM, now=now)
    assert parse_moment("2uur", AMSTERDAM, now=now) == two_hours


def test_zd_numbers_are_found_in_any_case() -> None:
    assert build_filter(AMSTERDAM, zd_number=" zd100000001 ").zd_number == "ZD100000001"
    # and with the spaces a letter sets them out with, as a BSN's are taken
    assert build_filter(AMSTERDAM, zd_number="ZD 100000001").zd_number == "ZD100000001"


@pytest.mark.parametrize("typed", ["ZD12", "ZD1000000012", "100000001", "ZD10000000I"])
def test_a_malformed_zd_number_is_refused_not_searched(typed: str) -> None:
    """Intake refuses events without ``ZD`` and nine digits: no stored one can match, and an
    empty listing would hide the typo."""
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, zd_number=typed)
    assert refused.value.field == "zd_number"
    assert "a ZD number is ZD and 9 digits" in refused.value.rule
    assert typed not in str(refused.value)


@pytest.mark.parametrize("typed", [BSN, "999 990 019", "999.990.019", " 9999 90019 "])
def test_a_bsn_is_normalised_before_it_is_hashed(typed: str) -> None:
    assert build_filter(AMSTERDAM, bsn=typed).bsn_hash == AMSTERDAM.bsn_hash(BSN)


@pytest.mark.parametrize("typed", ["999990018", "99999001", "999-990-019", "abc"])
def test_a_bsn_that_cannot_be_one_is_refused_naming_bsn_without_echoing_it(typed: str) -> None:
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, bsn=typed)
    text = str(refused.value)
    assert text.startswith("bsn: ") and "eleven-test" in text
    assert typed not in text and "99999" not in text


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"zd_number": "999 990 019"}, "zd_number"),
        ({"zd_number": "ZD100000001", "provider": "patient 999.990.019"}, "provider"),
        ({"since": "999990019", "until": "123456782"}, "since"),  # the first that holds one
        # A ZD number's nine digits are exempt, not a BSN typed beside one.
        ({"provider": "ZD 100 000 001 999 990 019"}, "provider"),
        ({"provider": "ZD1000000019 99990019"}, "provider"),
        # Not an MSH-10's form (20 characters, or not hex): the BSN in it is refused.
        ({"control_id": "0A999990019B12345678"}, "control_id"),
        ({"control_id": "999990019"}, "control_id"),
    ],
)
def test_a_bsn_in_another_term_is_refused_naming_the_term_not_the_value(
    terms: dict[str, str], field: str
) -> None:
    refused = misplaced_bsn(terms)
    assert refused is not None and refused.field == field
    assert str(refused) == f"{field}: this looks like a BSN: search by BSN instead"
    assert refused.code == "search.misplaced_bsn"
    assert without_bsn(terms)[field] == ""


@pytest.mark.parametrize(
    "terms",
    [
        {"zd_number": "ZD999990019"},  # a ZD number's digits are an identifier
        # ...also as people type it (``normalise_zd``): these digits pass the eleven-test.
        {"zd_number": "ZD 999990019"},
        {"zd_number": "zd 999 990 019"},
        {"zd_number": " Zd\t999 99 0019 "},
        {"zd_number": "999990018", "provider": "12345678"},  # fails the eleven-test; too short
        {"since": "2026-11-30T09:15", "until": "24h"},
        # An MSH-10 as the engine makes it (19 hex digits), in any case, with a run of digits
        # that passes the eleven-test: refused about one search in 130.
        {"control_id": "0A999990019B1234567"},
        {"control_id": " 0a999990019b1234567 "},
    ],
)
def test_terms_without_a_bsn_elsewhere_are_not_refused(terms: dict[str, str]) -> None:
    assert misplaced_bsn(terms) is None
    assert without_bsn(terms) == terms


def test_a_bsn_in_its_own_field_is_not_misplaced() -> None:
    assert misplaced_bsn({"bsn": BSN, "zd_number": "ZD100000001"}) is None


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    engine = Engine(settings_for(tmp_path), catalog=build_catalog((), today=date(2026, 11, 27)))
    await engine.start()
    try:
        async with api_client(engine) as client:
            yield client
    finally:
        await engine.stop()


@pytest.mark.parametrize(
    ("term", "value"),
    [("since", "0001-01-01"), ("until", "9999-12-31"), ("since", "9999-12-31T23:59:59-01:00")],
)
async def test_the_api_answers_422_naming_the_term_in_the_url_and_in_the_body(
    api: httpx.AsyncClient, term: str, value: str
) -> None:
    in_url = await api.get("/api/v1/messages", params={term: value})
    in_body = await api.post("/api/v1/messages/search", json={term: value, "bsn": BSN})
    for answer in (in_url, in_body):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith(f"{term}: ")
    assert (await api.get("/api/v1/messages", params={term: "2026-11-27"})).status_code == 200
    assert (await api.get("/api/v1/messages", params={term: "3d"})).status_code == 200


async def test_the_api_refuses_a_bad_bsn_without_echoing_it(api: httpx.AsyncClient) -> None:
    answer = await api.post("/api/v1/messages/search", json={"bsn": "999 990 018"})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("bsn: ") and "990" not in answer.text
    found = await api.post("/api/v1/messages/search", json={"bsn": "999.990.019"})
    assert found.status_code == 200 and found.json() == []
