"""HL7 date and time rendering (DT, DTM/TS) without a clock and without locale.

`strftime` is avoided on purpose: `%Y` is not zero-padded for years before 1000 on glibc, and
formatting by hand is faster on the hot path.
"""

from __future__ import annotations

import datetime


def hl7_date(day: datetime.date) -> str:
    """DT: `YYYYMMDD`."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def hl7_timestamp(moment: datetime.datetime) -> str:
    """TS/DTM to the second with the moment's own UTC offset: `YYYYMMDDHHMMSS+HHMM`.

    The offset keeps the sender's local time readable for the receiver (product.md §4). Offsets with
    seconds (historic zones only) are cut to whole minutes, as HL7 has no seconds there.
    A naive moment is refused: its offset would be a guess.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("an HL7 timestamp needs a timezone-aware datetime")
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, mins = divmod(abs(seconds) // 60, 60)
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}{sign}{hours:02d}{mins:02d}"
    )
