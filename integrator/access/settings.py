"""The knobs of access control, with the values docs/access.md promises.

A plain object passed to the service (not read from the environment here): tests build one with
short periods, and the engine settings can grow ``INTEGRATOR_*`` variables for them later
without this package changing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo

from integrator.access.limits import MAX_TOKEN_DAYS

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class AccessSettings:
    # Where people open links (invitations); the console's address as people reach it.
    base_url: str = DEFAULT_BASE_URL
    # The zone people read times in (INTEGRATOR_TIMEZONE): the expiry in an invitation mail.
    zone: tzinfo = UTC
    # docs/product.md §8: an invitation is valid for 7 days.
    invitation_validity: timedelta = timedelta(days=7)
    # Five wrong tries lock the account for a quarter of an hour: slow enough to stop guessing
    # (at most 480 guesses a day), short enough that a person who mistyped is not stuck.
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    # A console session ends after 30 idle minutes, and after 12 hours whatever happens.
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    token_default_validity: timedelta = timedelta(days=90)
    # Every token expires: one that never does is the one that leaks and works for ever.
    token_max_validity: timedelta = timedelta(days=MAX_TOKEN_DAYS)
    # last_used_at / last_seen_at are written at most this often, so a busy script does not
    # turn every request into a database write.
    touch_interval: timedelta = timedelta(minutes=1)
