"""Writing a definition into an existing file: it loads back as that definition, comments stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from destinations.config import (
    DestinationConfig,
    definition_of,
    destination_from_mapping,
    destination_from_yaml,
    dump_destination,
    load_destination_file,
)
from destinations.document import render_onto

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def block_comments(text: str) -> list[str]:
    """Whole-line comments: they describe the file, never one value, so no change may drop one."""
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


# Values whose plain spelling YAML 1.1 reads as something else, among ordinary ones.
TRICKY = st.sampled_from(["yes", "no", "on", "null", "~", "1.0", "0755", "1:30", "a #b", "x: y"])
IDS = st.one_of(TRICKY, st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))
DURATIONS = st.sampled_from(["500ms", "1s", "30s", "90s", "10m", "24h", 0.25, 45])
# A timeout is an hour at most (destinations.config.TIMEOUT_MAX): drawn from DURATIONS, one
# example in sixteen was no definition at all, and the test failed where examples are random.
TIMEOUTS = st.sampled_from(["500ms", "1s", "30s", "90s", "10m", "1h", 0.25, 45])


@st.composite
def definitions(draw: st.DrawFn, base: DestinationConfig) -> DestinationConfig:
    data: dict[str, Any] = definition_of(base)
    connections = draw(st.integers(1, 4))
    changes: dict[str, Any] = {
        "name": draw(st.one_of(TRICKY, st.text(min_size=1, max_size=20).filter(str.isprintable))),
        "cluster": draw(st.one_of(st.none(), TRICKY)),
        "providers": draw(st.lists(IDS, max_size=3, unique=True)),
        "port": draw(st.integers(1, 65535)),
        "messages": draw(
            st.sampled_from(
                [
                    {"referral": "ref-v2"},
                    {"diagnostic_request": "oml-v3"},
                    {"referral": "ref-v2", "diagnostic_request": "orm-v3"},
                ]
            )
        ),
        "receiving_application": draw(st.one_of(TRICKY, st.just(""))),
        "ack_timeout": draw(TIMEOUTS),
        "connections": connections,
        "rate_limit": draw(st.one_of(st.none(), st.floats(0.5, 100, allow_nan=False))),
        "tls": draw(st.one_of(st.none(), st.just({"server_name": "his.example"}))),
        "enabled": draw(st.booleans()),
    }
    picked = draw(st.sets(st.sampled_from(sorted(changes))))
    data.update({key: changes[key] for key in picked})
    if "connections" in picked:
        data["ordering"] = (
            "rotate" if connections > 1 else draw(st.sampled_from(["fifo", "rotate"]))
        )
    if draw(st.booleans()):  # enhanced mode, with or without MSH-15/16 of its own
        data["ack_mode"] = "enhanced"
        accept, application = draw(
            st.sampled_from([(None, None), ("AL", None), (None, "AL"), ("ER", "SU"), ("AL", "ER")])
        )
        data.update(accept_ack_type=accept, application_ack_type=application)
    retry = dict(data["retry"])
    retry["max_attempts"] = draw(st.integers(1, 50))
    retry["max_age"] = draw(DURATIONS)
    retry["max_delay"] = "24h"
    data["retry"] = retry
    return destination_from_mapping(data, source="(generated)")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_any_definition_written_onto_an_example_loads_back_and_keeps_its_comments(
    path: Path,
) -> None:
    text = path.read_text(encoding="utf-8")
    base = load_destination_file(path)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(definitions(base))
    def check(config: DestinationConfig) -> None:
        result = render_onto(text, config)
        assert destination_from_yaml(result, source="(result)") == config
        assert block_comments(result) == block_comments(text)
        assert render_onto(result, config) == result  # nothing left to change

    check()


def test_the_unchanged_definition_gives_the_file_back_byte_for_byte() -> None:
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        assert render_onto(text, load_destination_file(path)) == text


def test_a_value_that_means_the_same_keeps_its_spelling() -> None:
    path = EXAMPLES / "lab-west.yaml"
    text = path.read_text(encoding="utf-8").replace("ack_timeout: 20s", "ack_timeout: 20000ms")
    config = destination_from_yaml(text, source=str(path))
    assert render_onto(text, config) == text


def test_what_is_not_a_yaml_mapping_is_replaced_by_a_clean_file() -> None:
    config = load_destination_file(EXAMPLES / "lab-west.yaml")
    for text in ("id: [unclosed\n", "- a list\n", "", None):
        assert render_onto(text, config) == dump_destination(config)


def test_a_refused_file_is_repaired_keeping_its_comments() -> None:
    path = EXAMPLES / "ziekenhuis-noord.yaml"
    good = path.read_text(encoding="utf-8")
    config = load_destination_file(path)
    broken = (
        good.replace("port: 2575", "port: twenty-five-seventy-five")
        .replace("connections: 1 ", "conections: 2\nconnections: 1 ")  # unknown key
        .replace("  max_age: 24h", "  max_age: 24h\n  max_age: forever")  # repeated key
    )
    assert render_onto(broken, config) == good


@pytest.mark.parametrize("indent", [2, 4])
@pytest.mark.parametrize("dash", [0, 2])
def test_the_file_keeps_its_own_indentation(indent: int, dash: int) -> None:
    pad = " " * indent
    text = (
        "id: lab-oost\nname: Lab Oost\nproviders:\n"
        f"{' ' * dash}- lab-oost\n{' ' * dash}- lab-oost-2\n"
        "host: 127.0.0.1\nport: 2577\n"
        f"messages:\n{pad}diagnostic_request: orm-v3   # ORM^O01\n"
        f"retry:\n{pad}max_attempts: 30\n"
    )
    config = destination_from_yaml(text, source="lab-oost.yaml")
    assert render_onto(text, config) == text
    changed = config.model_copy(update={"providers": ("lab-oost",), "port": 2578})
    assert render_onto(text, changed) == text.replace(f"{' ' * dash}- lab-oost-2\n", "").replace(
        "port: 2577", "port: 2578"
    )
