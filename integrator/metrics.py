"""Prometheus metrics, one registry per engine (no process-wide mutable state).

Exposed at ``GET /metrics``. Labels carry destination ids, provider ids and version names only,
never patient data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from integrator.catalog import Catalog
from mappings.registry import REGISTRY


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "integrator_events",
            "Intake events by outcome (accepted, duplicate, rejected).",
            ["outcome"],
            registry=self.registry,
        )
        self.deprecated = Gauge(
            "integrator_destination_deprecated_version_days_left",
            "Days until the sunset of a deprecated message version a destination uses.",
            ["destination", "event_type", "version", "sunset", "successor"],
            registry=self.registry,
        )
        self.retired = Gauge(
            "integrator_destination_retired_version",
            "1 when a destination uses a retired message version (its messages are held "
            "or auto-upgraded).",
            ["destination", "event_type", "version", "successor"],
            registry=self.registry,
        )
        self.unrouted = Gauge(
            "integrator_unrouted_events",
            "Events stored with no message because no destination served their provider when "
            "they arrived, per provider; `integrator events route` sends them. Counted from the "
            "store, so every engine on it shows the same numbers.",
            ["provider"],
            registry=self.registry,
        )

    def observe_unrouted(self, counts: Mapping[str, int]) -> None:
        """Replace the unrouted counts; a provider whose events were all routed drops out."""
        self.unrouted.clear()
        for provider, count in counts.items():
            self.unrouted.labels(provider).set(count)

    def observe_catalog(self, catalog: Catalog, today: date) -> None:
        self.deprecated.clear()
        self.retired.clear()
        for destination in catalog.destinations.values():
            for event_type, name in destination.messages.items():
                version = REGISTRY.get(name)
                if version is None or version.sunset is None:
                    continue
                status = version.status_on(today)
                if status == "deprecated":
                    self.deprecated.labels(
                        destination.id,
                        event_type,
                        name,
                        str(version.sunset),
                        version.successor or "",
                    ).set((version.sunset - today).days)
                elif status == "retired":
                    self.retired.labels(
                        destination.id, event_type, name, version.successor or ""
                    ).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
