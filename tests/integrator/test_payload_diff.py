"""Field paths where two copies of an event differ; names only, never values."""

from __future__ import annotations

from integrator.payload_diff import MAX_PATHS, described, differing_fields


def test_nested_fields_lists_and_added_or_missing_keys_are_named_by_path() -> None:
    before = {"a": 1, "p": {"n": {"family": "X"}, "bsn": "1"}, "l": [1, 2], "gone": True}
    after = {"a": 1, "p": {"n": {"family": "Y"}, "bsn": "1"}, "l": [1, 3], "new": False}
    assert differing_fields(before, after) == ["gone", "l[1]", "new", "p.n.family"]


def test_a_list_of_another_length_is_one_difference_and_equal_values_none() -> None:
    assert differing_fields({"l": [1]}, {"l": [1, 2]}) == ["l"]
    assert differing_fields({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
    assert differing_fields(1, 2) == ["$"]


def test_many_paths_are_cut_short_with_a_count() -> None:
    paths = [f"f{n}" for n in range(MAX_PATHS + 3)]
    assert described(paths).endswith("and 3 more")
    assert described(paths[:2]) == "f0, f1"
