"""The destination catalog: destination files checked against the message-version registry.

``destinations.config`` knows the file format; only the engine knows the registry, so the version
rules of SPEC §3 (known version, right event type, not retired, warn when deprecated) are checked
here. A file that breaks a rule is refused whole and reported with file, key and rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from destinations.config import DestinationConfig, DestinationFileError, load_destination_dir
from mappings.registry import REGISTRY


@dataclass(frozen=True)
class Catalog:
    destinations: dict[str, DestinationConfig] = field(default_factory=dict)
    errors: tuple[DestinationFileError, ...] = ()
    warnings: tuple[str, ...] = ()

    def serving(self, provider_id: str) -> list[DestinationConfig]:
        """Destinations that receive events of this intake ``provider.id``."""
        return [d for d in self.destinations.values() if provider_id in d.providers]


def version_warnings(config: DestinationConfig, *, today: date, source: str) -> list[str]:
    """Check the destination's message versions; raise for a rule broken, return warnings."""
    warnings: list[str] = []
    for event_type, name in config.messages.items():
        key = f"messages.{event_type}"
        version = REGISTRY.get(name)
        if version is None:
            known = ", ".join(
                sorted(v.name for v in REGISTRY.values() if v.event_type == event_type)
            )
            raise DestinationFileError(
                source, key, f"unknown message version {name!r} (known: {known})"
            )
        if version.event_type != event_type:
            raise DestinationFileError(
                source, key, f"message version {name!r} is for {version.event_type} events"
            )
        status = version.status_on(today)
        if status == "retired":
            raise DestinationFileError(
                source,
                key,
                f"message version {name!r} is retired; use its successor {version.successor!r}",
            )
        if status == "deprecated":
            warnings.append(
                f"destination {config.id!r}: {key} uses deprecated message version {name!r}; "
                f"sunset {version.sunset}, move to {version.successor!r}"
            )
    return warnings


def build_catalog(
    configs: Iterable[tuple[str, DestinationConfig]],
    *,
    today: date,
    errors: Iterable[DestinationFileError] = (),
) -> Catalog:
    accepted: dict[str, DestinationConfig] = {}
    problems = list(errors)
    warnings: list[str] = []
    for source, config in configs:
        try:
            warnings.extend(version_warnings(config, today=today, source=source))
        except DestinationFileError as exc:
            problems.append(exc)
            continue
        accepted[config.id] = config
    return Catalog(accepted, tuple(problems), tuple(warnings))


def load_catalog(directory: Path, *, today: date) -> Catalog:
    configs, errors = load_destination_dir(directory)
    return build_catalog(
        ((str(directory / f"{c.id}.yaml"), c) for c in configs), today=today, errors=errors
    )
