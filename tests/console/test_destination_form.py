"""The destination form's translation between fields and a definition: no rule of its own."""

from __future__ import annotations

from destinations.config import destination_from_mapping
from integrator.console.destination_form import (
    GENERAL,
    changes_of,
    definition_of_new,
    form_from,
    form_of,
)

DEFINITION = {
    "id": "noord",
    "name": "Noord",
    "cluster": "CARD",
    "providers": ["a", "b"],
    "host": "127.0.0.1",
    "port": 2575,
    "messages": {"referral": "ref-v2"},
    "connect_timeout": "1s",
    "rate_limit": 2.5,
}


def test_a_definition_shown_and_sent_back_unchanged_changes_nothing() -> None:
    config = destination_from_mapping(DEFINITION, source="test")
    form = form_from(form_of(config).values)
    changes = changes_of(form)
    assert changes["providers"] == ["a", "b"]
    assert changes["port"] == 2575 and changes["rate_limit"] == 2.5
    assert changes["connect_timeout"] == "1s"
    assert changes["messages"] == {"referral": "ref-v2", "diagnostic_request": None}
    assert changes["enabled"] is True and changes["auto_upgrade"] is False


def test_what_does_not_parse_goes_to_the_service_as_typed() -> None:
    form = form_from({"port": "twenty", "connections": "2", "rate_limit": "fast"})
    changes = changes_of(form)
    assert changes["port"] == "twenty" and changes["connections"] == 2
    assert changes["rate_limit"] == "fast"


def test_a_new_definition_leaves_blank_keys_to_their_defaults() -> None:
    form = form_from({"id": "west", "name": "West", "host": "h", "port": "1", "cluster": ""})
    definition = definition_of_new(form)
    assert definition["id"] == "west" and "cluster" not in definition
    assert "rate_limit" not in definition and definition["messages"] == {}


def test_each_refusal_lands_beside_its_field_naming_key_and_rule() -> None:
    form = form_from({})
    form.error("providers[1]", "provider ids must not be empty")
    form.error("messages.diagnostic_request", "retired")
    form.error("retry.initial", "too short")
    form.error("", "the file exists already")
    assert form.errors["providers"] == ["providers[1]: provider ids must not be empty"]
    assert form.errors["messages.diagnostic_request"] == ["messages.diagnostic_request: retired"]
    assert form.errors[GENERAL] == ["retry.initial: too short", "the file exists already"]
