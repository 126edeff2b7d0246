"""The table of the standard's lengths (`mappings/standard_lengths.py`) against hl7apy.

hl7apy's structure tables carry datatypes but no lengths (every max length is -1), so the table
is written out from the standard; what hl7apy does know is checked here: that the table has
every field of every segment the versions send, with hl7apy's datatype, and every composite
datatype those fields use with hl7apy's components. The lengths are spot-checked against
values anyone can look up in the standard.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from mappings.standard_lengths import COMPONENTS, FIELDS, PRIMITIVE_LENGTHS

SEGMENTS = ("MSH", "RF1", "PRD", "PID", "IN1", "DG1", "OBR", "OBX", "NTE", "PV1", "PV2", "ORC")
SEGMENTS_251 = (*SEGMENTS, "TQ1", "SPM")
MODULES = {"2.4": "v2_4", "2.5.1": "v2_5_1"}
# hl7apy's names for the one-level variants it uses inside other types.
ALIASES = {"DR_SIMPLE": "DR", "CQ_SIMPLE": "CQ"}
# Types without components: those with a length of their own, those bound by a table or format,
# OBX-5's `varies` and the reserved fields' "".
PRIMITIVES = {*PRIMITIVE_LENGTHS, "ID", "DT", "DTM", "TM", "varies", ""}


def _hl7apy(version: str, table: str) -> Any:
    return importlib.import_module(f"hl7apy.{MODULES[version]}.{table}")


def _segments(version: str) -> tuple[str, ...]:
    return SEGMENTS if version == "2.4" else SEGMENTS_251


@pytest.mark.parametrize("version", MODULES)
def test_every_field_of_every_segment_with_hl7apys_datatype(version: str) -> None:
    segments = _hl7apy(version, "segments").SEGMENTS
    fields = _hl7apy(version, "fields").FIELDS
    expected = set()
    for name in _segments(version):
        for field_name, *_ in segments[name][1]:
            key = field_name.replace("_", "-")
            expected.add(key)
            datatype = fields[field_name][2]
            ours = FIELDS[version][key][0]
            if datatype is None:  # reserved (2.5.1 OBX-20..22)
                assert ours == "" and FIELDS[version][key][1] is None, key
            else:
                assert ours == ALIASES.get(datatype, datatype), key
    assert set(FIELDS[version]) == expected


@pytest.mark.parametrize("version", MODULES)
def test_every_composite_datatype_with_hl7apys_components(version: str) -> None:
    datatypes = _hl7apy(version, "datatypes")
    used = {datatype for datatype, _ in FIELDS[version].values()}
    seen: set[str] = set()
    while used - seen:
        name = (used - seen).pop()
        seen.add(name)
        structure = datatypes.DATATYPES_STRUCTS.get(name)
        if structure is None:  # a primitive type
            assert name not in COMPONENTS[version] and name in PRIMITIVES, name
            continue
        theirs = [datatypes.DATATYPES[child[0]][2] for child in structure]
        ours = [datatype for datatype, _ in COMPONENTS[version][name]]
        assert ours == [ALIASES.get(datatype, datatype) for datatype in theirs], name
        used.update(ours)
    assert set(COMPONENTS[version]) == seen - PRIMITIVES


def test_component_lengths_only_where_the_standard_gives_them() -> None:
    assert all(length is None for parts in COMPONENTS["2.4"].values() for _, length in parts)
    assert all(
        isinstance(length, int) and length > 0
        for parts in COMPONENTS["2.5.1"].values()
        for _, length in parts
    )


@pytest.mark.parametrize(
    ("version", "key", "expected"),
    [
        ("2.4", "ORC-2", ("EI", 22)),
        ("2.5.1", "ORC-2", ("EI", 22)),
        ("2.4", "OBR-2", ("EI", 22)),
        ("2.5.1", "ORC-4", ("EI", 22)),
        ("2.4", "PRD-4", ("PL", 60)),
        ("2.5.1", "PRD-4", ("PL", 60)),
        ("2.4", "PID-5", ("XPN", 250)),
        ("2.5.1", "PID-11", ("XAD", 250)),
        ("2.5.1", "ORC-21", ("XON", 250)),
        ("2.4", "RF1-6", ("EI", 30)),
        ("2.4", "PV1-3", ("PL", 80)),
        ("2.5.1", "IN1-36", ("ST", 15)),
        ("2.4", "MSH-10", ("ST", 20)),
        ("2.4", "MSH-21", ("ID", 10)),
        ("2.5.1", "NTE-3", ("FT", 65536)),
    ],
)
def test_known_field_lengths(version: str, key: str, expected: tuple[str, int]) -> None:
    assert FIELDS[version][key] == expected


@pytest.mark.parametrize(
    ("datatype", "position", "expected"),
    [
        ("XON", 1, ("ST", 50)),
        ("XON", 10, ("ST", 20)),
        ("EI", 1, ("ST", 199)),
        ("EI", 2, ("IS", 20)),
        ("XAD", 6, ("ID", 3)),
        ("CE", 1, ("ST", 20)),
        ("CE", 2, ("ST", 199)),
        ("CX", 1, ("ST", 15)),
        ("FN", 1, ("ST", 50)),
        ("PL", 9, ("ST", 199)),
    ],
)
def test_known_component_lengths_251(datatype: str, position: int, expected: object) -> None:
    assert COMPONENTS["2.5.1"][datatype][position - 1] == expected
