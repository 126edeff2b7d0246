"""``/api/v1/audit``: filters, offset, CSV for reports, and the search by BSN in a body, which
is itself audited and never echoes the BSN."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.audit import check_audit_destination
from integrator.engine import Engine
from integrator.presenters import iso_time
from integrator.search import BadSearch
from integrator.store import AuditFilter
from tests.http.support import api_client, token_for
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

BSN = "999999990"


RESENT = "5e2d0c9a-1b7f-4c3e-9a8d-6f4b2e1c0a9d"
"""The message id the resend made (a UUID, as every message id the engine writes)."""


async def _fill(engine: Engine) -> dict[str, int]:
    patient = engine.settings.bsn_hash(BSN)
    store = engine.store
    # The resend below went to "zuid", a destination removed since: its message is still
    # stored, so the trail stays searchable by it (a destination nothing names is refused).
    await store.accept_event(make_event(), [make_message(id=RESENT, destination_id="zuid")])
    return {
        "update": await store.add_audit(
            "person:anna@example.nl", "destination.update", "noord", reason="new port"
        ),
        "view": await store.add_audit(
            "token:bert",
            "patient_data.view",
            "messages.search",
            details={"view": "messages.search", "bsn_hash": patient},
        ),
        "resend": await store.add_audit(
            "token:bert",
            "message.resend",
            "m-1",
            details={"resend_id": RESENT, "destination": "zuid"},
        ),
    }


def _ids(answer: Any) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [entry["id"] for entry in answer.json()]


async def test_list_filters_and_pages(engine: Engine) -> None:
    async with api_client(engine) as api:  # its token is made (and audited) first
        ids = await _fill(engine)
        assert _ids(await api.get("/api/v1/audit", params={"actor": "token:bert"})) == [
            ids["resend"],
            ids["view"],
        ]
        assert _ids(await api.get("/api/v1/audit", params={"action": "destination.update"})) == [
            ids["update"]
        ]
        # An address is found however it is typed (stored lower-cased); a token name is
        # matched as written, since token names are unique as written.
        typed = {"actor": "person:Anna@Example.nl"}
        assert _ids(await api.get("/api/v1/audit", params=typed)) == [ids["update"]]
        assert _ids(await api.get("/api/v1/audit", params={"actor": "token:Bert"})) == []
        assert _ids(await api.get("/api/v1/audit", params={"target": "noord"})) == [ids["update"]]
        # A message id whole, as every id of the API (in either case, with or without dashes).
        for typed_id in (RESENT, RESENT.upper().replace("-", "")):
            by_message = await api.get("/api/v1/audit", params={"message": typed_id})
            assert _ids(by_message) == [ids["resend"]]
        assert _ids(await api.get("/api/v1/audit", params={"destination": "zuid"})) == [
            ids["resend"]
        ]
        assert _ids(await api.get("/api/v1/audit", params={"limit": 1, "offset": 1})) == [
            ids["view"]
        ]
        assert _ids(await api.get("/api/v1/audit", params={"until": "2000-01-01"})) == []
        assert len(_ids(await api.get("/api/v1/audit", params={"since": "2000-01-01"}))) == 4
        # A bare name or address matches no entry: refused with the forms that do, not empty.
        for bare in ("bert", "anna@example.nl", "nobody:anna"):
            refused = await api.get("/api/v1/audit", params={"actor": bare})
            assert refused.status_code == 422, refused.text
            assert "actor: give person:<email>, token:<name>" in refused.json()["detail"]
        bad = await api.get("/api/v1/audit", params={"since": "last tuesday"})
        assert bad.status_code == 422 and "since" in bad.text and "tuesday" not in bad.text
        assert (await api.get("/api/v1/audit", params={"offset": -1})).status_code == 422
        # A BSN is never taken from a URL.
        in_url = await api.get("/api/v1/audit", params={"bsn": BSN})
        assert in_url.status_code == 422 and BSN not in in_url.text


async def test_search_by_bsn_in_the_body_is_audited(engine: Engine) -> None:
    auditor = await token_for(engine, Grant(Role.ADMIN), name="auditor")
    async with api_client(engine, auditor) as api:
        ids = await _fill(engine)
        found = await api.post("/api/v1/audit/search", json={"bsn": "9999.99.990"})
        assert _ids(found) == [ids["view"]]
        assert BSN not in found.text
        other = await api.post(
            "/api/v1/audit/search", json={"bsn": "111222333", "actor": "token:x"}
        )
        assert _ids(other) == []
        bad = await api.post("/api/v1/audit/search", json={"bsn": "12345678"})
        assert bad.status_code == 422 and "12345678" not in bad.text
        extra = await api.post("/api/v1/audit/search", json={"patient": BSN})
        assert extra.status_code == 422
        assert _ids(await api.post("/api/v1/audit/search", json={"action": "message.resend"})) == [
            ids["resend"]
        ]

    searches = [
        e
        for e in await engine.store.list_audit(limit=100)
        if e.actor == "token:auditor" and e.action == "patient_data.view"
    ]
    assert [(s.target, s.details["found"]) for s in searches] == [
        ("audit.search", 0),
        ("audit.search", 1),
    ]
    assert searches[0].details["bsn_hash"] == engine.settings.bsn_hash("111222333")
    assert (await engine.store.verify_audit()).intact


async def test_csv_export_is_for_reports(engine: Engine) -> None:
    reports = await token_for(engine, Grant(Role.REPORTS), name="reports")
    viewer = await token_for(engine, Grant(Role.VIEWER), name="viewer")
    ids = await _fill(engine)
    async with api_client(engine, reports) as api:
        answer = await api.get("/api/v1/audit.csv", params={"actor": "token:bert"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [int(r["id"]) for r in rows] == [ids["resend"], ids["view"]]
        assert json.loads(rows[0]["details"]) == {"resend_id": RESENT, "destination": "zuid"}
        # Times in the engine's zone, in full, as `integrator audit list --csv` gives them.
        zone = engine.settings.zone
        at = {e.id: iso_time(e.at, zone) for e in await engine.store.list_audit(limit=100)}
        assert [r["at"] for r in rows] == [at[int(r["id"])] for r in rows]
        assert all(not r["at"].endswith("+00:00") for r in rows)
        # The JSON listing needs audit.read, which reports does not hold.
        assert (await api.get("/api/v1/audit")).status_code == 403
    async with api_client(engine, viewer) as api:
        assert (await api.get("/api/v1/audit.csv")).status_code == 403
    [export] = await engine.store.list_audit(AuditFilter(action="audit.export"))
    assert export.actor == "token:reports" and export.target == "audit.csv"
    assert export.details == {
        "terms": {"actor": "token:bert"},
        "limit": 1000,
        "offset": 0,
        "rows": 2,
        "format": "csv",
        "source": "127.0.0.1",
    }


async def test_a_destination_that_names_nothing_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    """It was answered with an empty list, as if nothing had happened there; a message search
    refuses it. A destination removed since stays searchable while the trail or a stored
    message names it; one configured is answered with what the trail holds (here only the
    engine's first reading of its file), never refused."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    engine = Engine(settings)
    await engine.start()
    try:
        reports = await token_for(engine, Grant(Role.REPORTS), name="reports")
        removed = await engine.store.add_audit(
            "person:anna@example.nl", "destination.remove", "kliniek-oud"
        )
        sent = make_message(destination_id="zuid")  # its destination's file is gone
        await engine.store.accept_event(make_event(), [sent])
        async with api_client(engine) as api:
            assert _ids(await api.get("/api/v1/audit", params={"destination": "kliniek-oud"})) == [
                removed
            ]
            assert _ids(await api.get("/api/v1/audit", params={"destination": "zuid"})) == []
            configured = await api.get("/api/v1/audit", params={"destination": "lab-west"})
            assert configured.status_code == 200  # answered: only the engine read its file
            assert [(e["actor"], e["action"]) for e in configured.json()] == [
                ("file", "destination.file")
            ]
            refusals = [
                await api.get("/api/v1/audit", params={"destination": "nosuch"}),
                await api.post("/api/v1/audit/search", json={"destination": "nosuch"}),
                await api.post("/api/v1/audit/search", json={"destination": "nosuch", "bsn": BSN}),
            ]
        async with api_client(engine, reports) as api:
            refusals.append(await api.get("/api/v1/audit.csv", params={"destination": "nosuch"}))
        for refused in refusals:
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"] == (
                "destination: no destination has that id, and no audit entry or stored message "
                "names one; configured: lab-west"
            )
            assert "nosuch" not in refused.text and BSN not in refused.text
        # Refused before anything was read: no search or export recorded.
        actions = [e.action for e in await engine.store.list_audit(limit=100)]
        assert "audit.export" not in actions and "patient_data.view" not in actions
    finally:
        await engine.stop()


async def test_a_bsn_in_a_free_text_term_is_refused_without_echoing_it(engine: Engine) -> None:
    """In an address above all (``?actor=<BSN>``), but in the search's body as well: a
    patient is searched by ``bsn`` only (``audit.misplaced_terms``)."""
    await _fill(engine)
    reports = await token_for(engine, Grant(Role.REPORTS), name="reports")
    pasted = "123 456 782"
    async with api_client(engine) as api:
        refusals = [
            await api.get("/api/v1/audit", params={"target": pasted}),
            await api.post("/api/v1/audit/search", json={"actor": pasted, "bsn": BSN}),
        ]
    async with api_client(engine, reports) as api:
        refusals.append(await api.get("/api/v1/audit.csv", params={"action": pasted}))
    fields = ["target", "actor", "action"]
    for refused, field in zip(refusals, fields, strict=True):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == f"{field}: this looks like a BSN: search by BSN instead"
        assert pasted not in refused.text and BSN not in refused.text
    actions = [e.action for e in await engine.store.list_audit(limit=100)]
    assert "audit.export" not in actions and actions.count("patient_data.view") == 1  # _fill's


async def test_an_id_whose_hex_holds_a_bsn_is_searched_as_the_id_it_is(engine: Engine) -> None:
    """About one id in a hundred holds nine decimal digits that pass the eleven-test (a CI run
    met one): typed whole, in any case, with or without its dashes, it is an id, not a BSN
    pasted in the wrong field. The BSN alone is still refused."""
    await _fill(engine)
    id_with_bsn = "0f1e2d3c-4b5a-4c6d-8e7f-a999990019bc"  # 999990019 passes the eleven-test
    async with api_client(engine) as api:
        for typed in (id_with_bsn, id_with_bsn.upper(), id_with_bsn.replace("-", "").upper()):
            for term in ("message", "target"):
                found = await api.get("/api/v1/audit", params={term: typed})
                assert found.status_code == 200, (term, typed, found.text)
        refused = await api.get("/api/v1/audit", params={"target": "999990019"})
        assert refused.status_code == 422 and "999990019" not in refused.text


async def test_the_check_keeps_to_the_callers_destinations(engine: Engine) -> None:
    """Narrowed to some clusters' destinations, one outside them (or removed, in no cluster)
    is refused as one that does not exist, and the store is not asked about it."""
    await engine.store.add_audit("person:anna@example.nl", "destination.remove", "kliniek-oud")
    configured = ["noord", "zuid"]
    visible = frozenset({"noord"})

    async def check(name: str, seen: frozenset[str] | None) -> None:
        flt = AuditFilter(destination=name)
        await check_audit_destination(engine.store, engine.settings, flt, configured, seen)

    await check("noord", visible)
    await check("kliniek-oud", None)
    for hidden in ("zuid", "kliniek-oud"):
        with pytest.raises(BadSearch, match=r"configured: noord$") as refused:
            await check(hidden, visible)
        assert refused.value.field == "destination" and hidden not in str(refused.value)


async def test_each_entry_says_where_it_came_from(engine: Engine) -> None:
    """``origin``, as the console's audit page shows it (``audit.audit_origin``), in the JSON
    listing, the search and the CSV; every other field as it was."""
    auditor = await token_for(engine, Grant(Role.ADMIN), name="auditor")
    reports = await token_for(engine, Grant(Role.REPORTS), name="reports")
    store = engine.store
    ids = {
        "command_line": await store.add_audit("local:tester", "destination.pause", "noord"),
        "token": await store.add_audit("token:bert", "message.resend", "m-1"),
        "engine": await store.add_audit("engine:retention", "data.prune", "store"),
        "unknown": await store.add_audit("person:anna@example.nl", "destination.update", "n"),
    }
    async with api_client(engine, auditor) as api:
        # A real request through the app: its client's address is recorded with the search.
        searched = await api.post("/api/v1/audit/search", json={"bsn": BSN})
        assert searched.status_code == 200, searched.text
        listed = await api.get("/api/v1/audit", params={"limit": 1000})
        assert listed.status_code == 200, listed.text
        found = await api.post("/api/v1/audit/search", json={"actor": "token:auditor"})
        assert found.status_code == 200, found.text
    by_id = {entry["id"]: entry for entry in listed.json()}
    assert by_id[ids["command_line"]]["origin"] == {"kind": "command_line", "name": None}
    assert by_id[ids["token"]]["origin"] == {"kind": "token", "name": "bert"}
    assert by_id[ids["engine"]]["origin"] == {"kind": "engine", "name": None}
    assert by_id[ids["unknown"]]["origin"] == {"kind": "unknown", "name": None}
    [view] = [e for e in listed.json() if e["actor"] == "token:auditor"]
    assert view["action"] == "patient_data.view"
    assert view["origin"] == {"kind": "address", "name": "127.0.0.1"}
    # The fields clients read before are all there, unchanged.
    assert view["details"]["source"] == "127.0.0.1" and BSN not in listed.text
    assert list(view) == [
        "id",
        "at",
        "actor",
        "action",
        "target",
        "reason",
        "details",
        "hash",
        "origin",
        "prev_hash",
    ]
    assert found.json() == [view]  # the search answers the same entries the same way
    async with api_client(engine, reports) as api:
        answer = await api.get("/api/v1/audit.csv", params={"actor": "token:bert"})
    assert answer.status_code == 200, answer.text
    header, *_ = answer.text.splitlines()
    assert header == ("id,at,actor,action,target,reason,details,hash,origin,origin_name,prev_hash")
    [row] = list(csv.DictReader(io.StringIO(answer.text)))
    assert (row["origin"], row["origin_name"]) == ("token", "bert")
