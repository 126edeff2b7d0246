"""Which message version a destination's message is actually made in, today (docs/product.md §3).

A destination names one version per event type. While that version is current or deprecated it
is used as is. From its sunset on it is retired, and new messages are neither lost nor sent in
the retired format: with ``auto_upgrade`` they are mapped with the successor (following the
chain past retired successors); otherwise they are held, with the reason, until an operator moves
the destination to a supported version, which releases and re-maps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
