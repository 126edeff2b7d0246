"""``make test`` runs the ``exclusive`` and ``without_file_powers`` tests again by their files,
found by a word (the Makefile's ``grep``): a marked test in a file without it would never run,
so the collection refuses it (``tests/conftest.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import RUN_ALONE_BY_FILE, pytest_collection_modifyitems


@dataclass
class Collected:
    """What the check reads of a collected test."""

    nodeid: str
    path: Path
    marker: str

    def get_closest_marker(self, name: str) -> object:
        return object() if name == self.marker else None


@pytest.mark.parametrize("marker", sorted(RUN_ALONE_BY_FILE))
def test_a_marked_test_in_a_file_without_the_word_is_refused(
    tmp_path: Path, pytestconfig: pytest.Config, marker: str
) -> None:
    hidden = tmp_path / "test_hidden.py"
    hidden.write_text("run_alone = getattr(pytest.mark, NAME)\n", encoding="utf-8")
    said = tmp_path / "test_said.py"
    said.write_text(f"# {RUN_ALONE_BY_FILE[marker]}\n", encoding="utf-8")

    fine = [Collected("test_said.py::test", said, marker), Collected("t.py::u", hidden, "slow")]
    pytest_collection_modifyitems(pytestconfig, fine)  # type: ignore[arg-type]
    with pytest.raises(pytest.UsageError, match=f"test_hidden.py::test is marked {marker}"):
        pytest_collection_modifyitems(
            pytestconfig,
            [Collected("test_hidden.py::test", hidden, marker)],  # type: ignore[list-item]
        )


def test_the_makefile_finds_the_files_by_the_same_words() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    for word in RUN_ALONE_BY_FILE.values():
        assert f"-e '{word}' tests" in makefile
