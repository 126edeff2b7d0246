"""A GP says "I sent ZD300000001 and the hospital never got it", and intake refused it.

Support used to find nothing: ``messages list --zd`` and ``events list --zd`` printed an empty
table, and ``rejected list`` had no ZD number, provider or BSN to go by. Now intake keeps what it
could read of a refused body (``integrator.rejected_keys``), ``rejected list`` is searched by it
and shows the ZD number, and an empty search by ZD number says where the referral went. The
input here is refused by ``integrator submit`` itself, through intake, as a GP's system's would be.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from integrator.store.keyed import bsn_hash
from tests.cli_in_process import make_store
from tests.conftest import load_sample
from tests.integrator.test_cli_reading import SEARCH_KEY, cli, env_for
from tests.services import free_port

BSN = "999990019"  # the sample referral's patient
HINT = "integrator rejected list --zd ZD300000001"


def _refused(tmp_path: Path) -> dict[str, str]:
    """A store in which intake refused three bodies: the sample referral with an event id that
    is no UUID and its ZD number in lower case (readable all the same), one for another
    provider and ZD number, and one that is not JSON."""
    env = {
        **env_for(f"sqlite:///{tmp_path / 'store.db'}", tmp_path),
        "INTEGRATOR_HTTP_PORT": str(free_port()),  # no engine answers: intake in the store
    }
    make_store(env["INTEGRATOR_DATABASE_URL"])
    first: dict[str, Any] = load_sample("referral")
    first.update(event_id="not-a-uuid", zd_number=" zd300000001 ")
    second: dict[str, Any] = load_sample("referral")
    second.update(event_id="also-not-a-uuid", zd_number="ZD300000002")
    second["provider"]["id"] = "lab-west"
    bodies = [json.dumps(first), json.dumps(second), "{not json"]
    for n, body in enumerate(bodies):
        path = tmp_path / f"bad{n}.json"
        path.write_text(body, encoding="utf-8")
        refused = cli(env, "submit", str(path))
        assert refused.exit_code == 2, refused.output
        assert "kept as rejected event" in " ".join(refused.output.split())
    return env


def _listed(env: dict[str, str], *terms: str) -> list[dict[str, Any]]:
    answer = cli(env, "rejected", "list", *terms, "--json")
    assert answer.exit_code == 0, answer.output
    assert BSN not in answer.stdout + answer.stderr
    rows: list[dict[str, Any]] = json.loads(answer.stdout)
    return rows


def test_rejected_input_is_found_by_zd_number_and_provider_and_shows_its_zd(
    tmp_path: Path,
) -> None:
    env = _refused(tmp_path)
    everything = _listed(env)
    assert [r["zd_number"] for r in everything] == [None, "ZD300000002", "ZD300000001"]
    assert [r["provider_id"] for r in everything] == [None, "lab-west", "ziekenhuis-noord"]

    [by_zd] = _listed(env, "--zd", "zd300000001")
    assert by_zd["zd_number"] == "ZD300000001" and by_zd["problems"]
    [by_provider] = _listed(env, "--provider", "lab-west")
    assert by_provider["zd_number"] == "ZD300000002"
    assert _listed(env, "--zd", "ZD300000001", "--provider", "lab-west") == []
    assert _listed(env, "--zd", "ZD399999999") == []

    table = cli(env, "rejected", "list", "--zd", "ZD300000001")
    assert table.exit_code == 0, table.output
    assert "ZD number" in table.stdout and "ZD300000001" in table.stdout
    assert "ZD300000002" not in table.stdout and "Rejected input (1 shown)" in table.stdout
    # Nothing was a view of patient data: no BSN searched, no body shown.
    audit = cli(env, "audit", "list", "--json")
    assert not [e for e in json.loads(audit.stdout) if e["action"] == "patient_data.view"]


def test_a_bad_zd_number_is_refused_without_repeating_it(tmp_path: Path) -> None:
    env = _refused(tmp_path)
    refused = cli(env, "rejected", "list", "--zd", "ZD12345")
    assert refused.exit_code == 2
    assert "--zd:" in refused.stderr and "ZD12345" not in refused.stderr
    bad_bsn = cli(env, "rejected", "list", "--bsn", "123456789")
    assert bad_bsn.exit_code == 2
    assert "--bsn:" in bad_bsn.stderr and "123456789" not in bad_bsn.stderr


def test_a_search_by_bsn_is_audited_with_the_hash_and_never_the_bsn(tmp_path: Path) -> None:
    env = _refused(tmp_path)
    found = _listed(env, "--bsn", "9999.90.019")
    assert sorted(r["zd_number"] for r in found) == ["ZD300000001", "ZD300000002"]
    audit = cli(env, "audit", "list", "--json")
    assert BSN not in audit.stdout
    [view] = [e for e in json.loads(audit.stdout) if e["action"] == "patient_data.view"]
    assert view["actor"].startswith("local:")
    assert view["details"]["view"] == "rejected.search"
    assert view["details"]["found"] == 2
    assert view["details"]["bsn_hash"] == bsn_hash(BSN, SEARCH_KEY.encode())


def test_a_search_by_bsn_cut_by_its_limit_records_what_it_showed(tmp_path: Path) -> None:
    """``found`` is the rows shown, as every search by BSN records it: it was the total (2)
    where one was shown."""
    env = _refused(tmp_path)
    assert len(_listed(env, "--bsn", BSN, "--limit", "1")) == 1
    audit = cli(env, "audit", "list", "--json")
    [view] = [e for e in json.loads(audit.stdout) if e["action"] == "patient_data.view"]
    assert view["details"]["view"] == "rejected.search" and view["details"]["found"] == 1


def test_an_empty_search_by_zd_number_says_intake_refused_it(tmp_path: Path) -> None:
    env = _refused(tmp_path)
    messages = cli(env, "messages", "list", "--zd", "zd300000001")
    assert messages.exit_code == 0, messages.output
    said = " ".join(messages.stderr.split())
    assert f"no messages; 1 rejected input with this ZD number: {HINT}" in said
    as_json = cli(env, "messages", "list", "--zd", "ZD300000001", "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []  # stdout stays the list
    assert HINT in " ".join(as_json.stderr.split())
    events = cli(env, "events", "list", "--zd", "ZD300000001")
    assert events.exit_code == 0, events.output
    assert f"no events; 1 rejected input with this ZD number: {HINT}" in " ".join(
        events.stderr.split()
    )
    # Nothing refused under that number, or no ZD number asked: nothing said.
    for quiet in (
        cli(env, "messages", "list", "--zd", "ZD399999999"),
        cli(env, "events", "list", "--zd", "ZD399999999"),
        cli(env, "messages", "list"),
    ):
        assert quiet.exit_code == 0, quiet.output
        assert "rejected" not in quiet.stderr
