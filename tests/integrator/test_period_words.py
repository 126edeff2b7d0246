"""Every place that describes a period's bounds says the same forms (``integrator.period_words``).

A recent form of the reading (``12-04 18:44``, a time as a narrow listing shows it) was said
by ``messages`` and ``deadletter list`` only: ``events``, ``rejected``, ``audit``, ``resend``
and the API's descriptions listed fewer forms than are read, each in its own words. So each
``--since``/``--until`` option of the CLI, each ``since``/``until`` query parameter and body
field of the API, and the refusal of a bound that is none of the forms, is one of the shared
texts; a command or route added with its own words fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from integrator.cli import app
from integrator.http.app import build_app
from integrator.period_words import period_forms, since_help, until_help
from integrator.search import BadSearch, parse_moment
from tests.integrator.support import settings_for

SINCE = " from (inclusive): "
UNTIL = " until, to the end of what is given"


def _what(text: str, marker: str) -> str:
    """What a bound's description selects on (``Created``), the words before ``marker``."""
    assert marker in text, text
    return text.split(marker)[0]


def _options(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(command, option) of every ``--since`` and ``--until`` of the CLI, with its help
    (``command``: typer's own click-like classes)."""
    for name, sub in getattr(command, "commands", {}).items():
        yield from _options(sub, (*path, name))
    for param in command.params:
        for opt in getattr(param, "opts", ()):
            if opt in ("--since", "--until"):
                yield f"{' '.join(path)} {opt}", getattr(param, "help", None) or ""


def _api_bounds() -> Iterator[tuple[str, str, bool]]:
    """(where, description, in a URL) of every ``since``/``until`` the API document declares:
    its query parameters and the properties of its bodies."""
    document: dict[str, Any] = build_app().openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("since", "until"):
                    where = f"{method.upper()} {path} ?{parameter['name']}"
                    yield where, parameter.get("description", ""), True
    for name, schema in document["components"]["schemas"].items():
        for prop, declared in schema.get("properties", {}).items():
            if prop in ("since", "until"):
                yield f"{name}.{prop}", declared.get("description", ""), False


CLI_OPTIONS = sorted(_options(typer.main.get_command(app)))
API_BOUNDS = sorted(_api_bounds())


def test_every_command_and_route_taking_a_period_is_found() -> None:
    commands = {where.rsplit(" ", 1)[0] for where, _ in CLI_OPTIONS}
    assert {"messages list", "events list", "rejected list", "audit list", "resend"} <= commands
    assert {"deadletter list", "deadletter discard", "events route"} <= commands
    assert len(API_BOUNDS) >= 20  # each listing, export and search body, both bounds


@pytest.mark.parametrize(("where", "help_text"), CLI_OPTIONS, ids=[w for w, _ in CLI_OPTIONS])
def test_every_since_and_until_option_has_the_shared_help(where: str, help_text: str) -> None:
    if where.endswith("--since"):
        assert help_text == since_help(_what(help_text, SINCE)), where
    else:
        assert help_text == until_help(_what(help_text, UNTIL)), where
    assert period_forms() in help_text and "11-27 09:30" in help_text


@pytest.mark.parametrize(("where", "text", "in_url"), API_BOUNDS, ids=[w for w, *_ in API_BOUNDS])
def test_every_since_and_until_of_the_api_has_the_shared_description(
    where: str, text: str, in_url: bool
) -> None:
    if where.endswith("since"):
        assert text == since_help(_what(text, SINCE), in_url=in_url), where
    else:
        assert text == until_help(_what(text, UNTIL), in_url=in_url), where
    assert period_forms(in_url=in_url) in text


def test_the_refusal_of_a_bound_lists_the_same_forms(tmp_path: Path) -> None:
    with pytest.raises(BadSearch) as refused:
        parse_moment("soon", settings_for(tmp_path), name="since")
    assert refused.value.rule.endswith(f"give {period_forms(in_url=True)}")
