"""``UTCDateTime``'s one-step SQLite bind gives exactly the text SQLAlchemy's two steps give."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from integrator.store.coltypes import UTCDateTime

_SQLITE = sqlite.dialect()
_THROUGH_SQLALCHEMY = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)
_DIRECT = UTCDateTime.direct_bind_processor(_SQLITE)

_ZONES = st.one_of(
    st.just(datetime.UTC),
    st.just(ZoneInfo("Europe/Amsterdam")),
    st.timedeltas(
        min_value=datetime.timedelta(hours=-23, minutes=-59),
        max_value=datetime.timedelta(hours=23, minutes=59),
    ).map(datetime.timezone),
)


@given(
    st.datetimes(
        min_value=datetime.datetime(2, 1, 1),
        max_value=datetime.datetime(9998, 12, 30),
        timezones=_ZONES,
    )
)
def test_the_direct_sqlite_text_is_sqlalchemys(value: datetime.datetime) -> None:
    assert _DIRECT is not None and _THROUGH_SQLALCHEMY is not None
    assert _DIRECT(value) == _THROUGH_SQLALCHEMY(value)


def test_a_whole_second_keeps_its_microseconds_column() -> None:
    assert _DIRECT is not None
    value = datetime.datetime(2026, 11, 30, 21, 0, 0, tzinfo=datetime.UTC)
    assert _DIRECT(value) == "2026-11-30 21:00:00.000000"


@pytest.mark.parametrize("naive", [datetime.datetime(2026, 11, 30, 21, 0)])
def test_a_naive_time_is_refused_as_before(naive: datetime.datetime) -> None:
    assert _DIRECT is not None and _THROUGH_SQLALCHEMY is not None
    with pytest.raises(ValueError, match="naive datetime") as direct:
        _DIRECT(naive)
    with pytest.raises(ValueError, match="naive datetime") as through:
        _THROUGH_SQLALCHEMY(naive)
    assert str(direct.value) == str(through.value)


def test_postgresql_keeps_the_drivers_own_conversion() -> None:
    # SQLAlchemy's PGDialect.__init__ has no annotations (sqlite.dialect()'s has).
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    assert UTCDateTime.direct_bind_processor(dialect) is None
