"""The engine: store, catalog, transport, intake and one delivery loop per destination, wired.

This is the only place that knows all the parts. ``start`` re-publishes whatever the store still
lists as pending, so a restart (or a crash) resumes where the last run stopped; ``stop`` lets
in-flight attempts finish recording and leaves unsent messages queued in the store. Each engine
also looks daily whether it is its turn to prune (``integrator.lifecycle.daily``), and keeps a
presence row in the store while it runs (``integrator.presence``), naming where its HTTP API is,
so that commands looking for it elsewhere refuse instead of writing behind its back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Final

from destinations.config import DestinationConfig
from destinations.worker import OutboundMessage
from integrator.access import AccessService
from integrator.access.remembered import RememberedTokens
from integrator.access.setup import access_service
from integrator.attempt_meter import AttemptMeter
from integrator.catalog import (
    DIRECTORY_CODES,
    Broken,
    Catalog,
    VersionState,
    keep_last_good,
    shared_provider_notes,
    version_notice,
)
from integrator.clock import Clock, SystemClock
from integrator.delivery import HAND_BACK_LOAD_S, DestinationRunner, RetiredHold
from integrator.deprecation import RetiredVersions, resolve_version
from integrator.destination_dir import DirectoryUnusable
from integrator.eventloop import LEFTOVERS_S
from integrator.events_routing import UnroutedGauge
from integrator.intake import Intake
from integrator.jobs import JobRegistry
from integrator.late_answers import LateAnswerKeeper
from integrator.lifecycle.agreement import presence_text
from integrator.lifecycle.daily import DailyPrune
from integrator.lifecycle.retention import Retention
from integrator.logging import get_logger
from integrator.metrics import Metrics
from integrator.no_destination_files import (
    HOW_TO_REMOVE,
    STARTING,
    kept_without_files,
    refuse_without_files,
)
from integrator.operators import DestinationAdmin, stranded_said
from integrator.prepare_process import PrepareProcess
from integrator.presence import Departures, Presence, http_address, transport_of
from integrator.recorder import CANCEL_GRACE_S, AttemptRecorder
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import PENDING_STATUSES, Store, StoreError
from integrator.store_for import open_store
from integrator.tls_watch import TlsFileWatch
from integrator.transport import Transport
from integrator.transport.amqp_intake import AmqpIntake
from integrator.transport.committed import publish_committed
from integrator.transport.embedded import EmbeddedTransport
from integrator.transport.factory import create_transport
from integrator.transport.outbox import Outbox, outbound_message, with_its_time
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.recovery import RecoveryLeader
from integrator.watcher import DirectoryWatcher, Fingerprint, fingerprint

log = get_logger("integrator.engine")

STORE_STEP_ON_STOP_S = 2.0
"""How long a stop waits for each other step that needs the store (the engine's presence, the
jobs marked interrupted, the store closed) before it goes on without it."""

RECORD_ON_STOP_S = 5.0
"""How long a stop waits for the store to record the attempts made (``AttemptRecorder.close``):
long enough for a store that is only slow, short enough that the stop, after the attempts on
the wire (at most ``connect_timeout`` + 2 × ``ack_timeout``), ends within the supervisor's
patience (``TimeoutStopSec`` in the systemd unit, ``stop_grace_period`` in compose.yaml: both
allow ``stop_budget_s`` of the longest attempt) and can still name what it could not record."""

STORE_WAITS_ON_STOP_S = (
    4 * STORE_STEP_ON_STOP_S + HAND_BACK_LOAD_S + RECORD_ON_STOP_S + CANCEL_GRACE_S + LEFTOVERS_S
)
"""The most a stop waits for a store that does not answer, besides the attempt on the wire: its
four bounded steps (presence, jobs, the unrouted count, closing; the daily prune's is one only
while a prune runs), the reading of the rotate retries its runners hand back
(``delivery.HAND_BACK_LOAD_S``), the recording of attempts with the write it cancels, and the
end of the process's event loop, which gives up on what those steps left running (a read on
aiosqlite's thread that goes on after its step was given up: ``eventloop.LEFTOVERS_S``): 18 s."""

HTTP_ON_STOP_S = 3.0
"""How long a stop waits for the HTTP API's requests in flight (``runner._stop_http``) before it
goes on without them, saying how many were still open. It begins at the signal, beside the
attempts on the wire (``Engine.stop_attempting``), so it costs a stop with an attempt on the
wire nothing; without one it adds its seconds to the store's."""

BEFORE_ATTEMPTS_ON_STOP_S = HTTP_ON_STOP_S + 2 * STORE_STEP_ON_STOP_S
"""What a stop may wait for while the attempts on the wire finish: the HTTP API's requests,
then the engine's presence and the jobs (two of the store's steps)."""

AFTER_ATTEMPTS_ON_STOP_S = STORE_WAITS_ON_STOP_S - 2 * STORE_STEP_ON_STOP_S
"""What a stop may wait for once the attempts on the wire are done: the rest of
``STORE_WAITS_ON_STOP_S`` (the hand-back, the unrouted count, the recording, closing the store
and the loop's end): 14 s."""


def stop_budget_s(longest_attempt_s: float) -> float:
    """The most a stop (SIGTERM, SIGINT) takes, from the signal to the process's end, when the
    slowest destination's attempt takes ``longest_attempt_s`` (its ``connect_timeout`` plus
    twice its ``ack_timeout``): that attempt, or the HTTP API's and the store's first waits if
    they are longer, then the store's last ones. 84 s with the default timeouts (70 s), below
    the 90 s compose.yaml and the 100 s the systemd unit allow; 21 s with nothing on the wire.

    A stop that comes while the engine is still starting ends within ``START_ON_STOP_S`` plus
    ``stop_budget_s(0)`` (nothing was sent yet)."""
    return max(longest_attempt_s, BEFORE_ATTEMPTS_ON_STOP_S) + AFTER_ATTEMPTS_ON_STOP_S


START_ON_STOP_S = 2.0
"""How long a stop that comes during the start waits for the step under way (a store or a
broker that does not answer) to end once it is cancelled, before it closes what was opened."""


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        http: bool = True,
    ) -> None:
        """``http``: whether this engine's API is served (``integrator run --no-http``: not).

        The engine does not serve it itself (``integrator.runner`` does); it only says so in its
        presence row, with the address from ``settings``.
        """
        self.settings = settings
        self.serves_http = http
        self.clock: Clock = clock or SystemClock()
        self._catalog_override = catalog
        self._store: Store | None = None
        self._transport: Transport | None = None
        self._intake: Intake | None = None
        self._recorder: AttemptRecorder | None = None
        self._late_answers: LateAnswerKeeper | None = None
        self.unrecorded_at_stop: list[str] = []
        """Messages whose attempts the last stop could not record (the store did not take
        them): they go out again at the next start, under the same MSH-10."""
        self._runners: dict[str, DestinationRunner] = {}
        # Shared by the runners: which message versions are retired today (docs/product.md §3).
        self._retired_versions = RetiredVersions(self.clock.now, settings.zone)
        self._amqp_intake: AmqpIntake | None = None
        self._prepare_process: PrepareProcess | None = None  # INTEGRATOR_PREPARE_PROCESS
        self._leader: RecoveryLeader | None = None
        self.metrics = Metrics()
        # The unrouted-events gauge, from the store; its labels are the providers configured.
        self.unrouted = UnroutedGauge(self.metrics, configured=self._configured_providers)
        self._watcher: DirectoryWatcher | None = None
        # Tells a destination's TLS file gone or unusable while delivery goes on without it.
        self.tls_watch = TlsFileWatch(self._in_service)
        # The destinations directory as the last reading that applied saw it, taken before it
        # was read: the watcher reads it again only when it differs (``files_changed``).
        self._files_applied: Fingerprint | None = None
        self._applying = asyncio.Lock()  # one change of destinations at a time
        self._admin: DestinationAdmin | None = None
        self._access: AccessService | None = None
        self._tokens: RememberedTokens | None = None
        # Batch jobs (resend, route, discard): rows in the store, so they outlive a restart,
        # each naming this engine by its presence row, so a restart tells it died with them.
        self.jobs = JobRegistry(lambda: self.store, self.clock, self._presence_id)
        self._daily_prune: DailyPrune | None = None
        self._presence: Presence | None = None
        self.starting = "nothing"
        """What ``start`` is waiting for (the store, RabbitMQ, ...): a stop that comes during the
        start says it (``runner``), so the operator knows which one did not answer."""
        self._attempting = True  # False from ``stop_attempting``: no runner starts after it
        self._stopped = False  # a start that failed stopped already; a second stop is none
        # Why the destinations directory cannot be read, while it cannot: said once, not at
        # every reload (``_directory_unusable``).
        self._directory_problem: str | None = None
        # Whether a reading ever found the directory: it "is back" only if it was there once.
        self._directory_seen = False
        # How many destinations stay in service while the directory holds no destination
        # file: said once, not at every reload (``_no_destination_files``).
        self._kept_without_files: int | None = None

    # -- parts -------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("engine not started")
        return self._store

    @property
    def intake(self) -> Intake:
        if self._intake is None:
            raise RuntimeError("engine not started")
        return self._intake

    @property
    def catalog(self) -> Catalog:
        return self.intake.catalog

    def _in_service(self) -> Catalog | None:
        """The catalog in service; None while the engine starts (it has none yet)."""
        return self._intake.catalog if self._intake is not None else None

    def _configured_providers(self) -> frozenset[str]:
        """The provider ids the destinations in service serve (none while the engine starts)."""
        catalog = self._in_service()
        return frozenset() if catalog is None else catalog.providers

    async def _catalog_clusters(self) -> frozenset[str]:
        """The clusters of the destinations in service, and those removed destinations were
        last in (their messages and dead letters lie there, for that cluster's support to
        resolve): what a grant may name."""
        catalog = self.catalog
        removed = (cluster for cluster in catalog.removed.values() if cluster)
        return frozenset(
            (*(c.cluster for c in catalog.destinations.values() if c.cluster), *removed)
        )

    @property
    def admin(self) -> DestinationAdmin:
        if self._admin is None:
            raise RuntimeError("engine not started")
        return self._admin

    @property
    def access(self) -> AccessService:
        """Identities and API tokens on this engine's store and clock (docs/access.md)."""
        if self._access is None:
            raise RuntimeError("engine not started")
        return self._access

    @property
    def tokens(self) -> RememberedTokens:
        """API token checks, the scrape's remembered while the store is down (docs/metrics.md)."""
        if self._tokens is None:
            raise RuntimeError("engine not started")
        return self._tokens

    def _presence_id(self) -> str | None:
        """This engine's presence id while it runs: the engine its jobs name."""
        return None if self._presence is None else self._presence.row.id

    def today(self) -> date:
        return self.clock.now().astimezone(self.settings.zone).date()

    async def publish(self, messages: list[OutboundMessage], *, what: str, **counts: int) -> bool:
        """Hand messages already committed to the store to delivery (resends and routing use
        this); False when the broker is away. They are stored and go out when it is back
        (``integrator.transport.committed``), so the caller succeeds and adds its note: failing
        would invite a second resend or routing of work that is done."""
        if self._transport is None:
            raise RuntimeError("engine not started")
        return await publish_committed(self._transport, messages, what=what, counts=counts)

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        # One key for intake, search and audit: the setting, or the store's own (made now).
        self._stopped = False
        self.settings = resolve_search_key(self.settings, create=True)
        sealer = self.settings.sealer()
        self.starting = "the store (opening it, migrating it)"
        # Another search key than the store's refuses the start (SearchKeyMismatch): events
        # taken in with it could never be found by BSN with the right one.
        self._store = await open_store(
            self.settings, clock=self.clock.now, sealer=sealer, judge_engines_keys=False
        )
        # Present from the moment it works on the store: from here on, work written into the
        # store behind its back would wait for its next start. Its key ids go with it, so a
        # rotation to a key it lacks is refused (integrator keys rotate). Its transport too:
        # an engine already on the store that would deliver the waiting messages through
        # other queues refuses this one here, before it resumes or sends anything.
        self._presence = Presence(
            self._store,
            http_address(self.settings, http=self.serves_http),
            data_keys=sealer.kids,
            transport=transport_of(self.settings),
            # Its retention periods: no prune may prune what this engine keeps (exit 2).
            retention=presence_text(Retention.from_settings(self.settings)),
        )
        self.starting = "the store (the engine's presence)"
        try:
            await self._presence.start()
        except BaseException:
            self._presence = None
            await self._store.close()
            self._store = None
            raise
        try:
            await self._start_present()
        except Exception:
            # No half-started engine: its presence row goes (else it reads as running for a
            # while from another machine) and the store is closed, whatever refused the start
            # (its destinations directory, the prepare process, the broker). A cancelled
            # start is the runner's to stop (``runner._start``).
            await self.stop()
            raise

    async def _start_present(self) -> None:
        """The start's part after the engine's presence row is written (``start``)."""
        assert self._store is not None
        exposed = self._store.exposed_files()
        if exposed is not None:
            log.warning("store files readable by others", detail=exposed)
        self._admin = DestinationAdmin(
            store=self._store,
            settings=self.settings,
            today=self.today,
            now=self.clock.now,
            applied=self.reload_destinations,
            lock=self._applying,
            in_service=self._in_service,
            stop_delivering=self._stop_delivering,
            stop_routing=self._stop_routing,
        )
        self._access = access_service(
            self._store,
            self.clock,
            self.settings,
            known_clusters=self._catalog_clusters,
            sign_ins_held=self.metrics.sign_ins_held.inc,
        )
        self._tokens = RememberedTokens(self._access, self._store, self.clock.now)
        self.starting = "the store (the destinations)"
        if self._catalog_override is None:
            self._files_applied = fingerprint(self.settings.destinations_dir)
        catalog = self._catalog_override or await self._admin.catalog()
        if catalog.directory_problem is not None:
            # A store in use: started so, the engine would take events in (a shared intake
            # queue's too, beside engines that route them) and store every one unrouted.
            # (Not "make an empty one": that reads as every destination's file deleted.)
            await self._admin.refuse_without_directory(
                "the engine does not start: it would take events in without a destination "
                "and store them unrouted. Put the directory back (a volume not mounted?), or "
                "set the setting to the engine's directory"
            )
            # A new store: the engine starts without destinations, and takes them in when the
            # directory is there (its watcher, or SIGHUP).
            self._directory_unusable(catalog.directory_problem.rule, kept=catalog)
        elif self._catalog_override is None:
            # An empty directory (a volume's mount point) is refused as a missing one.
            await refuse_without_files(self._store, self.settings.destinations_dir, STARTING)
        self._directory_seen = catalog.directory_problem is None
        _log_news(catalog, Catalog())
        self._recorder = AttemptRecorder(self._store)
        self._recorder.start()
        self._late_answers = LateAnswerKeeper(self._store)
        self._transport = create_transport(self.settings)
        if isinstance(self._transport, EmbeddedTransport):
            self._transport.configure(load=self._load_pending)
        if self.settings.prepare_process:
            self._prepare_process = PrepareProcess(
                self.settings, restarted=self.metrics.prepare_restarts.inc
            )
            self.starting = "the prepare process"
            await self._prepare_process.start()
        self._intake = Intake(
            store=self._store,
            transport=self._transport,
            catalog=catalog,
            settings=self.settings,
            clock=self.clock,
            metrics=self.metrics,
            prepare_process=self._prepare_process,
        )
        self.metrics.observe_catalog(catalog, self.today())
        self.unrouted.start(self._store)
        self.starting = "the store (the destinations)"
        if self._catalog_override is None:
            await self._admin.record_file_changes(catalog)
            self._watcher = DirectoryWatcher(
                self.settings.destinations_dir, self.files_changed, seen=self._files_applied
            )
            self._watcher.start()
        self.starting = "the store (preparing its hot writes)"
        await self._warm_up_store()
        if isinstance(self._transport, RabbitMQTransport):
            self.starting = "RabbitMQ"
            await self._start_rabbitmq(self._transport)
            self.starting = "the store (the pending messages)"
            backlog = await self._store.backlog()
            await self._say_stranded_at_start(catalog, {b.destination_id for b in backlog})
        else:
            self.starting = "the store (the pending messages)"
            await self._recover(catalog)
        resumed = await self._observe_pauses(catalog)
        for destination in catalog.destinations.values():
            if destination.enabled:
                self._start_destination(destination, resumed.get(destination.id))
            else:
                log.info("destination paused", destination=destination.id)
        self.tls_watch.start()
        # A destination moved off a retired version while no engine ran (its file edited
        # during an upgrade) releases what it held now, not at some later change.
        await self.intake.release_held(catalog.destinations)
        # A SQLite store is one engine's, and the embedded transport admits no other engine
        # on its store, whatever the database (``presence.refuse_disagreeing``): every job
        # still running there died with an engine before this one.
        await self.jobs.recover(
            single_engine=self._store.backend == "sqlite"
            or isinstance(self._transport, EmbeddedTransport)
        )
        self._daily_prune = DailyPrune(
            self._store,
            Retention.from_settings(self.settings),
            self.clock,
            store_made_now=self._store.made_now,
        )
        self._daily_prune.start()
        if self._amqp_intake is not None:
            # Last: events come in once what delivers them runs. Taken in before, the first
            # ones waited in their delivery queues for the destinations' consumers.
            self.starting = "RabbitMQ (the intake queue)"
            await self._amqp_intake.start()
        self.starting = "nothing"
        log.info(
            "engine started",
            destinations=len(catalog.destinations),
            # Which store: its file or host and database, never a password (``Store.location``);
            # a mistyped path makes a new, empty store, and this line is where that shows.
            store=self.store.location,
            transport="rabbitmq" if isinstance(self._transport, RabbitMQTransport) else "embedded",
            **(
                {"prepare_process": self._prepare_process.pid}
                if self._prepare_process is not None and self._prepare_process.running
                else {}
            ),
        )

    def stop_attempting(self) -> None:
        """The first move of a graceful stop, made at the signal: no destination starts a new
        attempt (nor does one that a change of destinations would start now), while those on
        the wire go on. ``stop`` then waits for them; what else the stop waits for before it
        (the HTTP API's requests, ``HTTP_ON_STOP_S``; two of the store's steps) runs meanwhile,
        so that its seconds come out of the attempts' rather than adding to them
        (``stop_budget_s``). A message taken after this is left queued, as at a stop."""
        self._attempting = False
        for runner in self._runners.values():
            runner.stop_attempting()

    async def stop(self, *, graceful: bool = False) -> None:
        """Stop; ``graceful`` (SIGTERM) lets attempts on the wire finish and be recorded."""
        if self._stopped:
            return
        # The steps that write to the store are each bounded (``_on_stop``): in an outage of
        # the store, one waiting for it without end would hold the stop until the supervisor's
        # kill, and the unrecorded attempts would go unnamed (``AttemptRecorder.close``).
        presence, self._presence = self._presence, None
        if presence is not None:
            await _on_stop(presence.stop(), "engine presence")  # first: no more CLI work
        if self._daily_prune is not None:
            await _on_stop(self._daily_prune.stop(), "daily prune")
            self._daily_prune = None
        if self._store is not None:
            # Marked interrupted while the store is still open.
            await _on_stop(self.jobs.stop(), "jobs")
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self.tls_watch.stop()
        if self._amqp_intake is not None:
            await self._amqp_intake.stop()  # first: take no new events while stopping
            self._amqp_intake = None
        await asyncio.gather(*(r.stop(graceful=graceful) for r in self._runners.values()))
        self._runners.clear()
        if self._prepare_process is not None:
            await self._prepare_process.close()
            self._prepare_process = None
        await _on_stop(self.unrouted.stop(), "unrouted events count")
        late, self._late_answers = self._late_answers, None
        if self._recorder is not None:
            # Beside each other, within the one period the stop's budget counts for them.
            recorder = self._recorder.close(within=RECORD_ON_STOP_S)
            if late is None:
                self.unrecorded_at_stop = await recorder
            else:
                self.unrecorded_at_stop, _ = await asyncio.gather(
                    recorder, late.close(within=RECORD_ON_STOP_S)
                )
        if self._leader is not None:
            await self._leader.close()
            self._leader = None
        if self._transport is not None:
            await self._transport.close()
            owing = isinstance(self._transport, RabbitMQTransport) and self._transport.owes()
            if presence is not None and owing:
                # Left for the recovery leader again: it may have re-published since ``stop``.
                await _on_stop(presence.left_owing(), "engine presence")
        if self._store is not None:
            await _on_stop(self._store.close(), "store")
        self._store = self._transport = self._intake = self._recorder = None
        self._access = None
        self._stopped = True
        log.info("engine stopped")

    async def drain(self) -> None:
        """Wait until every attempt made so far is committed to the store."""
        if self._recorder is not None:
            await self._recorder.drain()

    async def wait_settled(self, *, timeout: float, poll: float = 0.05) -> bool:
        """Wait until no message is queued, sending or retrying; False on timeout.

        The recorder's drain is bounded by the same deadline: a store that does not take
        attempts holds it for as long as it does not, and the wait (the demo's, a test's) hung
        there instead of saying that nothing settled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await asyncio.wait_for(self.drain(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return False
            counts = await self.store.count_by_status()
            if not any(counts.get(s, 0) for s in PENDING_STATUSES):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(poll)

    # -- destinations change -----------------------------------------------------------------
    async def reload_destinations(self) -> Catalog:
        """Read the destination files again and apply them (SIGHUP does this)."""
        async with self._applying:
            return await self._reload()

    async def files_changed(self) -> Catalog | None:
        """What the watcher calls when the directory changed: read and apply it, unless the
        last reading already saw it as it is now.

        A change made with the CLI, the API or the console writes its file and applies it
        itself; read again a second later, the directory would only be applied a second time,
        and "destinations applied" said twice for one change.
        """
        async with self._applying:
            if fingerprint(self.settings.destinations_dir) == self._files_applied:
                return None
            return await self._reload()

    async def _reload(self) -> Catalog:
        old = self.catalog
        # Taken before reading: an edit made while it is read differs from it, and the
        # watcher reads the directory again.
        seen = fingerprint(self.settings.destinations_dir)
        try:
            new = await self.admin.catalog()
        except DirectoryUnusable as exc:  # there, but cannot be listed (its permissions)
            return self._directory_unusable(exc.rule, kept=old)
        if new.directory_problem is not None:  # gone, or no directory
            return self._directory_unusable(new.directory_problem.rule, kept=old)
        if self._directory_problem is not None:
            self._say_directory_usable()
        kept = await kept_without_files(self.store, new, old)
        if kept is not None:  # empty, a volume's mount point, say: it removes nothing
            return await self._no_destination_files(kept, old)
        if self._kept_without_files is not None:
            log.info(
                "destinations directory holds destination files again; they apply",
                directory=str(self.settings.destinations_dir),
            )
            self._kept_without_files = None
        await self.admin.record_file_changes(new)
        catalog = keep_last_good(new, old)
        _log_news(catalog, old)
        applied = await self._apply(catalog)
        self._files_applied = seen
        for dest_id in sorted(set(old.destinations) - set(catalog.destinations)):
            await self._say_stranded(dest_id)
        return applied

    def _say_directory_usable(self) -> None:
        """Say that the directory can be read again, or for the first time: "back" for one
        that was there before (a volume mounted again) would send the reader looking for
        what took it away."""
        directory = str(self.settings.destinations_dir)
        if self._directory_seen:
            log.info("destinations directory is back; its files apply again", directory=directory)
        else:
            log.info("destinations directory appeared; its files apply", directory=directory)
        self._directory_problem = None
        self._directory_seen = True

    async def _no_destination_files(self, kept: Catalog, old: Catalog) -> Catalog:
        """Keep ``kept`` in service while the directory holds no destination file, as for a
        directory that is gone (``integrator.no_destination_files``): nothing is recorded as
        deleted by hand. Said at WARNING once, with the way to remove destinations on
        purpose; those removed so (``kept`` lacks them) do leave service."""
        if self._kept_without_files != len(kept.destinations):
            log.warning(
                "destinations directory holds no destination files; the destinations in "
                "service stay as they are",
                directory=str(self.settings.destinations_dir),
                setting="INTEGRATOR_DESTINATIONS_DIR",
                kept=len(kept.destinations),
                detail=HOW_TO_REMOVE,
            )
            # A removal's revision commits just after its file is deleted: looked at again
            # once, the last destination removed on purpose does leave service.
            if self._watcher is not None:
                self._watcher.look_again()
        self._kept_without_files = len(kept.destinations)
        self._files_applied = None  # read again at the next look, as for a directory gone
        return kept if kept == old else await self._apply(kept)

    async def _say_stranded_at_start(self, catalog: Catalog, waited_for: set[str]) -> None:
        """Say the destinations that messages wait for and no file defines, as a reload does
        for a file deleted while the engine ran (on either transport; RabbitMQ's recovery
        leader republishes only what a file defines). A file there but refused is not one of
        them: its refusal is said with its rule, and the messages go once it is mended."""
        for destination_id in sorted(waited_for - set(catalog.sources) - set(catalog.destinations)):
            await self._say_stranded(destination_id)

    async def _say_stranded(self, destination_id: str) -> None:
        """At ERROR, for a destination gone from the files while messages wait for it (its file
        deleted by hand; a removal through the tools refuses that or dead-letters them): they
        are not sent, and no listing shows them any more."""
        waiting = await self.admin.waiting_for(destination_id)
        if waiting:
            log.error(
                "messages wait for a destination no file defines; they are not sent",
                destination=destination_id,
                messages=waiting,
                detail=stranded_said(destination_id, waiting),
            )

    def _directory_unusable(self, problem: str, *, kept: Catalog) -> Catalog:
        """Keep ``kept`` in service whole while the destinations directory cannot be read.

        A directory that is gone (a volume not mounted, a deploy swapping it) or cannot be
        listed says nothing about any destination: taking it for "every file deleted" would
        leave every event unrouted until someone ran ``events route``. Said at ERROR once when
        it starts and when its problem changes, not at every reload while it lasts.
        """
        if problem != self._directory_problem:
            log.error(
                "destinations directory unusable; the destinations in service stay as they "
                "are until it is back",
                directory=str(self.settings.destinations_dir),
                setting="INTEGRATOR_DESTINATIONS_DIR",
                problem=problem,
                in_service=len(kept.destinations),
            )
        self._directory_problem = problem
        # Put back as it was, the directory is the same as its last reading, and must be read
        # all the same: the engine says it is back, and takes in what changed meanwhile.
        self._files_applied = None
        return kept

    async def _stop_routing(self, destination_id: str) -> None:
        """Route no more events to ``destination_id``, under ``_applying`` (which the
        destination admin holds when it calls this), until the next catalog is applied; every
        event routed to it before is in the store on return (``Intake.stop_routing``)."""
        if self._intake is not None:
            await self._intake.stop_routing(destination_id)

    async def _stop_delivering(self, destination_id: str) -> None:
        """Stop delivering to ``destination_id``, under ``_applying`` (which the destination
        admin holds when it calls this): its runner stops gracefully, so an attempt on the wire
        finishes and is recorded, and its queue is handed back, as ``_apply`` stops one. A
        removal with ``--force`` calls it before it dead-letters what waits, so no attempt's
        outcome overwrites a dead letter it made. The next apply starts a runner again for a
        destination still in service."""
        runner = self._runners.pop(destination_id, None)
        if runner is None:
            return
        await runner.stop(graceful=True, because="the destination is removed")
        assert self._transport is not None
        await self._transport.release(destination_id)
        if self._recorder is not None:
            await self._recorder.drain()  # its last attempts are in the store now

    async def apply_catalog(self, catalog: Catalog) -> Catalog:
        """Run on new destination definitions without a restart and without losing a message.

        Changed destinations get a new runner (the next attempt uses the new host, port, TLS or
        timeouts); removed or paused ones stop, their messages staying queued in the store.
        Held messages whose destination now has a supported version are released.
        """
        async with self._applying:
            return await self._apply(catalog)

    async def _apply(self, catalog: Catalog) -> Catalog:
        assert self._store is not None and self._transport is not None
        before = self.intake.catalog
        self.intake.catalog = catalog
        self.metrics.observe_catalog(catalog, self.today())
        restarted: set[str] = set()  # changed here, and running on: its queue is as it was
        for dest_id, runner in list(self._runners.items()):
            current = catalog.destinations.get(dest_id)
            if current is None or current != runner.destination or not current.enabled:
                if current is not None and current.enabled:
                    restarted.add(dest_id)
                # Graceful: an attempt on the wire finishes and is recorded. Cancelled, its
                # message would go out a second time (same MSH-10) once the new runner starts:
                # a duplicate at the hospital for every destination edit made mid-attempt.
                await runner.stop(graceful=True, because=_stopped_because(current))
                del self._runners[dest_id]
                # Hand its queue back, changed destinations too: a runner stopped mid-attempt
                # leaves a delivery unsettled, and acks (multiple, up to the first unsettled
                # delivery) would stop there. What this engine held goes back to the queue; the
                # new runner, or another engine if the destination is paused here, takes it up.
                await self._transport.release(dest_id)
        if isinstance(self._transport, EmbeddedTransport):
            # Out of service, paused or not: its queue goes (what is pending stays in the store
            # and is queued again if it comes back; what a removal dead-lettered is not).
            for dest_id in set(before.destinations) - set(catalog.destinations):
                self._transport.forget(dest_id)
        starting = [
            d for d in catalog.destinations.values() if d.enabled and d.id not in self._runners
        ]
        if starting and self._recorder is not None:
            await self._recorder.drain()  # what stopped runners delivered is in the store now
        for destination in starting:
            # Before the runner starts, so the transport can tell these from what is queued.
            if isinstance(self._transport, EmbeddedTransport):
                # By reference, as at a restart: what waits already is skipped, the rest is
                # loaded a window at a time (a resumed destination may owe 100,000 messages).
                self._transport.requeue(await self._store.pending_refs(destination.id))
            elif self._republishes_on_start(destination.id, restarted):
                # Pending in the store already: with the broker away the recovery leader and
                # the transport's reconnect publish them, and the runner must start all the same.
                pending = await self._store.pending_messages(destination.id)
                await publish_committed(
                    self._transport,
                    [outbound_message(m) for m in pending],
                    what="resume",
                    republish=True,
                )
        resumed = await self._observe_pauses(catalog)
        for destination in starting:
            self._start_destination(destination, resumed.get(destination.id))
        started = [d.id for d in starting]
        await self.intake.release_held(catalog.destinations)
        changes = _changes(before, catalog)
        log.info(
            "destinations applied",
            destinations=len(catalog.destinations),
            restarted=len(started),
            **({"changes": changes} if changes else {}),
        )
        return catalog

    def _republishes_on_start(self, destination_id: str, restarted: set[str]) -> bool:
        """Whether this engine re-publishes the store's pending messages of a destination whose
        runner starts now (RabbitMQ; the embedded transport re-queues them by reference).

        Never for a destination changed while it ran here: its queue was not touched (the old
        runner's unsettled deliveries went back to it), so a copy could only go out a second
        time. For one resumed or newly configured (its queue may have lost what the recovery
        leader skipped meanwhile: its re-publishes leave paused and unconfigured destinations
        out, ``Catalog.delivering``), only the recovery leader does, as at a start: one copy, not
        one per engine, and the copies are checked against the store and against the attempts
        in flight where they arrive (``transport/rabbitmq.py``). While no engine leads, the
        next leader's take-over re-publishes the destination's pending messages anyway.
        """
        if destination_id in restarted:
            return False
        return self._leader is None or self._leader.is_leader

    # -- delivery ----------------------------------------------------------------------------
    async def _recover(self, catalog: Catalog) -> None:
        """Queue the store's pending messages on the embedded transport, oldest first.

        By reference only: the transport loads the payloads a window at a time as it delivers,
        so a restart behind a long backlog does not hold every payload at once.
        """
        assert self._store is not None and isinstance(self._transport, EmbeddedTransport)
        pending = await self._store.pending_refs()
        await self._say_stranded_at_start(catalog, {m.destination_id for m in pending})
        known = [m for m in pending if m.destination_id in catalog.destinations]
        if known:
            log.info("resuming pending messages", messages=len(known))
            self._transport.requeue(known)

    async def _warm_up_store(self) -> None:
        """Open the hot writes' connections and prepare their statements before any event
        comes (``Store.warm_up``). A failure here stops nothing: the first events then open
        and prepare them, as they would have without this, and meet the same store."""
        assert self._store is not None
        try:
            await self._store.warm_up()
        except StoreError as exc:
            log.warning(
                "could not prepare the store's hot writes at start; the first events will",
                error=str(exc),
            )

    async def _start_rabbitmq(self, transport: RabbitMQTransport) -> None:
        """Connect; recovery runs on every (re)connect from then on, and the AMQP intake once
        ``start`` has started it (last, when the destinations run).

        Re-publishing the store's pending messages is the recovery leader's job (one engine at
        a time, see ``transport/recovery.py``), not every starting engine's.
        """
        assert self._store is not None and self._recorder is not None
        # Paused destinations left out: nobody consumes their queues, and a copy of each of
        # their waiting messages (100,000 behind a hospital's maintenance) at every start,
        # take-over and engine leaving would only pile up there; the leader re-publishes them
        # when the destination is resumed (``_republishes_on_start``).
        outbox = Outbox(self._store, lambda: self.intake.catalog.delivering)
        transport.configure(
            still_pending=outbox.still_pending,
            barrier=self._recorder.committed,
            load=self._load_pending,  # what it could not publish, it remembers by id only
        )

        async def republish() -> int:
            # A chunk at a time: after a long outage, every message accepted meanwhile; what
            # intake publishes meanwhile goes behind them (a cancel behind its referral).
            count = 0
            async with transport.ahead_of_new_publishes():
                async for chunk in outbox.pending_chunks():
                    await transport.republish(chunk)
                    count += len(chunk)
            return count

        self._leader = RecoveryLeader(
            transport.link,
            transport.topology,
            republish,
            departures=Departures(self._store, self._presence_id),
        )
        self._amqp_intake = AmqpIntake(transport, self.intake, self._store)
        try:
            await transport.start()
        except BaseException:
            await self.stop()  # no half-started engine: close the recorder and the store
            raise

    async def amqp_dead_count(self) -> int | None:
        """Messages in the broker's dead queue; None on the embedded transport."""
        if isinstance(self._transport, RabbitMQTransport):
            return await self._transport.dead_count()
        return None

    def publish_owed(self) -> int:
        """Messages committed here whose publish the broker has not confirmed (0 embedded)."""
        if isinstance(self._transport, RabbitMQTransport):
            return self._transport.owed()
        return 0

    def transport_connected(self) -> bool:
        """Whether the transport can carry messages now (the embedded one always can)."""
        return self.transport_state() == "ok"

    def transport_state(self) -> str:
        """``ok``, ``disconnected``, or ``not consuming``: connected, but the broker cancelled
        a delivery queue's consumer or the intake's (the queue was deleted) and it is not
        consumed again yet, so messages for that destination would wait, or events published
        to the intake exchange would be dropped; the engine is re-declaring it."""
        if isinstance(self._transport, RabbitMQTransport):
            if not self._transport.link.connected:
                return "disconnected"
            intake = self._amqp_intake is not None and self._amqp_intake.not_consuming()
            return "not consuming" if intake or self._transport.not_consuming() else "ok"
        return "ok" if self._transport is not None else "disconnected"

    @property
    def daily_prune(self) -> DailyPrune:
        """The daily retention task (``integrator.lifecycle.daily``)."""
        if self._daily_prune is None:
            raise RuntimeError("engine not started")
        return self._daily_prune

    @property
    def recovery(self) -> RecoveryLeader | None:
        """The RabbitMQ recovery leader election (None on the embedded transport)."""
        return self._leader

    async def _observe_pauses(self, catalog: Catalog) -> dict[str, datetime]:
        """Tell the store which destinations are paused now; when each was last resumed.

        A destination's queued messages could not be tried while it was paused, so their
        ``max_age`` counts from its resume (``destinations.retry.age_start``). Written only when a
        destination went from paused to enabled or back, also across a restart.
        """
        assert self._store is not None
        enabled = {d.id: d.enabled for d in catalog.destinations.values()}
        return await self._store.observe_enabled(enabled, now=self.clock.now())

    def _start_destination(
        self, destination: DestinationConfig, resumed_at: datetime | None = None
    ) -> None:
        assert self._recorder is not None and self._transport is not None
        if not self._attempting:
            return  # stopping: its messages stay queued for the next start
        assert self._late_answers is not None
        sink = AttemptMeter(
            self._recorder, self.metrics, destination.id, keep_late=self._late_answers.keep
        )
        runner = DestinationRunner(
            destination,
            transport=self._transport,
            sink=sink,
            clock=self.clock,
            load=self._load_pending,
            resumed_at=resumed_at,
            due=self._due_retries,
            retired=RetiredHold(
                self._retired_versions,
                self._hold_retired,
                lambda destination_id: self.intake.release_held([destination_id]),
                self._remap_retired,
            ),
            gate=self._recorder,
        )
        self._runners[destination.id] = runner
        runner.start()

    async def _hold_retired(self, message: OutboundMessage, version: str) -> bool:
        """Hold a message whose version was retired after it was mapped (never sent in that
        format). True when it was held: the runner then releases its destination's held
        messages (``Intake.release_held``), which maps it again, under the same MSH-10, when
        the destination now uses a version in service (moved before the sunset, or
        ``auto_upgrade``), and otherwise leaves it held until the destination moves.

        Its earlier attempts' records are committed first: written after the hold, the last
        one set the message back to ``retrying``, with its bytes gone and nothing to release.
        """
        assert self._recorder is not None
        await self._recorder.committed()
        resolution = resolve_version(version, auto_upgrade=False, today=self.today())
        note = resolution.note or f"held: message version {version} is retired"
        if not await self.store.hold_message(message.message_id, note):
            return False  # taken care of meanwhile (discarded, say)
        log.warning(
            "message held: its version was retired after it was mapped",
            message_id=message.message_id,
            control_id=message.control_id,
            destination=message.destination_id,
            version=version,
        )
        return True

    async def _remap_retired(
        self, message: OutboundMessage, version: str
    ) -> OutboundMessage | None:
        """Hold ``message`` (``_hold_retired``) and map it again at once, where its
        destination can now (moved before the sunset, or ``auto_upgrade``): the message as the
        store then has it (its new bytes, its attempts so far), for a fifo runner to send in
        its place; None when it stays held. Hold and map again under ``Intake.releasing``, so
        that no ``release_held`` of this engine sends it to the tail between the two.

        Another engine on the store is not kept out by that lock: its release of held messages
        (a resume all engines apply at once) may map it again in that window and publish it to
        the tail. It is then queued, with its new bytes, as this one would have left it: so it
        is sent here in its place all the same (whoever released it), and the copy at the tail,
        published as one its receiver checks against the store (``Intake._publish_released``),
        finds it delivered and owes nothing. Only one still held is not sent."""
        async with self.intake.releasing:
            if not await self._hold_retired(message, version):
                return None
            await self.intake.release_now(message.message_id, message.destination_id)
        again = await self._load_pending([message.message_id])
        return again[0] if again else None

    async def _load_pending(self, ids: Sequence[str]) -> list[OutboundMessage]:
        """The pending messages among ``ids`` as the store has them, a retry with its time:
        what the embedded transport queued by id, what RabbitMQ did not confirm (published
        again at the reconnect), and a rotate retry when its timer is due."""
        return [with_its_time(m) for m in await self.store.pending_messages(ids=ids)]

    async def _due_retries(self, destination_id: str) -> dict[str, int]:
        return await self.store.due_retries(destination_id, now=self.clock.now())

    def retries_waiting(self, destination_id: str) -> int:
        """How many retries of ``destination_id`` wait in this engine's runner now."""
        runner = self._runners.get(destination_id)
        return runner.retries_waiting if runner is not None else 0

    def retries_made_due(self, destination_id: str) -> None:
        """Retries of ``destination_id`` were made due (``integrator.try_now``): its runner
        here, if any, attempts them now; another engine's sees it at its next look."""
        runner = self._runners.get(destination_id)
        if runner is not None:
            runner.retries_made_due()


_VERSION_NOTICE_EVENTS: Final[Mapping[VersionState | None, str]] = {
    "deprecated": "deprecated message version",
    "retired": "retired message version",
    None: "message version notice",
}
"""The log line of a version notice (``_log_news``), by the state of the version it names: a
retired version's messages are held or mapped with its successor, a deprecated one's still go
out as they are, and an alert on the one line must not fire for the other."""


def _log_news(catalog: Catalog, before: Catalog) -> None:
    """Log what ``catalog`` says that ``before`` (the catalog it replaces) did not.

    A refused file at ERROR when its refusal appears or changes, not again at every unrelated
    reload (the metric ``integrator_destination_file_refused`` says it lasts); and, for each
    destination new or changed since ``before``, the message version notices of the definition
    in service (a broken one's last good definition: ``DestinationAdmin.catalog``) and the providers
    another destination serves too, in the words a change through the CLI or the API is warned
    with: a file copied by hand with its providers left as they were sends every event twice,
    and only the log would say so. Its ``name`` left as it was is said too (``_shared_names``).
    """
    _log_refusals(catalog, before)
    changed = {
        dest_id
        for dest_id, config in catalog.destinations.items()
        if before.destinations.get(dest_id) != config
    }
    for warning in catalog.warnings:
        notice = version_notice(warning)
        dest_id, state = notice if notice is not None else (None, None)
        if dest_id is None or dest_id in changed:
            log.warning(_VERSION_NOTICE_EVENTS[state], destination=dest_id, detail=warning)
    for note in shared_provider_notes(catalog, changed):
        log.warning(
            "provider served by more than one destination",
            destination=note.values["id"],
            detail=str(note),
        )
    for name, ids in _shared_names(catalog, changed).items():
        log.warning(
            "destinations share a name; listings cannot tell them apart by it",
            name=name,
            destinations=ids,
            detail="if one is a copy of the other's file, give it a name of its own",
        )


def _shared_names(catalog: Catalog, changed: Collection[str]) -> dict[str, list[str]]:
    """Each ``name`` that more than one destination in service has, with their ids, where one
    of them is new or ``changed``: a file copied to a new id kept its ``name``, and the two
    read as one in every listing. Not refused: a name is only for people."""
    by_name: dict[str, list[str]] = {}
    for dest_id, config in sorted(catalog.destinations.items()):
        by_name.setdefault(config.name, []).append(dest_id)
    return {
        name: ids
        for name, ids in by_name.items()
        if len(ids) > 1 and any(dest_id in changed for dest_id in ids)
    }


def _log_refusals(catalog: Catalog, before: Catalog) -> None:
    """Say for each refused file what it means for delivery, which is not always the same.

    A destination's own file refused: it runs on its last good definition, or, with none
    known, not at all. Any other file (a copy, a wrong name) changes nothing in service. Each
    only when it is news against ``before``; a destination whose file is accepted again is
    said once too.
    """
    for dest_id, broken in catalog.broken.items():
        running = dest_id in catalog.destinations
        earlier = before.broken.get(dest_id)
        if (
            earlier is not None
            and _said(earlier) == _said(broken)
            and (dest_id in before.destinations) == running
        ):
            continue
        event = (
            "destination file refused; running on the last good definition"
            if running
            else "destination file refused; the destination has no good definition to run on"
        )
        for problem in broken.problems:
            log.error(event, destination=dest_id, revision=broken.revision, problem=str(problem))
    for dest_id in before.broken.keys() - catalog.broken.keys():
        if dest_id in catalog.destinations:
            log.info("destination file accepted again", destination=dest_id)
    logged = {str(error) for error in before.stray_errors}
    for error in catalog.stray_errors:
        if error.code not in DIRECTORY_CODES and str(error) not in logged:
            log.error("destination file refused; it changes nothing in service", problem=str(error))


def _said(broken: Broken) -> tuple[str, ...]:
    """A refusal as its problems read, to tell a new refusal from the one already logged."""
    return tuple(str(problem) for problem in broken.problems)


async def _on_stop(step: Awaitable[None], what: str) -> None:
    """Run a step of the stop for at most ``STORE_STEP_ON_STOP_S``; past that, go on without
    it (cancelled, not awaited: a store that never answers would not let it end). Each step
    leaves nothing the next start cannot mend: a presence row left behind is a crashed
    engine's, a job left running is marked interrupted then."""
    task = asyncio.ensure_future(step)
    await asyncio.wait({task}, timeout=STORE_STEP_ON_STOP_S)
    if task.done():
        task.result()
        return
    task.cancel()
    log.warning("stopping: gave up waiting for the store", step=what, after_s=STORE_STEP_ON_STOP_S)


def _changes(before: Catalog, after: Catalog) -> dict[str, str]:
    """Which destinations changed, and how, for the "destinations applied" line: a count alone
    told an operator nothing of a pause, a resume or a removal made by someone else. Read from
    the definitions, not the runners: a paused destination has none, so its change, its
    rollback or its removal went unsaid. Ids and states only, never a definition."""
    changes: dict[str, str] = {}
    for dest_id in sorted(before.destinations.keys() | after.destinations.keys()):
        old, new = before.destinations.get(dest_id), after.destinations.get(dest_id)
        if old == new:
            continue
        if new is None:
            changes[dest_id] = "removed"
        elif old is None:
            changes[dest_id] = "added" if new.enabled else "added, paused"
        elif old.enabled != new.enabled:
            changes[dest_id] = "resumed" if new.enabled else "paused"
        else:
            changes[dest_id] = "changed"
    return changes


def _stopped_because(now: DestinationConfig | None) -> str:
    """Why a runner stops as a catalog is applied, for its log line (``DeliveryRunner.stop``),
    by the destination's definition now: gone, paused, or changed (a new runner follows)."""
    if now is None:
        return "the destination is removed"
    if not now.enabled:
        return "the destination is paused"
    return "the destination changed; its deliveries start again with the change"
