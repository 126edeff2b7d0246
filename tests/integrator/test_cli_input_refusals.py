"""Operators' mistakes the CLI refuses with the rule and exit 2, never a traceback or a
silently different output: options that contradict each other, a destination file that is not
UTF-8 (a hand edit saved as Latin-1) or that is a directory. Nothing is changed by them."""

from __future__ import annotations

from pathlib import Path

from tests.cli_in_process import json_error, run_cli

LATIN_1 = (
    b"id: lab9\nname: Lab Caf\xe9\nhost: 127.0.0.1\nport: 2575\n"
    b"providers: [lab-west]\nmessages:\n  diagnostic_request: orm-v3\n"
)


def test_messages_list_refuses_json_and_csv_together(env: dict[str, str]) -> None:
    both = run_cli("messages", "list", "--csv", "--json", env=env)
    assert both.returncode == 2, both
    assert "--json and --csv: choose one" in both.stderr
    # No CSV passed off as JSON: the refusal, as JSON, naming both options.
    assert json_error(both.stdout, 2)["fields"] == ["--json", "--csv"]


def test_a_destination_file_that_is_not_utf8_is_refused_by_its_rule(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "lab9.yaml"
    path.write_bytes(LATIN_1)
    from_file = run_cli("destinations", "add", str(path), "--reason", "new lab", env=env)
    a_directory = run_cli("destinations", "add", str(tmp_path), "--reason", "x", env=env)
    assert from_file.returncode == 2, from_file
    assert f"{path}: (file): is not UTF-8 text" in from_file.stderr
    assert "Traceback" not in from_file.stderr + from_file.stdout
    assert a_directory.returncode == 2
    assert "is a directory, not a destination file" in a_directory.stderr
    listed = run_cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0 and "lab9" not in listed.stdout  # nothing was added


LAB = (
    "id: lab\nname: Lab\nhost: 127.0.0.1\nport: 2575\nproviders: [lab-west]\n"
    "messages:\n  diagnostic_request: orm-v3\n"
)


def test_add_refuses_a_missing_directory_once_the_store_has_destinations(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The first destination of a new store makes the directory; once the store has any, a
    missing directory (a volume not mounted, a command run from elsewhere) refuses the add:
    a new directory there would hold a file the engine never reads, and the history would say
    it was added."""
    first = run_cli("destinations", "add", "-", "--reason", "first", env=env, input=LAB)
    assert first.returncode == 0, first
    elsewhere = {**env, "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "not-mounted")}
    other = LAB.replace("id: lab", "id: lab2").replace("lab-west", "lab-oost")
    refused = run_cli("destinations", "add", "-", "--reason", "x", env=elsewhere, input=other)
    assert refused.returncode == 2, refused
    assert "destinations directory unusable" in refused.stderr
    assert "INTEGRATOR_DESTINATIONS_DIR" in refused.stderr
    assert not (tmp_path / "not-mounted").exists()
    history = run_cli("destinations", "history", "lab2", "--json", env=env)
    assert history.returncode == 2, history  # none recorded
    assert "no destination" in json_error(history.stdout, 2)["message"], history


def test_the_first_destination_of_a_new_store_makes_the_directory(
    env: dict[str, str], tmp_path: Path
) -> None:
    new_dir = tmp_path / "fresh"
    fresh = {**env, "INTEGRATOR_DESTINATIONS_DIR": str(new_dir)}
    made = run_cli("destinations", "add", "-", "--reason", "first", env=fresh, input=LAB)
    assert made.returncode == 0, made
    assert (new_dir / "lab.yaml").is_file()


def test_receiver_refuses_a_save_folder_that_is_a_file(tmp_path: Path) -> None:
    """``--save FILE`` where FILE is a file: a refused option (exit 2, naming it), not "cannot
    listen on 127.0.0.1:2575: File exists", which sends one looking for another listener."""
    taken = tmp_path / "notes.txt"
    taken.write_text("not a folder")
    for save in (taken, taken / "inside"):
        result = run_cli("receiver", "--port", "0", "--save", str(save), env={})
        assert result.returncode == 2, result
        assert result.stderr.startswith(f"error: --save: {save} cannot be the folder"), result
        assert "listen" not in result.stderr
    assert taken.read_text() == "not a folder"


def test_destinations_test_names_the_event_types_a_destination_takes(
    env: dict[str, str],
) -> None:
    added = run_cli("destinations", "add", "-", "--reason", "new lab", env=env, input=LAB)
    assert added.returncode == 0, added
    refused = run_cli("destinations", "test", "lab", "--event-type", "referral", env=env)
    assert refused.returncode == 2, refused
    assert refused.stderr == (
        "error: destination 'lab' takes no referral messages; it takes: diagnostic_request\n"
    )
