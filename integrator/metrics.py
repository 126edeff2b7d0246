"""Prometheus metrics, one registry per engine (no process-wide mutable state).

Exposed at ``GET /metrics``. Labels carry destination ids, provider ids (those the operators'
configuration names, else ``other``: ``provider_label``) and version names only, never patient
data. Every
metric is declared once in ``SPECS``, which also says when its value changes; docs/metrics.md
shows that table (``metrics_table``), and a test keeps the two equal.

Nothing here is counted per message in intake or in the store: the counts of what waits come
from one grouped store query when Prometheus scrapes (``integrator.scrape``), so every engine on
one store shows the same numbers (take the maximum across engines, not the sum). What only the
engine itself sees (intake outcomes, attempts and their ACK round trip) is counted where it
happens, per engine (sum across engines).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from destinations.cert_expiry import Expiries, certificate_expiries
from destinations.ids import is_destination_id
from integrator.catalog import Catalog
from integrator.store.gauges import Backlog
from integrator.tls_refusals import TlsRefusals
from integrator.zd_sequence import RULES as ZD_RULES
from mappings.registry import REGISTRY

Kind = Literal["counter", "gauge", "histogram"]

EventOutcome = Literal["accepted", "duplicate", "rejected"]
#: Every outcome of ``integrator_events``, each a series at 0 from the start.
EVENT_OUTCOMES: tuple[EventOutcome, ...] = ("accepted", "duplicate", "rejected")

#: The ``provider`` label of ``integrator_unrouted_events`` for a provider id that no
#: destination's definition names (``provider_label``).
OTHER_PROVIDER = "other"
#: The ``destination`` label of ``integrator_destination_file_refused`` for a refused file named
#: ``<id>.yaml`` whose id is longer than a destination's may be.
OTHER_DESTINATION = "other"

#: ACK round trips, in seconds: a LAN answers in milliseconds, a busy HIS in seconds.
ACK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class Spec:
    """One metric: its name as declared, kind, labels, when it changes and what it means."""

    name: str
    kind: Kind
    labels: tuple[str, ...]
    updated: str
    help: str

    @property
    def exposed(self) -> str:
        """The name a scrape shows (a counter gets ``_total``, a histogram its series)."""
        if self.kind == "counter":
            return f"{self.name}_total"
        if self.kind == "histogram":
            return f"{self.name}_bucket/_sum/_count"
        return self.name


PER_ENGINE = "per engine, as it happens"
AT_SCRAPE = "at scrape, from the store"

SPECS: tuple[Spec, ...] = (
    Spec(
        "integrator_events",
        "counter",
        ("outcome",),
        PER_ENGINE,
        "Intake events by outcome (accepted, duplicate, rejected); `rejected` is bad input, "
        "kept in the store as a rejected event.",
    ),
    Spec(
        "integrator_zd_warnings",
        "counter",
        ("rule",),
        PER_ENGINE,
        "Accepted events that do not fit what was accepted before under their ZD number, by "
        "rule (cancel_without_new, cancel_repeated, new_repeated, new_after_cancel): sent all "
        "the same, with a warning (docs/product.md §2).",
    ),
    Spec(
        "integrator_delivery_attempts",
        "counter",
        ("destination", "outcome"),
        PER_ENGINE,
        "Delivery attempts by outcome: delivered, retry (AE/CE, tried again), deadletter "
        "(AR/CR, or the last attempt when the retries ran out), failed (no connection, no or "
        "a wrong ACK; tried again). So deadletter counts the attempts messages died at.",
    ),
    Spec(
        "integrator_late_answers",
        "counter",
        ("destination", "code"),
        PER_ENGINE,
        "Answers not taken for having come for a message already answered, by their MSA-1: "
        "late, while the next message waited for its own, or after the answer while the "
        "connection was quiet (docs/receivers.md). The first answer stands; an AE, AR, CE or "
        "CR among them (a rejection after an AA, say) is for support to look at: the log's "
        "warning names the MSH-10 it answers.",
    ),
    Spec(
        "integrator_ack_roundtrip_seconds",
        "histogram",
        ("destination",),
        PER_ENGINE,
        "Time from sending a message to its deciding ACK, for attempts that got an answer.",
    ),
    Spec(
        "integrator_queue_depth",
        "gauge",
        ("destination",),
        AT_SCRAPE,
        "Messages waiting for delivery (queued, sending or retrying) per destination; 0 for "
        "a configured destination with none.",
    ),
    Spec(
        "integrator_queue_oldest_age_seconds",
        "gauge",
        ("destination",),
        AT_SCRAPE,
        "Age of the oldest message waiting for delivery per destination; 0 when none waits.",
    ),
    Spec(
        "integrator_held_messages",
        "gauge",
        ("destination",),
        AT_SCRAPE,
        "Messages held because their message version reached its sunset (docs/operators.md).",
    ),
    Spec(
        "integrator_dead_letters",
        "gauge",
        ("destination",),
        AT_SCRAPE,
        "Dead letters still to be dealt with per destination: not discarded, and no later "
        "resend delivered (what `integrator deadletter list` shows).",
    ),
    Spec(
        "integrator_unrouted_events",
        "gauge",
        ("provider",),
        "every 30 s and after routing, from the store",
        "Events stored with no message because no destination served their provider when they "
        "arrived, per provider; `integrator events route` sends them. `provider` is the "
        "provider id when a destination's definition names it (one in service, or any recorded "
        "revision of one, also a removed one), else `other`: an id upstream sent that no "
        "operator wrote (a name, a BSN, a date) never becomes a label.",
    ),
    Spec(
        "integrator_destination_deprecated_version_days_left",
        "gauge",
        ("destination", "event_type", "version", "sunset", "successor"),
        "at scrape and on every destination change",
        "Days until the sunset of a deprecated message version a destination uses.",
    ),
    Spec(
        "integrator_destination_retired_version",
        "gauge",
        ("destination", "event_type", "version", "successor"),
        "at scrape and on every destination change",
        "1 when a destination uses a retired message version (its messages are held or "
        "auto-upgraded).",
    ),
    Spec(
        "integrator_destination_file_refused",
        "gauge",
        ("destination",),
        "at scrape and on every destination change",
        "1 while a destination's own file (`<id>.yaml`) is refused: it runs on its last good "
        "definition (or, with none known, not at all) and the file's edit is not in force. "
        "Also 1 while a TLS file its definition in service names (`cert_file`, `key_file`, "
        "`ca_file`) is missing, unreadable or does not load, and back to 0 once it does, "
        "looked at at every scrape (no reload needed; a file refused for its TLS files alone "
        "that says the definition in service counts as refused only while they fail). "
        "Meanwhile the destination delivers on with the certificate and key it loaded before "
        "(on the connections open and on new ones), and every attempt fails from its next "
        "start (a restart, a resume, a change) until the file loads; the log names the file "
        "(`destination TLS file unusable`). "
        "`destination` is the id when it has the form of one (a-z, 0-9, '-', at most 64 "
        "characters), else `other`.",
    ),
    Spec(
        "integrator_destinations_directory_readable",
        "gauge",
        (),
        "at scrape",
        "1 when the engine can list its destinations directory (INTEGRATOR_DESTINATIONS_DIR), "
        "else 0: gone (a volume not mounted), no directory, or without read and search "
        "permission for the engine. Meanwhile the destinations in service stay as they were "
        "and are delivered to; edits of their files are not seen (docs/operators.md).",
    ),
    Spec(
        "integrator_destination_certificate_expiry_timestamp_seconds",
        "gauge",
        ("destination", "file"),
        "at scrape",
        "When a certificate a destination's TLS settings name stops being valid (its notAfter, "
        "the earliest in the file), as a Unix time: `file` is `cert_file` (the client's, for "
        "mutual TLS) or `ca_file` (the CA the receiver's certificate is checked against). No "
        "series for a file that cannot be read: the destination's file is refused for it.",
    ),
    Spec(
        "integrator_store_up",
        "gauge",
        (),
        "at scrape",
        "1 when the store answered the scrape's query and its writes work, else 0: also 0 "
        "while the last write failed (a full disk, a read-only directory or PostgreSQL "
        "database, a privilege taken away) and none has worked since.",
    ),
    Spec(
        "integrator_transport_up",
        "gauge",
        (),
        "at scrape",
        "1 when the transport can carry messages (RabbitMQ connected and the intake queue and "
        "every delivery queue consumed; the embedded transport always), else 0. 0 also while "
        "the broker has cancelled the intake consumer or a delivery queue's consumer (the "
        "queue was deleted) and the engine has not consumed it again yet (docs/amqp.md).",
    ),
    Spec(
        "integrator_amqp_dead_messages",
        "gauge",
        (),
        "at scrape",
        "Messages in the broker's dead queue (`<prefix>.dead`): intake messages the broker "
        "gave up on after 20 deliveries (the engine died on each), which no engine reads; an "
        "operator looks at them (docs/amqp.md). 0 on the embedded transport.",
    ),
    Spec(
        "integrator_publish_owed",
        "gauge",
        (),
        "at scrape, per engine",
        "Messages this engine committed whose publish the broker has not confirmed: it was "
        "away, or refused them (a nack). They are stored and published again after the "
        "reconnect, or every few seconds while the broker stays connected (docs/amqp.md); "
        "above 0 for long with the transport up, the broker keeps refusing them. 0 on the "
        "embedded transport. Sum across engines.",
    ),
    Spec(
        "integrator_sign_ins_held",
        "counter",
        (),
        PER_ENGINE,
        "Sign-in attempts (and invitation steps) refused unchecked because their client "
        "address made 10 failed attempts within 10 minutes (docs/access.md); counted by each "
        "engine for the addresses it saw. A rise is someone guessing passwords.",
    ),
    Spec(
        "integrator_prepare_process_restarts",
        "counter",
        (),
        PER_ENGINE,
        "Times the process preparing events (INTEGRATOR_PREPARE_PROCESS) ended under the "
        "engine (killed, out of memory) and a new one was started; the batch it had was "
        "prepared in the engine, nothing lost. Stays 0 without the setting.",
    ),
)


def provider_label(provider: str, named: Collection[str]) -> str:
    """The label a provider id is counted under: itself when ``named`` holds it, else ``other``.

    An event's ``provider.id`` is whatever upstream sent (any text up to 128 characters), and
    upstream systems put a BSN or a birth date there by mistake; a label is shown to everyone
    who reads the metrics, kept by Prometheus for its retention and a new series per value. Its
    form says nothing (``999990019`` and ``1961-04-12`` have a provider id's), so only ids an
    operator wrote are labels: those a destination's definition names, in service or in a
    recorded revision (``integrator.events_routing.UnroutedGauge``). That also bounds the
    series by the configuration, whatever upstream sends.
    """
    return provider if provider in named and provider != OTHER_PROVIDER else OTHER_PROVIDER


def metrics_table() -> str:
    """docs/metrics.md's table of every metric, from ``SPECS``."""
    rows = [
        "| metric | type | labels | updated | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in SPECS:
        labels = ", ".join(f"`{label}`" for label in spec.labels) or "-"
        rows.append(f"| `{spec.exposed}` | {spec.kind} | {labels} | {spec.updated} | {spec.help} |")
    return "\n".join(rows) + "\n"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        specs = {spec.name: spec for spec in SPECS}

        def gauge(name: str) -> Gauge:
            spec = specs[name]
            return Gauge(name, spec.help, spec.labels, registry=self.registry)

        spec = specs["integrator_events"]
        self.events = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        spec = specs["integrator_zd_warnings"]
        self.zd_warnings = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        # Every known label value starts at 0: a series that only appears at its first use is
        # missing after a restart (a sum over nothing is empty, not 0: IntegratorNoIntake could
        # not fire), and increase() does not count its first appearance (IntegratorIntakeRejected
        # would miss the first rejection). The attempt counters start at 0 per destination the
        # same way (integrator.attempt_meter).
        for outcome in EVENT_OUTCOMES:
            self.events.labels(outcome)
        for rule in ZD_RULES:
            self.zd_warnings.labels(rule)
        spec = specs["integrator_delivery_attempts"]
        self.attempts = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        spec = specs["integrator_late_answers"]
        self.late_answers = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        spec = specs["integrator_ack_roundtrip_seconds"]
        self.ack_roundtrip = Histogram(
            spec.name, spec.help, spec.labels, buckets=ACK_BUCKETS, registry=self.registry
        )
        self.queue_depth = gauge("integrator_queue_depth")
        self.queue_oldest = gauge("integrator_queue_oldest_age_seconds")
        self.held = gauge("integrator_held_messages")
        self.dead = gauge("integrator_dead_letters")
        self.unrouted = gauge("integrator_unrouted_events")
        self.deprecated = gauge("integrator_destination_deprecated_version_days_left")
        self.retired = gauge("integrator_destination_retired_version")
        self.file_refused = gauge("integrator_destination_file_refused")
        self._tls = TlsRefusals()
        self.directory_readable = gauge("integrator_destinations_directory_readable")
        self.certificate_expiry = gauge(
            "integrator_destination_certificate_expiry_timestamp_seconds"
        )
        self._expiries = Expiries()
        self.store_up = gauge("integrator_store_up")
        self.transport_up = gauge("integrator_transport_up")
        self.amqp_dead = gauge("integrator_amqp_dead_messages")
        self.publish_owed = gauge("integrator_publish_owed")
        spec = specs["integrator_sign_ins_held"]
        self.sign_ins_held = Counter(spec.name, spec.help, registry=self.registry)
        spec = specs["integrator_prepare_process_restarts"]
        self.prepare_restarts = Counter(spec.name, spec.help, registry=self.registry)

    def observe_unrouted(self, counts: Mapping[str, int], named: Collection[str]) -> None:
        """Replace the unrouted counts; a provider whose events were all routed drops out.

        Each provider is counted under :func:`provider_label` with ``named``, the provider ids
        the destinations' definitions name: the ones under ``other`` add up.
        """
        labelled: dict[str, int] = {}
        for provider in sorted(counts):
            label = provider_label(provider, named)
            labelled[label] = labelled.get(label, 0) + counts[provider]
        self.unrouted.clear()
        for label, count in labelled.items():
            self.unrouted.labels(label).set(count)

    def observe_backlog(
        self,
        destinations: Iterable[str],
        backlog: Iterable[Backlog],
        now: datetime,
        *,
        dead_letters: Mapping[str, int],
    ) -> None:
        """Replace the per-destination counts with the store's; configured ones start at 0.

        ``dead_letters``: the open dead letters per destination (``count_open_dead_letters``):
        a dead message that a later resend delivered stays ``dead`` in the store but is no dead
        letter any more. A destination no longer configured keeps showing while it has
        messages waiting or held, or open dead letters.
        """
        depth: dict[str, int] = dict.fromkeys(destinations, 0)
        oldest: dict[str, datetime] = {}
        held: dict[str, int] = dict.fromkeys(depth, 0)
        dead: dict[str, int] = dict.fromkeys(depth, 0)
        for row in backlog:
            d = row.destination_id
            if row.status == "held":
                held[d] = held.get(d, 0) + row.count
            else:
                depth[d] = depth.get(d, 0) + row.count
                oldest[d] = min(oldest.get(d, row.oldest), row.oldest)
        dead.update(dead_letters)
        for gauge in (self.queue_depth, self.queue_oldest, self.held, self.dead):
            gauge.clear()
        for d, count in depth.items():
            self.queue_depth.labels(d).set(count)
            age = (now - oldest[d]).total_seconds() if d in oldest else 0.0
            self.queue_oldest.labels(d).set(max(age, 0.0))
        for d, count in held.items():
            self.held.labels(d).set(count)
        for d, count in dead.items():
            self.dead.labels(d).set(count)

    def observe_health(self, *, store: bool, transport: bool) -> None:
        self.store_up.set(1 if store else 0)
        self.transport_up.set(1 if transport else 0)

    def observe_directory(self, *, readable: bool) -> None:
        self.directory_readable.set(1 if readable else 0)

    def observe_catalog(self, catalog: Catalog, today: date) -> None:
        self.deprecated.clear()
        self.retired.clear()
        self.file_refused.clear()
        # A broken destination's id is its file's name, whatever its length: bounded as a
        # configured destination's id is (``MAX_ID``), and the rest counted under ``other``.
        # Its TLS files are looked at now (``TlsRefusals``): nothing reads the directory again
        # when only one of them goes or comes back.
        refused: dict[str, int] = {}
        for dest_id in self._tls.refused(catalog):
            label = dest_id if is_destination_id(dest_id) else OTHER_DESTINATION
            refused[label] = refused.get(label, 0) + 1
        for label, count in refused.items():
            self.file_refused.labels(label).set(count)
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

    def observe_certificates(self, catalog: Catalog) -> None:
        """The expiry of each certificate file the destinations in service name."""
        self.certificate_expiry.clear()
        for destination in catalog.destinations.values():
            for name, at in certificate_expiries(destination.tls, self._expiries.of).items():
                self.certificate_expiry.labels(destination.id, name).set(at.timestamp())

    def render(self) -> bytes:
        return generate_latest(_WithoutCreated(self.registry))


class _WithoutCreated(Collector):
    """The registry's families without the ``_created`` sample prometheus_client adds to each
    counter and histogram series (when it was made, as a Unix time).

    In the text format ``/metrics`` serves, Prometheus stores each as a gauge series of its
    own: a series more per label set that nothing here uses and docs/metrics.md need not
    explain. ``rate()`` and ``increase()`` see a restart without it (the counter went down).
    Left out here, per registry, rather than by ``prometheus_client.disable_created_metrics``,
    which would change every registry in the process.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            created = f"{family.name}_created"
            family.samples = [sample for sample in family.samples if sample.name != created]
            yield family
