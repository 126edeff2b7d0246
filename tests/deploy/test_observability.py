"""Metrics, their documentation, the alert rules, and readiness with a store or broker gone."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from destinations.config import dump_destination
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.http import create_app
from integrator.http.app import EngineApp
from integrator.metrics import SPECS, Metrics, metrics_table, provider_label
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.deploy.proxy import CuttableProxy
from tests.deploy.tools import require_binary
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.services import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    RABBITMQ_HOST,
    RABBITMQ_PORT,
    require_rabbitmq,
)
from tests.transport.helpers import delete_topology, eventually, unique_prefix

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "metrics.md"
RULES = ROOT / "config" / "prometheus" / "alerts.yml"
TODAY = date(2026, 11, 30)


def test_the_docs_table_is_the_rendering_of_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = "<!-- metrics table: generated from the code, do not edit -->\n"
    end = "<!-- end of metrics table -->"
    assert start in text and end in text
    assert text.split(start, 1)[1].split(end, 1)[0] == metrics_table()


def test_every_metric_served_is_declared_and_every_declared_one_is_served() -> None:
    served = {family.name for family in Metrics().registry.collect()}
    assert served == {spec.name for spec in SPECS}


async def test_a_fresh_engine_serves_every_intake_counter_at_0(tmp_path: Path) -> None:
    """After a restart the counters the alert rules read are there at 0, before any event:
    IntegratorNoIntake needs a series to sum, IntegratorIntakeRejected a 0 before the first 1."""
    engine = Engine(settings_for(tmp_path), catalog=build_catalog([], today=TODAY))
    await engine.start()
    try:
        async with api_client(engine) as client:
            text = (await client.get("/metrics")).text
    finally:
        await engine.stop()
    for outcome in ("accepted", "duplicate", "rejected"):
        assert value(text, f'integrator_events_total{{outcome="{outcome}"}}') == 0
    for rule in ("cancel_without_new", "cancel_repeated", "new_repeated", "new_after_cancel"):
        assert value(text, f'integrator_zd_warnings_total{{rule="{rule}"}}') == 0


def served_names(text: str) -> set[str]:
    """The names of the samples in a scrape's text."""
    return {re.split(r"[{ ]", line, maxsplit=1)[0] for line in text.splitlines() if line[:1] != "#"}


def documented_names() -> set[str]:
    """The sample names docs/metrics.md's table names (``Spec.exposed``)."""
    names = set()
    for spec in SPECS:
        if spec.kind == "histogram":
            names |= {f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count"}
        else:
            names.add(spec.exposed)
    return names


async def test_every_series_a_scrape_serves_is_one_the_docs_name(tmp_path: Path) -> None:
    """prometheus_client adds a ``_created`` series to every counter and histogram series,
    which Prometheus stores as a gauge of its own and docs/metrics.md did not name: left out."""
    engine = Engine(settings_for(tmp_path), catalog=build_catalog([], today=TODAY))
    await engine.start()
    try:
        engine.metrics.ack_roundtrip.labels("noord").observe(0.2)  # a histogram series too
        async with api_client(engine) as client:
            text = (await client.get("/metrics")).text
    finally:
        await engine.stop()
    served = served_names(text)
    assert "integrator_events_total" in served and "integrator_ack_roundtrip_seconds_sum" in served
    assert not {name for name in served if name.endswith("_created")}
    assert served <= documented_names()


async def test_only_a_provider_a_destination_names_is_a_label_also_after_a_restart(
    tmp_path: Path, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    """provider.id is whatever upstream sends, and a BSN or a birth date sent there has the form
    of an id: it became a label (``{provider="999990019"}``), rebuilt from the store after a
    restart too. Only ids a destination's definition names are labels: one in service, or one
    a recorded revision names (a destination removed since, whose provider's events are the
    ones left unrouted)."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    referrals_only = {"referral": "ref-v2"}
    noord = destination("noord", 1, providers=["ziekenhuis-noord"], messages=referrals_only)
    west = destination("west", 1, providers=["lab-west"])
    for config in (noord, west):
        (settings.destinations_dir / f"{config.id}.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()  # records both definitions as their first revisions
    await engine.stop()
    (settings.destinations_dir / "west.yaml").unlink()  # west removed: lab-west served by none

    sent = [
        (referral_data, "lab-west"),  # named by a recorded revision only
        (diagnostic_request_data, "ziekenhuis-noord"),  # served, but not this type
        (referral_data, "999990019"),  # a BSN: refused at intake (provider_id_holds_bsn)
        (referral_data, "1961-04-12"),  # a birth date
        (referral_data, "ziekenhuis-oost"),  # the form of an id, but no operator wrote it
    ]
    for restarted in (False, True):
        engine = Engine(settings)
        await engine.start()
        try:
            if not restarted:
                for n, (data, provider) in enumerate(sent):
                    if provider == "999990019":
                        with pytest.raises(InvalidEvent):
                            await engine.intake.submit(event(data, provider, 10 + n), source="cli")
                        continue
                    await engine.intake.submit(event(data, provider, 10 + n), source="cli")
            await engine.unrouted.refresh()
            async with api_client(engine) as client:
                text = (await client.get("/metrics")).text
        finally:
            await engine.stop()
        assert all(p not in text for p in ("999990019", "1961-04-12", "ziekenhuis-oost"))
        assert value(text, 'integrator_unrouted_events{provider="lab-west"}') == 1
        assert value(text, 'integrator_unrouted_events{provider="ziekenhuis-noord"}') == 1
        assert value(text, 'integrator_unrouted_events{provider="other"}') == 2


def test_a_provider_label_is_an_id_the_configuration_names_and_the_rest_add_up() -> None:
    metrics = Metrics()

    def shown() -> dict[str, float]:
        [family] = [f for f in metrics.registry.collect() if f.name == "integrator_unrouted_events"]
        return {s.labels["provider"]: s.value for s in family.samples}

    named = {"ziekenhuis-noord", "Lab West", "other"}  # an operator may write any text
    metrics.observe_unrouted(
        {"ziekenhuis-noord": 2, "Lab West": 1, "999990019": 1, "1961-04-12": 1, "other": 1}, named
    )
    assert shown() == {"ziekenhuis-noord": 2, "Lab West": 1, "other": 3}
    assert provider_label("lab-oost", named) == "other"
    # A provider whose events were all routed drops out; the configuration says what is named.
    metrics.observe_unrouted({"ziekenhuis-noord": 1}, set())
    assert shown() == {"other": 1}


def test_the_alert_rules_use_only_metrics_that_exist() -> None:
    used = set(re.findall(r"\b(integrator_[a-z_]+)", RULES.read_text()))
    exposed = set()
    for spec in SPECS:
        exposed.add(spec.name)
        exposed.add(f"{spec.name}_total")
    assert used <= exposed, used - exposed


def test_every_alert_says_what_to_do_in_its_description() -> None:
    """docs/metrics.md promises it; an alert with a summary only leaves the person paged to
    guess (an expired scrape token shows up as "does not answer scrapes")."""
    rules = [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]
    bare = [
        rule["alert"]
        for rule in rules
        if "alert" in rule and not rule.get("annotations", {}).get("description", "").strip()
    ]
    assert rules and bare == []


def test_the_docs_table_names_every_alert_and_no_other() -> None:
    """``IntegratorPoisonMessages`` was left out of docs/metrics.md's table, named only in
    docs/amqp.md (found by an operator audit)."""
    rules = [
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    table = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    named = {
        name
        for row in re.findall(r"^\| (`Integrator.*?) \|", table, re.M)
        for name in re.findall(r"`(Integrator\w+)`", row)
    }
    assert named == set(rules)


def test_promtool_accepts_the_rules_and_their_unit_tests_pass(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The unit tests name the rule file by its absolute path, so they run from anywhere.
    tests = tmp_path / "alerts_test.yml"
    body = (Path(__file__).parent / "alerts_test.yml").read_text()
    tests.write_text(f"rule_files: [{json.dumps(str(RULES))}]\n{body}")
    tested = subprocess.run(
        [promtool, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def value(text: str, series: str) -> float:
    """The value of one exact series in a scrape; fails when it is missing."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in the scrape")


def event(base: dict[str, Any], provider: str, n: int) -> str:
    data = copy.deepcopy(base)
    data["event_id"] = str(uuid.uuid4())
    data["zd_number"] = f"ZD{700000000 + n:09d}"
    data["provider"]["id"] = provider
    return json.dumps(data)


async def test_the_scrape_counts_attempts_round_trips_backlog_and_dead_letters(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["AR"]) as receiver:
        noord = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        west = destination("west", receiver.port, providers=["lab-west"], enabled=False)
        catalog = build_catalog([("noord.yaml", noord), ("west.yaml", west)], today=TODAY)
        engine = Engine(settings_for(tmp_path), catalog=catalog)
        await engine.start()
        try:
            await engine.intake.submit(event(referral_data, "ziekenhuis-noord", 1), source="cli")
            assert await _settled(engine, "noord")
            await engine.intake.submit(event(referral_data, "ziekenhuis-noord", 2), source="cli")
            for n in (3, 4):  # west is paused: these wait
                await engine.intake.submit(event(referral_data, "lab-west", n), source="cli")
            assert await _settled(engine, "noord")
            await engine.drain()
            async with api_client(engine) as client:
                text = (await client.get("/metrics")).text
        finally:
            await engine.stop()
    dest = 'destination="noord"'
    assert value(text, f'integrator_delivery_attempts_total{{{dest},outcome="deadletter"}}') == 1
    assert value(text, f'integrator_delivery_attempts_total{{{dest},outcome="delivered"}}') == 1
    assert value(text, f"integrator_ack_roundtrip_seconds_count{{{dest}}}") == 2
    assert value(text, f"integrator_dead_letters{{{dest}}}") == 1
    assert value(text, f"integrator_queue_depth{{{dest}}}") == 0
    assert value(text, 'integrator_queue_depth{destination="west"}') == 2
    assert value(text, 'integrator_queue_oldest_age_seconds{destination="west"}') >= 0
    assert value(text, 'integrator_dead_letters{destination="west"}') == 0
    assert value(text, 'integrator_events_total{outcome="accepted"}') == 4
    assert value(text, "integrator_store_up") == 1
    assert value(text, "integrator_transport_up") == 1


async def test_the_oldest_age_and_the_days_to_a_sunset_follow_the_clock(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Both are worked out at the scrape, so they move while the engine runs unchanged."""
    clock = ManualClock(datetime(2027, 6, 20, 21, 0, tzinfo=UTC))  # 23:00 in Amsterdam
    paused = destination(
        "noord",
        2575,
        providers=["ziekenhuis-noord"],
        messages={"referral": "ref-v1"},
        enabled=False,
    )
    catalog = build_catalog([("noord.yaml", paused)], today=clock.now().date())
    engine = Engine(settings_for(tmp_path), clock=clock, catalog=catalog)
    await engine.start()
    try:
        await engine.intake.submit(event(referral_data, "ziekenhuis-noord", 5), source="cli")
        days = (
            'integrator_destination_deprecated_version_days_left{destination="noord",'
            'event_type="referral",successor="ref-v2",sunset="2027-07-01",version="ref-v1"}'
        )
        oldest = 'integrator_queue_oldest_age_seconds{destination="noord"}'
        async with api_client(engine) as client:
            first = (await client.get("/metrics")).text
            clock.advance(timedelta(hours=2))  # past midnight, local time
            later = (await client.get("/metrics")).text
    finally:
        await engine.stop()
    assert value(first, days) == 11 and value(later, days) == 10
    assert value(first, oldest) == 0 and value(later, oldest) == 7200


async def _settled(engine: Engine, destination_id: str) -> bool:
    async def done() -> bool:
        counts = await engine.store.count_by_status(destination_id)
        return not any(counts[s] for s in ("queued", "sending", "retrying"))

    return await eventually(done, timeout=20)


@pytest.fixture
async def proxied_engine(
    tmp_path: Path, pg_database: str
) -> AsyncIterator[tuple[Engine, CuttableProxy, CuttableProxy]]:
    """An engine on PostgreSQL and RabbitMQ, each reached through a proxy the test can cut."""
    require_rabbitmq()
    store_proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
    broker_proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    pg_port, amqp_port = await store_proxy.start(), await broker_proxy.start()
    prefix = unique_prefix()
    settings = settings_for(
        tmp_path,
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/{pg_database}",
        amqp_url=f"amqp://guest:guest@127.0.0.1:{amqp_port}/",
        amqp_prefix=prefix,
        search_key="a-test-search-key-of-enough-length",
    )
    engine = Engine(settings, catalog=build_catalog([], today=TODAY))
    await engine.start()
    try:
        yield engine, store_proxy, broker_proxy
    finally:
        await store_proxy.restore_if_cut()
        await broker_proxy.restore_if_cut()
        await engine.stop()
        await store_proxy.close()
        await broker_proxy.close()
        await delete_topology(require_rabbitmq(), prefix, [])


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_readyz_names_the_store_or_the_broker_that_is_gone_and_recovers(
    proxied_engine: tuple[Engine, CuttableProxy, CuttableProxy],
) -> None:
    engine, store_proxy, broker_proxy = proxied_engine
    async with api_client(engine) as client:

        async def ready(expected: int, checks: dict[str, str]) -> bool:
            answer = await client.get("/readyz")
            return answer.status_code == expected and answer.json()["checks"] == checks

        ok = {"store": "ok", "transport": "ok"}
        assert await ready(200, ok)
        await store_proxy.cut()
        assert await eventually(
            lambda: ready(503, {"store": "unavailable", "transport": "ok"}), timeout=20
        )
        # A scrape with a token never checked before the outage cannot be let in: 503, so
        # Prometheus records the engine down (tests/http/test_metrics_while_store_down.py has
        # the token checked before it).
        assert (await client.get("/metrics")).status_code == 503
        await store_proxy.restore()
        assert await eventually(lambda: ready(200, ok), timeout=30)

        # The broker away is named but does not make it not ready: HTTP intake still takes
        # events (stored, published once it is back); integrator_transport_up says it.
        await broker_proxy.cut()
        assert await eventually(
            lambda: ready(200, {"store": "ok", "transport": "disconnected"}), timeout=20
        )
        await broker_proxy.restore()
        assert await eventually(lambda: ready(200, ok), timeout=30)
    # A probe has no token: asked without one.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(engine)), base_url="http://api"
    ) as anonymous:
        answer = await anonymous.get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"status": "ready", "checks": ok}


def _app(engine: Engine) -> EngineApp:
    return create_app(engine)
