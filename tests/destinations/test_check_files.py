"""``integrator destinations check FILE…`` reads each file as the engine reads one in the
destinations directory, and changes nothing: an operator checks files in their own CI, or
before a deploy, with no engine and no store. There was no way to do it but to apply them.

Each file gets its verdict and every mistake (file, key, rule: as ``destinations list`` and
``show`` word them), ``--json`` too; exit 0 when every file is accepted, 2 when any is refused.
What needs the store is said to be skipped, and why."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli_in_process import run_cli as cli
from tests.destinations.certificate_files import tls_files

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"
NO_STORE = "postgresql://integrator@127.0.0.1:1/nowhere"  # nothing listens on port 1


@pytest.fixture
def ci(tmp_path: Path) -> dict[str, str]:
    """An operator's CI: a destinations directory, no store (its URL leads nowhere, and no
    search key is set for it), no engine."""
    directory = tmp_path / "destinations"
    directory.mkdir()
    values = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRATOR_")}
    values.update(
        {"INTEGRATOR_DATABASE_URL": NO_STORE, "INTEGRATOR_DESTINATIONS_DIR": str(directory)}
    )
    return values


def _directory(env: dict[str, str]) -> Path:
    return Path(env["INTEGRATOR_DESTINATIONS_DIR"])


def _example(name: str, to: Path, **edits: str) -> Path:
    """The example file ``name`` written to ``to`` with each ``good: bad`` edit made."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for good, bad in edits.items():
        assert good in text, good
        text = text.replace(good, bad, 1)
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text(text, encoding="utf-8")
    return to


def _with_key_and_version_mistakes(to: Path) -> Path:
    return _example("lab-west.yaml", to, **{"port: 2576": "prot: 2576", "orm-v3 ": "orm-v9 "})


def _checked(env: dict[str, str], *files: Path) -> tuple[int, dict[str, Any]]:
    done = cli("destinations", "check", *map(str, files), "--json", env=env)
    return done.returncode, json.loads(done.stdout)


def _by_file(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["file"]).name: f for f in answer["files"]}


def test_each_file_gets_its_verdict_with_every_mistake(ci: dict[str, str], tmp_path: Path) -> None:
    good = _example("ziekenhuis-noord.yaml", tmp_path / "repo" / "ziekenhuis-noord.yaml")
    bad = _with_key_and_version_mistakes(tmp_path / "repo" / "lab-west.yaml")

    code, answer = _checked(ci, good, bad)
    assert code == 2
    files = _by_file(answer)
    assert (files["ziekenhuis-noord.yaml"]["verdict"], files["ziekenhuis-noord.yaml"]["new"]) == (
        "accepted",
        True,
    )
    refused = files["lab-west.yaml"]
    assert (refused["verdict"], refused["id"]) == ("refused", "lab-west")
    assert [(p["file"], p["key"], p["code"]) for p in refused["problems"]] == [
        (str(bad), "prot", "extra_forbidden"),
        (str(bad), "port", "missing"),
        (str(bad), "messages.diagnostic_request", "version_unknown"),
    ]

    said = cli("destinations", "check", str(good), str(bad), env=ci)
    assert said.returncode == 2
    lines = said.stdout.splitlines()
    assert f"✓ {good}: accepted: destination ziekenhuis-noord, a new destination" in lines
    assert f"✗ {bad}: refused, 3 mistakes" in lines
    assert f"  refused: {bad}: prot: unknown key (did you mean port?)" in lines
    assert "2 files checked: 1 accepted, 1 refused" in lines


def test_good_files_exit_0_and_a_deprecated_version_is_a_warning(
    ci: dict[str, str], tmp_path: Path
) -> None:
    file = _example("lab-west.yaml", tmp_path / "lab-west.yaml", **{"orm-v3 ": "orm-lfdv2 "})
    code, answer = _checked(ci, file)
    assert code == 0
    (verdict,) = answer["files"]
    assert (verdict["verdict"], verdict["problems"]) == ("accepted", [])
    assert verdict["warnings"] == [
        "destination 'lab-west': messages.diagnostic_request uses deprecated message version "
        "'orm-lfdv2'; sunset 2027-03-31, move to 'orm-v3'"
    ]


def test_it_tells_what_the_engine_tells_of_the_same_file(env: dict[str, str]) -> None:
    """Checked, or read by the engine from the directory (``destinations list``): the same
    mistakes, file, key, code and rule alike."""
    file = _with_key_and_version_mistakes(_directory(env) / "lab-west.yaml")
    code, answer = _checked(env, file)
    assert code == 2
    listed = cli("destinations", "list", "--json", env=env)
    (row,) = json.loads(listed.stdout)
    assert answer["files"][0]["problems"] == row["problems"]


def test_it_changes_nothing_and_opens_no_store(ci: dict[str, str], tmp_path: Path) -> None:
    directory = _directory(ci)
    there = _example("lab-west.yaml", directory / "lab-west.yaml")
    before = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    sqlite = tmp_path / "store.db"
    env = {**ci, "INTEGRATOR_DATABASE_URL": f"sqlite:///{sqlite}"}
    changed = _example("lab-west.yaml", tmp_path / "repo" / "lab-west.yaml", **{"2576": "2577"})

    for settings in (ci, env):  # a store that cannot be reached, one that is not there
        code, answer = _checked(settings, changed)
        assert code == 0, answer
        assert answer["files"][0]["replaces"] == str(there)
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir()} == before
    assert list(tmp_path.glob("store.db*")) == []  # nor its search key file
    assert "port: 2576" in there.read_text(encoding="utf-8")


def test_one_id_has_one_file_among_the_files_and_in_the_directory(
    ci: dict[str, str], tmp_path: Path
) -> None:
    directory = _directory(ci)
    there = _example("lab-west.yaml", directory / "lab-west.yaml")
    copy = _example("lab-west.yaml", tmp_path / "repo" / "lab-west-copy.yaml")
    first = _example("ziekenhuis-noord.yaml", tmp_path / "a" / "ziekenhuis-noord.yaml")
    again = _example("ziekenhuis-noord.yaml", tmp_path / "b" / "ziekenhuis-noord.yaml")

    code, answer = _checked(ci, copy, first, again)
    assert code == 2
    copied, one, other = answer["files"]
    assert [(p["key"], p["code"]) for p in copied["problems"]] == [("id", "file_of_another")]
    assert str(there) in copied["problems"][0]["rule"]
    assert one["verdict"] == "accepted"
    assert [(p["key"], p["code"]) for p in other["problems"]] == [("id", "id_twice")]
    assert str(first) in other["problems"][0]["rule"]

    misnamed = _example("ziekenhuis-noord.yaml", tmp_path / "noord.yml")
    code, answer = _checked(ci, misnamed)
    assert code == 2
    assert [p["code"] for p in answer["files"][0]["problems"]] == ["file_misnamed"]
    # Refused as a file copied into the directory by hand; but `add` takes it, and says so.
    own = _directory(ci) / "ziekenhuis-noord.yaml"
    assert answer["files"][0]["warnings"] == [
        f"integrator destinations add {misnamed} takes it under any name: it writes the "
        f"destination's own file, {own}"
    ]


def test_a_provider_served_elsewhere_is_warned_of(ci: dict[str, str], tmp_path: Path) -> None:
    _example("lab-west.yaml", _directory(ci) / "lab-west.yaml")
    east = _example("lab-west.yaml", tmp_path / "lab-east.yaml", **{"id: lab-west": "id: lab-east"})
    code, answer = _checked(ci, east)
    assert code == 0
    assert answer["files"][0]["warnings"] == [
        "destination 'lab-east': provider 'lab-west' is also served by 'lab-west'; each of its "
        "events goes to all of them (if this destination is a copy, change its providers)"
    ]


def test_tls_files_must_be_there_and_load(ci: dict[str, str], tmp_path: Path) -> None:
    tls = tls_files(tmp_path / "tls")
    good = tmp_path / "good" / "lab-west.yaml"
    block = "".join(f"\n  {key}: {value}" for key, value in tls.items())
    _example("lab-west.yaml", good, **{"ordering: rotate": f"ordering: rotate\ntls:{block}"})
    assert _checked(ci, good)[0] == 0

    Path(tls["cert_file"]).write_text("no certificate\n", encoding="utf-8")
    os.remove(tls["ca_file"])
    code, answer = _checked(ci, good)
    assert code == 2
    problems = {p["key"]: p["rule"] for p in answer["files"][0]["problems"]}
    assert list(problems) == ["tls.ca_file", "tls.cert_file", "tls.key_file"], problems


def test_what_needs_the_store_is_said_to_be_skipped(ci: dict[str, str], tmp_path: Path) -> None:
    retired = _example("lab-west.yaml", tmp_path / "lab-west.yaml", **{"orm-v3 ": "orm-lfdv1 "})
    code, answer = _checked(ci, retired)
    assert code == 2
    assert [p["code"] for p in answer["files"][0]["problems"]] == ["version_retired"]
    skipped = {s["check"]: s["why"] for s in answer["skipped"]}
    assert set(skipped) == {"removed_destination", "retired_in_service"}
    assert all("store" in why for why in skipped.values())

    shutil.rmtree(_directory(ci))
    code, answer = _checked(ci, _example("lab-west.yaml", tmp_path / "ok" / "lab-west.yaml"))
    assert code == 0
    skipped = {s["check"]: s["why"] for s in answer["skipped"]}
    assert set(skipped) == {"removed_destination", "cluster_held", "destinations_directory"}
    assert skipped["destinations_directory"].endswith(
        f"{_directory(ci)} (INTEGRATOR_DESTINATIONS_DIR) does not exist"
    )
    said = cli("destinations", "check", str(retired), env=ci)
    assert "not checked: retired_in_service: a retired version is refused here" in " ".join(
        said.stdout.split()
    )


def test_a_file_that_is_not_there_or_no_yaml_is_refused_for_that(
    ci: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "lab.yaml"
    broken.write_text('id: lab\nname: "Lab\n', encoding="utf-8")
    code, answer = _checked(ci, tmp_path / "gone.yaml", broken)
    assert code == 2
    gone, no_yaml = answer["files"]
    assert [(p["key"], p["code"]) for p in gone["problems"]] == [("(file)", "unreadable")]
    assert [p["key"] for p in no_yaml["problems"]] == ["line 3"]
    assert no_yaml["problems"][0]["rule"].startswith("YAML syntax error")
