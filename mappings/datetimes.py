"""HL7 date and time rendering (DT, DTM/TS) without a clock and without locale.

`strftime` is avoided on purpose: `%Y` is not zero-padded for years before 1000 on glibc, and
formatting by hand is faster on the hot path. Two-digit parts come from a table and the UTC
offset's text is kept per offset: every message has two timestamps, and formatting six
numbers with `:02d` each was a tenth of the CPU of building a referral.
"""

from __future__ import annotations

import datetime
from typing import Final

_TWO_DIGITS: Final = tuple(f"{number:02d}" for number in range(100))
_OFFSETS: dict[datetime.timedelta, str] = {}
_MAX_OFFSETS: Final = 1024


def _year(year: int) -> str:
    return str(year) if year >= 1000 else f"{year:04d}"


def hl7_date(day: datetime.date) -> str:
    """DT: `YYYYMMDD`."""
    return _year(day.year) + _TWO_DIGITS[day.month] + _TWO_DIGITS[day.day]


def _offset(offset: datetime.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, mins = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{mins:02d}"


def hl7_timestamp(moment: datetime.datetime) -> str:
    """TS/DTM to the second with the moment's own UTC offset: `YYYYMMDDHHMMSS+HHMM`.

    The offset keeps the sender's local time readable for the receiver (product.md §4). Offsets with
    seconds (historic zones only) are cut to whole minutes, as HL7 has no seconds there.
    A naive moment is refused: its offset would be a guess.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("an HL7 timestamp needs a timezone-aware datetime")
    zone = _OFFSETS.get(offset)
    if zone is None:
        zone = _offset(offset)
        if len(_OFFSETS) < _MAX_OFFSETS:  # real zones have a few dozen; input may have more
            _OFFSETS[offset] = zone
    two = _TWO_DIGITS
    return (
        _year(moment.year)
        + two[moment.month]
        + two[moment.day]
        + two[moment.hour]
        + two[moment.minute]
        + two[moment.second]
        + zone
    )
