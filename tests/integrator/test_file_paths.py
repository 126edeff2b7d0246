"""What a reader who may not change the destination files is shown of a refusal.

``integrator.file_paths`` takes the directory from the refused file itself, so every path in
it goes, however the rule spells it, and nothing else in the rule changes.
"""

from __future__ import annotations

from destinations.config import DestinationFileError
from integrator.file_paths import file_as_seen, problem_as_seen


def test_every_path_into_the_files_directory_is_said_by_its_name() -> None:
    refused = DestinationFileError(
        "/srv/dest/lab-west.yml",
        "id",
        "'lab-west' does not match the file name; (rename it to /srv/dest/lab-west.yaml)",
        code="file_misnamed",
        values={"id": "lab-west", "file": "/srv/dest/lab-west.yaml", "count": 2},
    )
    seen = problem_as_seen(refused, paths=False)
    assert (seen.file, seen.key, seen.code, seen.type) == (
        "lab-west.yml",
        "id",
        "file_misnamed",
        None,
    )
    assert seen.rule == "'lab-west' does not match the file name; (rename it to lab-west.yaml)"
    assert seen.values == {"id": "lab-west", "file": "lab-west.yaml", "count": 2}
    assert problem_as_seen(refused, paths=True) is refused


def test_a_relative_directory_goes_too_and_a_bare_name_stays() -> None:
    refused = DestinationFileError(
        "config/destinations/noord.yaml",
        "(file)",
        "cannot be read (config/destinations/noord.yaml is locked)",
        code="unreadable",
    )
    assert problem_as_seen(refused, paths=False).rule == "cannot be read (noord.yaml is locked)"
    bare = DestinationFileError("noord.yaml", "port", "Input should be a valid integer")
    assert problem_as_seen(bare, paths=False).rule == bare.rule
    assert file_as_seen("/srv/dest/noord.yaml", paths=False) == "noord.yaml"
    assert file_as_seen("/srv/dest/noord.yaml", paths=True) == "/srv/dest/noord.yaml"
