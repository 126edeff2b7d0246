"""Which message version a destination's message is actually made in, today (docs/product.md §3).

A destination names one version per event type. While that version is current or deprecated it
is used as is. From its sunset on it is retired, and new messages are neither lost nor sent in
the retired format: with ``auto_upgrade`` they are mapped with the successor (following the
chain past retired successors); otherwise they are held, with the reason, until an operator moves
the destination to a supported version, which releases and re-maps them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

from mappings.registry import REGISTRY, MessageVersion
from shapes import DATE, VERSION, Shape

# The notes a message keeps among its warnings (`shapes`).
HELD_RETIRED: Final = Shape(
    "version.held_retired",
    "held: message version {version} is retired since {sunset}; move the destination to "
    "{successor} to release it",
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)
HELD_NO_SUCCESSOR: Final = Shape(
    "version.held_no_successor",
    "held: message version {version} is retired since {sunset} and no supported successor exists",
    version=VERSION,
    sunset=DATE,
)
UPGRADED: Final = Shape(
    "version.upgraded",
    "message version {version} is retired since {sunset}; mapped with its successor "
    "{successor} (auto_upgrade)",
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)


@dataclass(frozen=True)
class Resolution:
    configured: str
    version: str | None  # the version to map with; None: hold the message
    note: str | None = None  # why it differs from the configured one

    @property
    def held(self) -> bool:
        return self.version is None


def resolve_version(configured: str, *, auto_upgrade: bool, today: date) -> Resolution:
    version = REGISTRY[configured]
    if version.status_on(today) != "retired":
        return Resolution(configured, configured)
    if not auto_upgrade:
        return Resolution(
            configured,
            None,
            HELD_RETIRED(version=configured, sunset=version.sunset, successor=version.successor),
        )
    successor = _first_supported_successor(version, today)
    if successor is None:
        return Resolution(
            configured, None, HELD_NO_SUCCESSOR(version=configured, sunset=version.sunset)
        )
    return Resolution(
        configured,
        successor.name,
        UPGRADED(version=configured, sunset=version.sunset, successor=successor.name),
    )


def _first_supported_successor(version: MessageVersion, today: date) -> MessageVersion | None:
    seen = {version.name}
    while version.successor is not None and version.successor not in seen:
        version = REGISTRY[version.successor]
        seen.add(version.name)
        if version.status_on(today) != "retired" and version.mapper is not None:
            return version
    return None


def wire_version(payload: bytes) -> str | None:
    """The message version a mapped message names in MSH-21 (``ref-v1``, …); None when it
    names none this engine knows (a message mapped before MSH-21 was written, say)."""
    end = payload.find(b"\r")
    msh = payload[: end if end >= 0 else len(payload)]
    if len(msh) < 8 or not msh.startswith(b"MSH"):
        return None
    fields = msh.split(msh[3:4], 21)
    if len(fields) < 21:
        return None
    name = fields[20].split(msh[4:5], 1)[0].decode("ascii", "replace")
    return name if name in REGISTRY else None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class RetiredVersions:
    """Which message a destination must not send as it was mapped: its version is retired.

    Asked by delivery for every message it takes, so cheap: the set of retired versions
    changes only at midnight in ``zone``, and is worked out again only then. A message mapped
    before its version's sunset and still waiting after it (its receiver down, a backlog) would
    otherwise go out in the retired format (docs/product.md §3).
    """

    def __init__(self, now: Callable[[], datetime], zone: tzinfo) -> None:
        self._now = now
        self._zone = zone
        self._until: datetime | None = None
        self._retired: frozenset[str] = frozenset()
        self._made_before: datetime | None = None
        """The start of the latest sunset day of a retired version, in ``zone``: a message
        made from then on is in no version retired before it was made."""

    def of(self, payload: bytes, created_at: datetime) -> str | None:
        """The retired version ``payload`` is in, or None when it may be sent.

        Only a message made before its version's sunset (``created_at``) is held back: one
        made after it in that version is a resend in ``original`` mode, which a person chose
        to send as it was (docs/support.md, resend), and goes."""
        now = self._now()
        if self._until is None or now >= self._until:
            today = now.astimezone(self._zone).date()
            self._retired = frozenset(
                name for name, version in REGISTRY.items() if version.status_on(today) == "retired"
            )
            # Both boundaries kept in UTC, the zone of the clock and of ``created_at``: an
            # aware comparison across two zones asks each for its offset (~1 µs, twice a
            # message), one within a zone compares the fields.
            self._until = _utc(datetime.combine(today + timedelta(days=1), time(), self._zone))
            sunsets = [REGISTRY[name].sunset for name in self._retired]
            self._made_before = max(
                (_utc(datetime.combine(s, time(), self._zone)) for s in sunsets if s is not None),
                default=None,
            )
        if self._made_before is None or created_at >= self._made_before:
            # Made on or after the last of their sunsets: none is held, the payload unread.
            return None
        version = wire_version(payload)
        if version is None or version not in self._retired:
            return None
        sunset = REGISTRY[version].sunset
        made = created_at.astimezone(self._zone).date()
        return version if sunset is not None and made < sunset else None
