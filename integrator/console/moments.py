"""Moments as people read them: the engine's time zone, to the second, without the offset.

Services hand out ISO 8601 text (in UTC or with an offset); pages show it in the zone support
staff work in (``INTEGRATOR_TIMEZONE``), so two pages never show one moment two ways.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo


def shown_in(zone: tzinfo) -> Callable[[str | None], str]:
    """``when(iso_text)`` for templates: the moment in ``zone``, ``-`` for none."""

    def when(text: str | None) -> str:
        if not text:
            return "-"
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    return when
