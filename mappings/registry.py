"""The message-version registry (product.md §3): every version ever offered, with its lifecycle.

A retired version keeps its entry so history, error messages and resends of stored bytes still
resolve its name. Status is a function of the day asked about, never of a clock read here, so
sunsets are testable and the engine decides which "today" it means.

Lifecycle rule of `status_on(day)`:

* `retired`    from `sunset` on (the sunset day itself is the first retired day);
* `deprecated` from `deprecated_since` until the day before `sunset` — and, for a version that
  has a sunset but no recorded deprecation date (`orm-lfdv1`), on every day before the sunset;
* `current`    otherwise.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from mappings import profile
from mappings.context import Mapper
from mappings.errors import UnknownVersionError
from mappings.oml_v3 import map_oml_v3
from mappings.orm_lfdv2 import map_orm_lfdv2
from mappings.orm_v3 import map_orm_v3
from mappings.profile import EventType, WireProfile
from mappings.ref_v1 import map_ref_v1
from mappings.ref_v2 import map_ref_v2

Status = Literal["current", "deprecated", "retired"]


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """One named, frozen contract of what a destination receives."""

    name: str
    event_type: EventType
    hl7_version: str
    message_type_new: str
    message_type_cancel: str
    charset: str
    deprecated_since: datetime.date | None = None
    sunset: datetime.date | None = None
    successor: str | None = None
    mapper: Mapper | None = None

    def __post_init__(self) -> None:
        if self.sunset is not None and self.successor is None:
            raise ValueError(f"version {self.name!r}: a sunset needs a successor")
        if (
            self.deprecated_since is not None
            and self.sunset is not None
            and self.deprecated_since >= self.sunset
        ):
            raise ValueError(f"version {self.name!r}: deprecated_since must precede sunset")

    def status_on(self, day: datetime.date) -> Status:
        if self.sunset is not None and day >= self.sunset:
            return "retired"
        if self.deprecated_since is not None:
            return "deprecated" if day >= self.deprecated_since else "current"
        return "deprecated" if self.sunset is not None else "current"

    def notice(self, day: datetime.date) -> str | None:
        """The operator-facing warning for a deprecated or retired version; None if current."""
        status = self.status_on(day)
        if status == "deprecated":
            return (
                f"message version {self.name} is deprecated; sunset {self.sunset}, "
                f"successor {self.successor}"
            )
        if status == "retired":
            return (
                f"message version {self.name} is retired since {self.sunset}; "
                f"successor {self.successor}"
            )
        return None


def _version(
    wire: WireProfile,
    *,
    deprecated_since: datetime.date | None = None,
    sunset: datetime.date | None = None,
    successor: str | None = None,
    mapper: Mapper | None = None,
) -> MessageVersion:
    return MessageVersion(
        name=wire.name,
        event_type=wire.event_type,
        hl7_version=wire.hl7_version,
        message_type_new=wire.message_type_new,
        message_type_cancel=wire.message_type_cancel,
        charset=wire.charset,
        deprecated_since=deprecated_since,
        sunset=sunset,
        successor=successor,
        mapper=mapper,
    )


_D = datetime.date
_VERSIONS: Final = (
    _version(
        profile.REF_V1,
        deprecated_since=_D(2026, 1, 1),
        sunset=_D(2027, 7, 1),
        successor="ref-v2",
        mapper=map_ref_v1,
    ),
    _version(profile.REF_V2, mapper=map_ref_v2),
    # Retired: kept for history and error messages, never mapped again.
    _version(profile.ORM_LFDV1, sunset=_D(2026, 6, 30), successor="orm-v3"),
    _version(
        profile.ORM_LFDV2,
        deprecated_since=_D(2025, 9, 1),
        sunset=_D(2027, 3, 31),
        successor="orm-v3",
        mapper=map_orm_lfdv2,
    ),
    _version(profile.ORM_V3, mapper=map_orm_v3),
    _version(profile.OML_V3, mapper=map_oml_v3),
)

REGISTRY: Final[Mapping[str, MessageVersion]] = MappingProxyType(
    {version.name: version for version in _VERSIONS}
)


def get_version(name: str) -> MessageVersion:
    """The registered version called `name`; `UnknownVersionError` lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownVersionError(name, REGISTRY) from None
