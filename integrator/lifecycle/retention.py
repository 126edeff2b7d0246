"""How long each kind of data is kept, from the settings (``INTEGRATOR_RETAIN_*``, days).

A period of 0 keeps that kind for ever. The audit trail has no period here: it is never pruned
with the data it describes, so its hash chain stays whole and verifiable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from integrator.settings import Settings


@dataclass(frozen=True, slots=True)
class Retention:
    payload_days: int = 90
    """Delivered messages' HL7 text and ACKs, and their events' JSON."""
    dead_letter_days: int = 30
    """A dead letter's content, counted from its resolution (a later resend was delivered) or
    from its discarding (``deadletter discard``)."""
    rejected_days: int = 30
    """Rejected input, deleted whole."""

    def __post_init__(self) -> None:
        for name in ("payload_days", "dead_letter_days", "rejected_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"retention {name} must be 0 (keep for ever) or more days")

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            payload_days=settings.retain_payload_days,
            dead_letter_days=settings.retain_dead_letter_days,
            rejected_days=settings.retain_rejected_days,
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
        }
