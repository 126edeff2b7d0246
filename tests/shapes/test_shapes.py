"""A Shape writes a sentence from its template and reads the values back from that text only."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import shapes
from shapes import NUMBER, PATHS, TEXT, VERSION, Shape, shell_word


def test_what_a_shape_writes_it_reads_back() -> None:
    shape = Shape("x.cut", "{paths} shortened to {limit} characters", paths=PATHS, limit=NUMBER)
    text = shape(paths="PID-5.1.1, PRD-3.6", limit=50)
    assert text == "PID-5.1.1, PRD-3.6 shortened to 50 characters"
    assert shape.read(text) == {"paths": "PID-5.1.1, PRD-3.6", "limit": "50"}


@pytest.mark.parametrize(
    "text",
    [
        "PID-5 shortened to 50 characters.",  # more than the sentence
        "see: PID-5 shortened to 50 characters",
        "PID-5 shortened to fifty characters",  # a value its field may not hold
        "pid-5 shortened to 50 characters",
        "PID-5 shortened to 50 characters\nand more",
    ],
)
def test_a_shape_reads_only_the_whole_of_a_text_it_could_write(text: str) -> None:
    shape = Shape("x.cut", "{paths} shortened to {limit} characters", paths=PATHS, limit=NUMBER)
    assert shape.read(text) is None


def test_a_derived_field_is_written_from_the_others_and_read_only_where_it_agrees() -> None:
    """A provider quoted for a shell in a suggested command: the writer gives the provider
    only; a text whose command is not what the provider makes is not read (shown as stored),
    even where the provider holds the sentence's own words."""
    shape = Shape(
        "x.route",
        "provider {provider!r}: run `route {word}`",
        provider=TEXT,
        word=shell_word("provider"),
    )
    assert shape(provider="lab-west") == "provider 'lab-west': run `route lab-west`"
    spaced = shape(provider="a $(b) c")
    assert spaced == "provider 'a $(b) c': run `route 'a $(b) c'`"
    assert shape.read(spaced) == {"provider": "a $(b) c", "word": "'a $(b) c'"}
    tricky = "a: run `route b"
    assert shape.read(shape(provider=tricky)) == {"provider": tricky, "word": f"'{tricky}'"}
    assert shape.read("provider 'a': run `route $(b)`") is None
    assert shape.read("provider 'a b': run `route a b`") is None


def test_a_field_named_twice_holds_one_value() -> None:
    shape = Shape("x.twice", "a {kind}, then a second {kind}", kind="referral|request")
    assert shape.read("a referral, then a second referral") == {"kind": "referral"}
    assert shape.read("a referral, then a second request") is None


def test_a_quoted_field_is_read_as_repr_writes_it() -> None:
    shape = Shape("x.quoted", "version {version!r} has no mapper", version=r"[^']*")
    assert shape(version="ref-v9") == "version 'ref-v9' has no mapper"
    assert shape.read("version 'ref-v9' has no mapper") == {"version": "ref-v9"}
    assert shape.read(shape(version="tab\there")) is None  # repr escaped it


def test_regular_expression_characters_in_the_text_are_text() -> None:
    shape = Shape("x.literal", "{count} (lone) replaced by '?'", count=NUMBER)
    assert shape.read("2 (lone) replaced by '?'") == {"count": "2"}
    assert shape.read("2 lone replaced by 'x'") is None


@pytest.mark.parametrize(
    ("template", "fields"),
    [
        ("{version} retired", {}),  # a field without a pattern
        ("{version:>10} retired", {"version": VERSION}),  # a format of its own
        ("{version!s} retired", {"version": VERSION}),
        ("retired", {"version": VERSION}),  # a pattern for nothing
    ],
)
def test_a_shape_refuses_a_template_it_could_not_read(
    template: str, fields: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="shape x"):
        Shape("x", template, **fields)


def test_the_package_imports_only_the_standard_library() -> None:
    """Every layer writes shapes (the schemas, the delivery client, the CLI's listings), so
    loading them must load nothing else: no cycle can pass through here, and ``destinations``
    and the CLI stay as light as they are."""
    source = Path(shapes.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_every_shape_of_the_project_compiles() -> None:
    """Shapes compile their pattern at the first read (only the console reads), so a field
    pattern no regular expression engine takes would fail there, in a person's page, and not
    at import: every shape any module of the project holds is compiled here."""
    found: dict[int, Shape] = {}
    for package in ("schemas", "mappings", "destinations", "deadletter", "integrator"):
        root = importlib.import_module(package)
        modules = pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
        for info in modules:
            if info.name.endswith("__main__") or ".migrations" in info.name:
                continue  # run as a program; Alembic's scripts, run by Alembic
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if isinstance(value, Shape):
                    found[id(value)] = value
                elif isinstance(value, dict | tuple | list | frozenset):
                    items = value.values() if isinstance(value, dict) else value
                    found.update({id(v): v for v in items if isinstance(v, Shape)})
    assert len(found) > 100  # the walk did reach them
    for shape in found.values():
        assert shape.pattern.flags & re.DOTALL, shape  # compiles, as the constructor did
