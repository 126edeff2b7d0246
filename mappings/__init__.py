"""Message versions and their mappers: a validated event in, HL7 v2 bytes out (product.md §3-4).

Pure: no I/O and no clock reads; the time of mapping comes in `MappingContext.now`.
`map_event` is the one entry point; it checks, in this order, that the version exists, that it
maps this event type, that it is not retired on `ctx.now`'s date, and that it has a mapper.

The registry (every version's mapper and its compiled segment templates, about 80 ms to import)
is loaded on first use, not with the package: the settings and the CLI's store-reading commands
need only `mappings.context`'s limits, and importing a submodule runs this file first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mappings.charset import encode
from mappings.context import Event, MappedMessage, Mapper, MappingContext
from mappings.errors import (
    EventTypeMismatch,
    InvalidContext,
    InvalidControlId,
    MappingError,
    NoMapperError,
    RetiredVersionError,
    UnknownCharsetError,
    UnknownVersionError,
)

if TYPE_CHECKING:
    from mappings.registry import REGISTRY, MessageVersion, Status, get_version

_FROM_REGISTRY = frozenset({"REGISTRY", "MessageVersion", "Status", "get_version"})


def __getattr__(name: str) -> Any:
    """The registry's names, loaded when first asked for (PEP 562)."""
    if name in _FROM_REGISTRY:
        from mappings import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'mappings' has no attribute {name!r}")


def map_event(version: str, event: Event, ctx: MappingContext) -> MappedMessage:
    """Render `event` as message version `version`; raises a `MappingError` when it cannot."""
    entry = (_get_version or _registry())(version)
    if event.type != entry.event_type:
        raise EventTypeMismatch(entry.name, entry.event_type, event.type)
    if entry.status_on(ctx.now.date()) == "retired":
        raise RetiredVersionError(entry.name, entry.sunset, entry.successor)
    if entry.mapper is None:
        raise NoMapperError(entry.name)
    return entry.mapper(event, ctx)


_get_version: Callable[[str], MessageVersion] | None = None


def _registry() -> Callable[[str], MessageVersion]:
    """`get_version`, the registry loaded on the first call: an import statement in
    `map_event` itself cost a few per cent of mapping a referral."""
    global _get_version
    from mappings.registry import get_version

    _get_version = get_version
    return get_version


__all__ = [
    "REGISTRY",
    "Event",
    "EventTypeMismatch",
    "InvalidContext",
    "InvalidControlId",
    "MappedMessage",
    "Mapper",
    "MappingContext",
    "MappingError",
    "MessageVersion",
    "NoMapperError",
    "RetiredVersionError",
    "Status",
    "UnknownCharsetError",
    "UnknownVersionError",
    "encode",
    "get_version",
    "map_event",
]
