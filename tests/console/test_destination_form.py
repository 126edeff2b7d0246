"""The destination form's translation between fields and a definition: no rule of its own."""

from __future__ import annotations

from destinations.config import destination_from_mapping
from integrator.console.destination_form import (
    GENERAL,
    changes_of,
    definition_of_new,
    form_from,
    form_of,
    rebased,
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
    loaded = form_of(config)
    assert changes_of(form_from(loaded.values), loaded) == {}


def test_an_edit_patches_only_the_fields_the_person_changed() -> None:
    """A save never writes back what the person left alone: a colleague's change made
    meanwhile (a pause, another port) stays. ``enabled`` is no field of an edit at all."""
    loaded = form_of(destination_from_mapping(DEFINITION, source="test"))
    typed = dict(loaded.values, name="Noord (nieuw)", providers="a,b", connect_timeout="")
    typed["messages.diagnostic_request"] = "orm-v4"
    del typed["enabled"]  # the edit form has no such box
    changes = changes_of(form_from(typed), loaded)
    assert changes == {
        "name": "Noord (nieuw)",
        "connect_timeout": None,  # blank: back to the default
        "messages": {"diagnostic_request": "orm-v4"},
    }


def test_what_does_not_parse_goes_to_the_service_as_typed() -> None:
    loaded = form_of(destination_from_mapping(DEFINITION, source="test"))
    typed = dict(loaded.values, port="twenty", connections="2", rate_limit="fast")
    changes = changes_of(form_from(typed), loaded)
    assert changes["port"] == "twenty" and changes["connections"] == 2
    assert changes["rate_limit"] == "fast"


def test_a_refused_save_shows_the_persons_changes_on_the_definition_in_service_now() -> None:
    loaded = form_of(destination_from_mapping(DEFINITION, source="test"))
    loaded.revision = 4
    typed = form_from(dict(loaded.values, name="Noord (nieuw)", revision="4"))
    assert typed.revision == 4
    now = form_of(destination_from_mapping({**DEFINITION, "port": 2576}, source="test"))
    now.revision = 5
    shown = rebased(typed, loaded, now)
    assert shown.revision == 5
    assert (shown.values["name"], shown.values["port"]) == ("Noord (nieuw)", "2576")
    assert changes_of(shown, now) == {"name": "Noord (nieuw)"}


def test_a_revision_that_is_not_a_whole_number_is_none() -> None:
    assert form_from({"revision": "4x"}).revision is None
    assert form_from({}).revision is None


def test_a_new_definition_leaves_blank_keys_to_their_defaults() -> None:
    form = form_from({"id": "west", "name": "West", "host": "h", "port": "1", "cluster": ""})
    definition = definition_of_new(form)
    assert definition["id"] == "west" and "cluster" not in definition
    assert "rate_limit" not in definition and definition["messages"] == {}
    assert definition["enabled"] is False  # the box unticked: added paused


def test_each_refusal_lands_beside_its_field_naming_key_and_rule() -> None:
    form = form_from({})
    form.error("providers[1]", "provider ids must not be empty")
    form.error("messages.diagnostic_request", "retired")
    form.error("retry.initial", "too short")
    form.error("", "the file exists already")
    assert form.errors["providers"] == ["providers[1]: provider ids must not be empty"]
    assert form.errors["messages.diagnostic_request"] == ["messages.diagnostic_request: retired"]
    assert form.errors[GENERAL] == ["retry.initial: too short", "the file exists already"]


def test_ack_types_are_fields_blank_for_their_default() -> None:
    enhanced = {**DEFINITION, "ack_mode": "enhanced"}
    loaded = form_of(destination_from_mapping(enhanced, source="test"))
    assert (loaded.values["accept_ack_type"], loaded.values["application_ack_type"]) == ("", "")
    typed = dict(loaded.values, application_ack_type="AL")
    assert changes_of(form_from(typed), loaded) == {"application_ack_type": "AL"}

    chosen = {**enhanced, "accept_ack_type": "SU", "application_ack_type": "ER"}
    loaded = form_of(destination_from_mapping(chosen, source="test"))
    assert (loaded.values["accept_ack_type"], loaded.values["application_ack_type"]) == (
        "SU",
        "ER",
    )
    typed = dict(loaded.values, accept_ack_type="")
    # Blank: the key goes (a merge patch's null), back to the default.
    assert changes_of(form_from(typed), loaded) == {"accept_ack_type": None}

    new = form_from({"id": "west", "ack_mode": "enhanced", "application_ack_type": "SU"})
    definition = definition_of_new(new)
    assert definition["application_ack_type"] == "SU" and "accept_ack_type" not in definition


def test_a_refused_ack_type_lands_beside_its_field() -> None:
    form = form_from({})
    form.error("accept_ack_type", "applies only with ack_mode: enhanced")
    assert form.errors["accept_ack_type"] == [
        "accept_ack_type: applies only with ack_mode: enhanced"
    ]
