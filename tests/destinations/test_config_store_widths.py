"""A destination file's rules agree with what the store and an event can hold.

The id is bounded by the store's columns that hold one: a longer id (up to 100 was allowed) was
taken and worked on SQLite, which does not hold text to a column's width, while on PostgreSQL
every event for its providers failed (22001) and a paused one kept the engine from starting.
A provider entry holding a control character could never match an event's ``provider.id``,
and PostgreSQL refused the NUL in the query that counts its unrouted events (22021), naming
neither the file nor the key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import String

from destinations.config import (
    MAX_ID,
    DestinationFileError,
    destination_from_mapping,
    load_destination_file,
)
from destinations.ids import is_destination_id
from integrator.store.tables import metadata
from schemas.fields import ProviderId
from tests.store.conftest import postgres_site
from tests.store.factories import make_event, make_message

MINIMAL: dict[str, Any] = {
    "id": "lab-oost",
    "name": "Lab Oost",
    "providers": ["ziekenhuis-noord"],
    "host": "127.0.0.1",
    "port": 2577,
    "messages": {"referral": "ref-v2"},
}
T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def widest_id(length: int = MAX_ID) -> str:
    return ("lab-" + "w" * length)[:length]


def loaded(tmp_path: Path, data: dict[str, Any]) -> Any:
    """The file ``<id>.yaml`` holding ``data``, loaded as the engine loads it."""
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_destination_file(path)


def refused(tmp_path: Path, data: dict[str, Any]) -> DestinationFileError:
    with pytest.raises(DestinationFileError) as info:
        loaded(tmp_path, data)
    return info.value


# --- the id: at most the store's width ---------------------------------------------------------


def test_the_id_is_at_most_64_characters_the_width_of_the_store() -> None:
    assert MAX_ID == 64


def test_an_id_of_65_characters_is_refused_naming_the_rule_and_64_is_taken(
    tmp_path: Path,
) -> None:
    long_id = widest_id(MAX_ID + 1)
    error = refused(tmp_path, {**MINIMAL, "id": long_id})
    assert (error.key, error.type, error.code) == ("id", "string_too_long", None)
    assert error.rule == "String should have at most 64 characters"
    assert error.values == {"max_length": 64}
    # The file, the field and the limit, never the value.
    assert str(error) == f"{tmp_path / long_id}.yaml: id: {error.rule}"
    assert not is_destination_id(long_id)
    # Through the API and the CLI's definitions alike.
    with pytest.raises(DestinationFileError) as info:
        destination_from_mapping({**MINIMAL, "id": long_id}, source="api")
    assert (info.value.key, info.value.values) == ("id", {"max_length": 64})

    config = loaded(tmp_path, {**MINIMAL, "id": widest_id()})
    assert len(config.id) == 64 and is_destination_id(config.id)


def test_every_column_holding_a_destination_id_holds_the_widest_id_allowed() -> None:
    columns = [
        column
        for table in metadata.tables.values()
        for column in table.columns
        if column.name == "destination_id"
    ]
    # messages, destination_revisions and destination_pauses at least: the scan finds them.
    assert {column.table.name for column in columns} >= {
        "messages",
        "destination_revisions",
        "destination_pauses",
    }
    for column in columns:
        assert isinstance(column.type, String), column
        assert column.type.length is None or column.type.length >= MAX_ID, column


# --- providers: what an event's provider.id can hold --------------------------------------------


@pytest.mark.parametrize("provider", ["zh-\x00x", "\x00", "zh-\x01x", "zh\tnoord", "zh-\nx"])
def test_a_provider_with_a_control_character_is_refused_naming_providers(
    tmp_path: Path, provider: str
) -> None:
    error = refused(tmp_path, {**MINIMAL, "providers": ["ziekenhuis-noord", provider]})
    assert (error.key, error.code) == ("providers", "provider_control")
    assert error.rule == "provider ids must not hold control characters"
    assert str(error) == f"{tmp_path / 'lab-oost.yaml'}: providers: {error.rule}"
    assert provider not in str(error) and "zh" not in str(error)  # never the value
    assert error.values == {}


@pytest.mark.parametrize("character", [chr(c) for c in (*range(0x00, 0x20), 0x7F, 0x85, 0x9F)])
def test_each_control_character_is_refused_through_the_api_too(character: str) -> None:
    with pytest.raises(DestinationFileError) as info:
        destination_from_mapping({**MINIMAL, "providers": [f"zh{character}x"]}, source="api")
    assert (info.value.key, info.value.code) == ("providers", "provider_control")


def test_a_provider_entry_is_taken_exactly_when_an_event_may_carry_it() -> None:
    """The entries routing can match: what the schemas take as an event's ``provider.id``
    (``provider_id_format``), no more and no less, so any event's provider can be served."""
    event_provider = TypeAdapter(ProviderId)
    for code in (*range(0x00, 0x300), 0x2028, 0x200B, 0xFEFF, 0x1F600):
        provider = f"zh{chr(code)}x"
        try:
            event_provider.validate_python(provider)
            event_may = True
        except ValidationError:
            event_may = False
        if event_may:
            destination_from_mapping({**MINIMAL, "providers": [provider]}, source="api")
            continue
        with pytest.raises(DestinationFileError) as info:
            destination_from_mapping({**MINIMAL, "providers": [provider]}, source="api")
        assert (info.value.key, info.value.code) == ("providers", "provider_control"), hex(code)


# --- on PostgreSQL: the widest id works --------------------------------------------------------


@pytest.mark.postgres
async def test_on_postgresql_the_widest_id_takes_an_event_and_records_a_pause() -> None:
    config = destination_from_mapping({**MINIMAL, "id": widest_id()}, source="api")
    assert len(config.id) == MAX_ID
    async with postgres_site() as site:
        store = await site.open()
        try:
            message = make_message(destination_id=config.id)
            event = make_event(provider_id=config.providers[0])
            assert await store.accept_event(event, [message])
            stored = await store.get_message(message.id)
            assert stored is not None and stored.destination_id == config.id
            # Paused (``integrator destinations pause``), then the engine starts and sees it.
            assert await store.observe_enabled({config.id: False}, now=T0) == {}
            pause = await store.destination_pause(config.id)
            assert pause is not None and pause.paused_at == T0
            assert await store.observe_enabled({config.id: True}, now=T0) == {config.id: T0}
        finally:
            await store.close()
