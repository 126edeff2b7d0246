"""How long each kind of data is kept, from the settings (``INTEGRATOR_RETAIN_*``, days).

A period of 0 keeps that kind for ever. The audit trail has a period too, and it must be at
least as long as every other (finite) one: the trail accounts for what happened to the data,
so it may not go before the data it describes. Its default is five years because NEN 7513
(logging access to patient records) asks that such logs be kept at least that long. Pruning it
takes the oldest entries and leaves an anchor (``integrator.store.audit_prune``), so the hash
chain still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from integrator.settings import (
    DEFAULT_AUDIT_DAYS,
    Settings,
    audit_period_problem,
    retention_period_problem,
)

SESSION_DAYS: Final = 30
"""How long a console session's row is kept after it ended (signed out or revoked, else
expired): fixed, not one of the periods above, and pruned whatever they are (``0`` too).

A row holds a person's id, the hash of the cookie and when the session began, was last used and
ended; no patient data, but personal data, kept no longer than needed (AVG art. 5(1)(c)). The
sign-in and sign-out themselves are in the audit trail (``login.success``, ``logout``, with the
address) for the audit period, so the audit period is not the row's: once ended, the cookie's
hash opens nothing. What the trail lacks is when the session was last used and whether it had
the second factor, which a person reporting a hijacked account in the weeks after may need
looked into: a month covers that, as the dead letters' and rejected input's 30 days do."""


@dataclass(frozen=True, slots=True)
class Retention:
    payload_days: int = 90
    """Delivered messages' HL7 text and ACKs, and their events' JSON."""
    dead_letter_days: int = 30
    """A dead letter's content, counted from its resolution (a later resend was delivered) or
    from its discarding (``deadletter discard``)."""
    rejected_days: int = 30
    """Rejected input, deleted whole."""
    unrouted_days: int = 90
    """An event no destination served (no message): its JSON, counted from its arrival."""
    audit_days: int = DEFAULT_AUDIT_DAYS
    """Audit entries, deleted oldest first, counted from each entry's time."""

    def __post_init__(self) -> None:
        for name in (
            "payload_days",
            "dead_letter_days",
            "rejected_days",
            "unrouted_days",
            "audit_days",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"retention {name} must be 0 (keep for ever) or more days")
            too_long = retention_period_problem(getattr(self, name))
            if too_long is not None:
                raise ValueError(f"retention {name}: {too_long}")
        problem = audit_period_problem(
            self.audit_days,
            {
                "payload_days": self.payload_days,
                "dead_letter_days": self.dead_letter_days,
                "rejected_days": self.rejected_days,
                "unrouted_days": self.unrouted_days,
            },
        )
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            payload_days=settings.retain_payload_days,
            dead_letter_days=settings.retain_dead_letter_days,
            rejected_days=settings.retain_rejected_days,
            unrouted_days=settings.retain_unrouted_days,
            audit_days=settings.audit_days,
        )

    @staticmethod
    def cutoff(days: int, now: datetime) -> datetime | None:
        """Data last changed before this time is past its period; None: kept for ever."""
        return None if days == 0 else now - timedelta(days=days)

    def to_json(self) -> dict[str, int]:
        return {
            "payload_days": self.payload_days,
            "dead_letter_days": self.dead_letter_days,
            "rejected_days": self.rejected_days,
            "unrouted_days": self.unrouted_days,
            "audit_days": self.audit_days,
        }
