"""``integrator destinations …`` as an operator runs it: broken files, comments, no-op changes.

The command run in-process on a copy of the commented example files; no engine runs, so what
of a broken file comes from the store's revisions, as it would with the engine in another
process.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.cli_in_process import run_cli as cli
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "config" / "destinations"
SAMPLES = ROOT / "config" / "samples"


def comment_lines(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def test_a_broken_file_is_listed_shown_and_changed_on_its_last_good_definition(
    env: dict[str, str],
) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    original = path.read_text()
    port = free_port()
    first = cli("destinations", "update", "ziekenhuis-noord", "--set", f"port={port}", env=env)
    assert first.returncode == 0, first.stderr
    assert comment_lines(path.read_text()) == comment_lines(original)

    same = cli("destinations", "update", "ziekenhuis-noord", "--set", f"port={port}", env=env)
    assert same.returncode == 0, same.stderr
    assert "no change" in same.stdout

    good = path.read_text()
    path.write_text(good.replace("ordering: fifo ", "ordering: lifo "))
    (directory / "ziekenhuis-noord-old.yaml").write_text(original)
    listed = cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    row = rows["ziekenhuis-noord"]
    assert (row["state"], row["address"]) == ("broken", f"127.0.0.1:{port}")
    assert (row["problem"]["file"], row["problem"]["key"]) == (str(path), "ordering")
    assert rows["ziekenhuis-noord-old"]["state"] == "broken"  # the copy, refused: no definition
    assert rows["ziekenhuis-noord-old"]["address"] is None

    table = cli("destinations", "list", env=env)
    assert table.returncode == 0, table.stderr
    assert "broken ziekenhuis-noord:" in table.stdout and "ordering" in table.stdout

    shown = cli("destinations", "show", "ziekenhuis-noord", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "refused:" in shown.stdout and f"port: {port}" in shown.stdout

    paused = cli("destinations", "pause", "ziekenhuis-noord", "--json", env=env)
    assert paused.returncode == 0, paused.stderr
    assert json.loads(paused.stdout)["revision"] == 2
    assert path.read_text() == good.replace(
        "enabled: true                   #", "enabled: false                  #"
    )
    history = cli("destinations", "history", "ziekenhuis-noord", "--json", env=env)
    assert [h["action"] for h in json.loads(history.stdout)] == ["update", "pause"]


def test_remove_with_waiting_messages_names_the_cli_option(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(EXAMPLES / "ziekenhuis-noord.yaml", directory / "ziekenhuis-noord.yaml")
    submitted = cli("submit", str(SAMPLES / "referral.json"), env=env)
    assert submitted.returncode == 0, submitted.stderr
    refused = cli("destinations", "remove", "ziekenhuis-noord", env=env)
    assert refused.returncode == 1  # the state refuses it, not the input (the API's 409)
    assert "remove with --force" in refused.stderr and "?force" not in refused.stderr
    assert (directory / "ziekenhuis-noord.yaml").exists()
    # Forced: how many became dead letters is said, in text and in --json, not only audited.
    forced = cli("destinations", "remove", "ziekenhuis-noord", "--force", "--json", env=env)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["dead_lettered"] == 1
    assert "1 waiting message of ziekenhuis-noord is a dead letter now" in forced.stderr


def test_list_says_the_messages_waiting_for_a_destination_whose_file_was_deleted(
    env: dict[str, str],
) -> None:
    """The file deleted by hand, ``list`` showed the others on stdout and nothing else, exit 0;
    the messages waiting for it went unsaid (found exploring operator flows)."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    shutil.copy(EXAMPLES / "lab-west.yaml", directory / "lab-west.yaml")
    submitted = cli("submit", str(SAMPLES / "referral.json"), env=env)
    assert submitted.returncode == 0, submitted.stderr
    path.unlink()  # by hand
    for listing in (
        cli("destinations", "list", env=env),
        cli("destinations", "list", "--json", env=env),
    ):
        assert listing.returncode == 0, listing.stderr
        said = " ".join(listing.stderr.split())
        assert "1 message waits for ziekenhuis-noord, which no file defines any more" in said
        assert "integrator destinations rollback ziekenhuis-noord REVISION" in said
    assert [r["id"] for r in json.loads(listing.stdout)] == ["lab-west"]


def test_submit_without_an_engine_routes_to_a_broken_destination_on_its_last_good_definition(
    env: dict[str, str],
) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    recorded = cli("destinations", "update", "ziekenhuis-noord", "--set", "port=2599", env=env)
    assert recorded.returncode == 0, recorded.stderr
    path.write_text(path.read_text() + "ack_timout: 5s\n")  # a typo: the file is refused
    submitted = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
    assert submitted.returncode == 0, submitted.stderr
    [outcome] = json.loads(submitted.stdout)
    assert [m["destination"] for m in outcome["messages"]] == ["ziekenhuis-noord"]


def test_an_unknown_id_is_refused_listing_the_configured_ones(env: dict[str, str]) -> None:
    """A typo in the id: every subcommand that takes one lists the ids there are, as a
    refused ``--destination`` does (one place: ``operators.UnknownDestination``)."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(EXAMPLES / "ziekenhuis-noord.yaml", directory / "ziekenhuis-noord.yaml")
    for args in (  # a change first: it creates the store the read-only ones then find
        ("pause",),
        ("show",),
        ("resume",),
        ("update", "--set", "port=2575"),
        ("remove",),
        ("history",),
        ("test",),
        ("rollback", "1"),
    ):
        refused = cli("destinations", args[0], "ziekenhuis-nord", *args[1:], env=env)
        assert refused.returncode == 2, (args, refused.stderr)
        assert (
            "no destination with id 'ziekenhuis-nord'; configured: ziekenhuis-noord"
            in refused.stderr
        ), (args, refused.stderr)


def test_rollback_to_a_revision_there_is_not_names_the_ones_there_are(
    env: dict[str, str],
) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(EXAMPLES / "ziekenhuis-noord.yaml", directory / "ziekenhuis-noord.yaml")
    for action in ("pause", "resume"):
        done = cli("destinations", action, "ziekenhuis-noord", env=env)
        assert done.returncode == 0, done.stderr
    refused = cli("destinations", "rollback", "ziekenhuis-noord", "7", env=env)
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    said = " ".join(refused.stderr.split())
    assert "destination 'ziekenhuis-noord' has no revision 7; its revisions: 1-2" in said, said


def test_add_names_the_file_refused_and_suggests_the_key_meant(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A typo in a new destination's file: the refusal names that file (it said "(new
    destination)") and the key that was probably meant; nothing is added."""
    text = (
        (EXAMPLES / "ziekenhuis-noord.yaml")
        .read_text()
        .replace("receiving_facility:", "receving_facility:")
    )
    new = tmp_path / "kliniek-zuid.yaml"
    new.write_text(text.replace("id: ziekenhuis-noord", "id: kliniek-zuid"))
    refused = cli("destinations", "add", str(new), env=env)
    assert refused.returncode == 2, refused.stderr
    said = " ".join(refused.stderr.split())
    assert f"{new}: receving_facility: unknown key (did you mean receiving_facility?)" in said
    assert "(new destination)" not in said
    assert not list(Path(env["INTEGRATOR_DESTINATIONS_DIR"]).glob("*.yaml"))


def _recorded_example(env: dict[str, str]) -> tuple[Path, int]:
    """The example ``ziekenhuis-noord`` in the directory, its first revision recorded with a
    free port; its file and that port."""
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    port = free_port()
    first = cli("destinations", "update", path.stem, "--set", f"port={port}", env=env)
    assert first.returncode == 0 and "revision 1" in first.stdout, first.stdout + first.stderr
    return path, port


def test_update_with_expect_revision_changes_nothing_when_the_destination_moved_on(
    env: dict[str, str],
) -> None:
    path, _ = _recorded_example(env)
    paused = cli("destinations", "pause", "ziekenhuis-noord", "--reason", "LIS down", env=env)
    assert "revision 2" in paused.stdout, paused.stdout + paused.stderr
    before = path.read_text()
    stale = cli(
        "destinations",
        "update",
        "ziekenhuis-noord",
        "--set",
        "name=Noord",
        "--expect-revision",
        "1",
        env=env,
    )
    assert stale.returncode == 1, stale.stdout + stale.stderr
    said = " ".join(stale.stderr.split())
    assert "changed since revision 1: revision 2 is pause by local:" in said, said
    assert "'LIS down'" in said and "try again with revision 2" in said
    assert path.read_text() == before
    current = cli(
        "destinations",
        "update",
        "ziekenhuis-noord",
        "--set",
        "name=Noord",
        "--expect-revision",
        "2",
        "--json",
        env=env,
    )
    assert current.returncode == 0, current.stderr
    assert json.loads(current.stdout)["revision"] == 3
    assert "enabled: false" in path.read_text()


def test_moving_into_a_cluster_nobody_holds_is_done_with_a_warning(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    moved = cli(
        "destinations", "update", "ziekenhuis-noord", "--set", "cluster=CRAD", "--json", env=env
    )
    assert moved.returncode == 0, moved.stderr
    [warning] = [w for w in json.loads(moved.stdout)["warnings"] if "CRAD" in w]
    assert warning.startswith("no one holds cluster CRAD: the people of ")


def test_ack_types_are_set_shown_and_refused_through_the_cli(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    dest = "ziekenhuis-noord"

    wrong = cli("destinations", "update", dest, "--set", "accept_ack_type=AL", env=env)
    assert wrong.returncode == 2
    assert "accept_ack_type: applies only with ack_mode: enhanced" in wrong.stderr

    enhanced = cli("destinations", "update", dest, "--set", "ack_mode=enhanced", env=env)
    assert enhanced.returncode == 0, enhanced.stderr
    shown = cli("destinations", "show", dest, env=env)
    assert "# MSH-15/16 sent: AL/NE (accept_ack_type and application_ack_type not set" in (
        shown.stdout
    )

    bad = cli("destinations", "update", dest, "--set", "application_ack_type=YES", env=env)
    assert bad.returncode == 2
    assert "application_ack_type: must be AL, NE, ER or SU (HL7 table 0155" in bad.stderr

    changed = cli("destinations", "update", dest, "--set", "application_ack_type=AL", env=env)
    assert changed.returncode == 0, changed.stderr
    assert "application_ack_type: AL" in path.read_text()
    shown = cli("destinations", "show", dest, env=env)
    assert "\napplication_ack_type: AL\n" in shown.stdout
    assert "# MSH-15/16 sent: AL/AL (accept_ack_type not set: the default)" in shown.stdout
    as_json = cli("destinations", "show", dest, "--json", env=env)
    assert json.loads(as_json.stdout)["definition"]["application_ack_type"] == "AL"


def test_a_directory_in_place_of_a_file_is_listed_and_shown_as_refused(
    env: dict[str, str],
) -> None:
    path, port = _recorded_example(env)

    path.unlink()
    path.mkdir()  # a botched deploy: no file, but something of its name
    listed = cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["state"], row["address"]) == (
        "ziekenhuis-noord",
        "broken",
        f"127.0.0.1:{port}",
    )
    assert row["problem"] == {
        "file": str(path),
        "key": "(file)",
        "code": "not_a_file",
        "rule": "is a directory, not a file",
    }
    table = cli("destinations", "list", env=env)
    # Read as words: the table wraps the file's path, whose length is the test directory's.
    words = " ".join(table.stdout.split())
    assert "broken ziekenhuis-noord:" in words and "is a directory" in words
    shown = cli("destinations", "show", "ziekenhuis-noord", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "refused:" in shown.stdout and f"port: {port}" in shown.stdout

    # A change rewrites the destination's file, which a directory cannot become: refused,
    # naming it, with nothing recorded (not an error from deep in the write).
    paused = cli("destinations", "pause", "ziekenhuis-noord", "--reason", "night", env=env)
    assert paused.returncode != 0
    assert "ziekenhuis-noord.yaml is a directory, not a file; nothing was changed" in (
        paused.stderr
    )
    assert "Traceback" not in paused.stderr + paused.stdout
    history = cli("destinations", "history", "ziekenhuis-noord", "--json", env=env)
    assert [h["action"] for h in json.loads(history.stdout)] == ["update"]
    assert path.is_dir()


def test_list_json_names_the_stray_files_when_asked(env: dict[str, str]) -> None:
    """``lab-west.yml`` and ``Lab West.yaml`` are no destination's own files, so in no row:
    ``--with-stray-files`` puts them in the JSON, as the API's ``?stray_files=true``; plain
    ``--json`` stays the list scripts read. stderr names them either way."""
    noord, _ = _recorded_example(env)  # in the store too, which a listing only reads
    directory = noord.parent
    text = noord.read_text()
    (directory / "lab-west.yml").write_text(text.replace("ziekenhuis-noord", "lab-west"))
    (directory / "Lab West.yaml").write_text("id: [")

    plain = cli("destinations", "list", "--json", env=env)
    assert plain.returncode == 0, plain.stderr
    rows = json.loads(plain.stdout)
    assert [row["id"] for row in rows] == ["ziekenhuis-noord"]
    assert "lab-west.yml" in plain.stderr and "Lab West.yaml" in plain.stderr

    both = cli("destinations", "list", "--json", "--with-stray-files", env=env)
    assert both.returncode == 0, both.stderr
    body = json.loads(both.stdout)
    assert body["destinations"] == rows
    assert [(s["file"], s["claims"]) for s in body["stray_files"]] == [
        (str(directory / "Lab West.yaml"), None),
        (str(directory / "lab-west.yml"), None),
    ]
    [syntax] = body["stray_files"][0]["problems"]
    assert syntax["code"] == "yaml_syntax"
    [misnamed] = body["stray_files"][1]["problems"]
    assert (misnamed["key"], misnamed["code"]) == ("id", "file_misnamed")
    assert misnamed["rule"].endswith(f"(rename it to {directory / 'lab-west.yaml'})")  # the CLI
    assert "lab-west.yml" in both.stderr and "Lab West.yaml" in both.stderr

    table = cli("destinations", "list", "--with-stray-files", env=env)
    assert table.returncode == 2
    assert "--with-stray-files: only together with --json" in table.stderr


def test_a_misspelt_key_is_the_problem_the_list_names_with_how_many_more(
    env: dict[str, str],
) -> None:
    """``prot: 2578`` for ``port``: the file lacks ``port`` (required) because of the unknown
    key; the list's one line names the unknown key and what was meant, and says that
    ``destinations show`` has the other problem."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    path.write_text((EXAMPLES / path.name).read_text().replace("\nport: ", "\nprot: "))
    table = cli("destinations", "list", env=env)
    listed = cli("destinations", "list", "--json", env=env)
    shown = cli("destinations", "show", "ziekenhuis-noord", env=env)
    assert table.returncode == 0, table.stderr
    said = " ".join(table.stdout.split())
    assert (
        "prot: unknown key (did you mean port?) (and 1 more: integrator destinations show "
        "ziekenhuis-noord)" in said
    ), said
    [row] = json.loads(listed.stdout)
    assert [(p["key"], p["rule"]) for p in row["problems"]] == [
        ("prot", "unknown key (did you mean port?)"),
        ("port", "required"),
    ]
    assert "port: required" in shown.stdout


def test_set_takes_text_as_text_where_a_key_holds_text(env: dict[str, str]) -> None:
    """``--set receiving_application=NO`` is MSH-5 ``NO`` (Norway's hospital, say), not YAML's
    ``false`` refused as "Input should be a valid string"; ``receiving_facility=0123`` keeps
    its leading zero. A number key still takes a number."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(EXAMPLES / "ziekenhuis-noord.yaml", directory / "ziekenhuis-noord.yaml")
    port = free_port()
    changed = cli(
        "destinations",
        "update",
        "ziekenhuis-noord",
        "--set",
        "receiving_application=NO",
        "--set",
        "receiving_facility=0123",
        "--set",
        f"port={port}",
        "--reason",
        "new receiver",
        env=env,
    )
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(cli("destinations", "show", "ziekenhuis-noord", "--json", env=env).stdout)
    definition = shown["definition"]
    assert (definition["receiving_application"], definition["receiving_facility"]) == ("NO", "0123")
    assert definition["port"] == port


def test_a_set_refused_names_the_option_and_what_the_key_must_be(env: dict[str, str]) -> None:
    """``--set providers=foo`` was answered ``config/destinations/….yaml: providers: Input should
    be a valid tuple``: a file the person never named, and pydantic's words. Now the option and
    the key, and what the key must be; a key the assignment broke but did not name says so."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    before = path.read_text()
    expected = {
        "providers=foo": "--set providers: must be a list of provider ids, such as [",
        "retry=5": "--set retry: must be a mapping with any of the keys initial, multiplier, ",
        "rate_limit=1e3": "--set rate_limit: must be a number of messages per second, written ",
        "retry={initial: x}": "--set retry.initial: must be a duration like 500ms",
        "connections=2": "ordering (not in --set): must be rotate when connections is more than",
        # No ``foo`` key: said of what was set, not as a key left as it was.
        "foo.bar=1": "--set foo: unknown key",
        "port=99999": "--set port: must be a whole number from 1 to 65535",
    }
    for assignment, said in expected.items():
        refused = cli("destinations", "update", path.stem, "--set", assignment, env=env)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"error: {said}"), refused.stderr
        assert "Input should" not in refused.stderr and path.name not in refused.stderr
    # With --json the key set is the error's field, and its rule apart (both were empty).
    as_json = cli("destinations", "update", path.stem, "--set", "port=99999", "--json", env=env)
    error = json.loads(as_json.stdout)["error"]
    assert (error["fields"], error["rule"]) == (
        ["--set port"],
        "must be a whole number from 1 to 65535",
    )
    assert path.read_text() == before


def test_set_null_puts_a_key_back_at_its_default(env: dict[str, str]) -> None:
    """As the API's PATCH with null: ``retry.max_attempts=null`` is the default 20 again (it
    was refused as "Input should be a valid integer")."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(EXAMPLES / "ziekenhuis-noord.yaml", directory / "ziekenhuis-noord.yaml")
    cli("destinations", "update", "ziekenhuis-noord", "--set", "retry.max_attempts=5", env=env)
    back = cli(
        "destinations", "update", "ziekenhuis-noord", "--set", "retry.max_attempts=null", env=env
    )
    assert back.returncode == 0, back.stderr
    shown = json.loads(cli("destinations", "show", "ziekenhuis-noord", "--json", env=env).stdout)
    assert shown["definition"]["retry"]["max_attempts"] == 20


def test_a_hand_edit_not_yet_recorded_is_recorded_before_a_change_on_top(
    env: dict[str, str],
) -> None:
    """The engine was not running when the port was edited by hand; a change made with the
    CLI then took the edit into its own revision (credited to whoever made it, its diff only
    the CLI's key, no ``destination.file`` audit entry). The edit is recorded first, by
    ``file``, as the engine would have."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    added = cli("destinations", "add", str(EXAMPLES / path.name), "--reason", "new", env=env)
    assert added.returncode == 0, added.stderr
    port = free_port()
    text = path.read_text()
    path.write_text(re.sub(r"\nport: \d+", f"\nport: {port}", text))
    changed = cli("destinations", "update", "ziekenhuis-noord", "--set", "ack_timeout=25s", env=env)
    assert changed.returncode == 0, changed.stderr
    history = json.loads(
        cli("destinations", "history", "ziekenhuis-noord", "--json", env=env).stdout
    )
    actors = [(r["revision"], r["action"], r["actor"]) for r in history]
    assert [a for _, a, _ in actors][-2:] == ["file", "update"], actors
    by_file, by_cli = history[-2], history[-1]
    assert f"+port: {port}" in by_file["diff"] and "ack_timeout" not in by_file["diff"]
    assert "ack_timeout" in by_cli["diff"] and "port" not in by_cli["diff"]


def test_show_warns_of_a_deprecated_version_as_the_api_does(env: dict[str, str]) -> None:
    """The contract says a deprecated version's warning shows in the CLI too: the API and the
    console said it, ``destinations show`` did not."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    moved = cli(
        "destinations", "update", "ziekenhuis-noord", "--set", "messages.referral=ref-v1", env=env
    )
    assert moved.returncode == 0, moved.stderr
    shown = cli("destinations", "show", "ziekenhuis-noord", env=env)
    assert shown.returncode == 0, shown.stderr
    said = "uses deprecated message version 'ref-v1'; sunset 2027-07-01, move to 'ref-v2'"
    assert said in shown.stderr
    as_json = cli("destinations", "show", "ziekenhuis-noord", "--json", env=env)
    assert any(said in w for w in json.loads(as_json.stdout)["warnings"])
