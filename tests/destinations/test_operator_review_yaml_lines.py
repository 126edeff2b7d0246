"""A YAML syntax error in a destination file names the line to mend, not only where the
parser gave up: an unclosed quote is found at the end of the file, many lines below it."""

from __future__ import annotations

from pathlib import Path

import pytest

from destinations.config import DestinationFileError, load_destination_file

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "destinations" / "lab-west.yaml"


def _refusal(tmp_path: Path, text: str) -> DestinationFileError:
    file = tmp_path / "lab-west.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(DestinationFileError) as refused:
        load_destination_file(file)
    return refused.value


def test_an_unclosed_quote_names_the_line_it_opens_on(tmp_path: Path) -> None:
    """The example file with its name's closing quote forgotten, as an operator types it."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("name: "))
    lines[at] = 'name: "Lab West\n'
    error = _refusal(tmp_path, "".join(lines))
    assert error.code == "yaml_syntax"
    # Where the parser gave up (the end of the file), and where the quote opens.
    assert error.key == f"line {len(lines) + 1}"
    assert error.rule == (
        "YAML syntax error: found unexpected end of stream "
        f"(while scanning a quoted scalar that starts on line {at + 1})"
    )
    assert str(error.values["problem"]).endswith(f"starts on line {at + 1})")


def test_an_unclosed_flow_list_names_the_line_it_opens_on(tmp_path: Path) -> None:
    error = _refusal(tmp_path, "id: lab-west\nproviders: [lab-west\nport: 2575\n")
    assert error.key == "line 3"
    assert error.rule.endswith("(while parsing a flow sequence that starts on line 2)")


def test_a_problem_on_the_line_it_is_found_adds_nothing(tmp_path: Path) -> None:
    """A tab is refused on its own line: nothing more to point at."""
    error = _refusal(tmp_path, "id: lab-west\nretry:\n\tinitial: 2s\n")
    assert error.key == "line 3"
    assert error.rule == "YAML syntax error: found character '\\t' that cannot start any token"
