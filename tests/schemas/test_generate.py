"""The JSON Schema files on disk are what the models generate, and describe the samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.generate import render_schemas, write_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def test_generated_files_are_the_committed_files() -> None:
    rendered = render_schemas()
    assert set(rendered) == {"referral.schema.json", "diagnostic_request.schema.json"}
    for filename, text in rendered.items():
        path = SCHEMA_DIR / filename
        assert path.exists(), f"{filename} is missing: run `make schemas`"
        assert path.read_text(encoding="utf-8") == text, (
            f"schemas/{filename} is stale: run `make schemas` and commit the result"
        )


def test_rendering_is_stable() -> None:
    assert render_schemas() == render_schemas()
    for text in render_schemas().values():
        assert text.endswith("}\n")
        schema = json.loads(text)
        assert list(schema) == sorted(schema)


def test_write_schemas_writes_rendered_text(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert {path.name for path in written} == set(render_schemas())
    for path in written:
        assert path.read_text(encoding="utf-8") == render_schemas()[path.name]


@pytest.mark.parametrize(
    ("filename", "event_type", "extra_required"),
    [
        ("referral.schema.json", "referral", {"care_question", "letter"}),
        ("diagnostic_request.schema.json", "diagnostic_request", {"tests"}),
    ],
)
def test_schema_content(filename: str, event_type: str, extra_required: set[str]) -> None:
    schema: dict[str, Any] = json.loads(render_schemas()[filename])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["type"]["const"] == event_type
    assert {
        "event_id",
        "schema_version",
        "zd_number",
        "created_at",
        "patient",
    } | extra_required <= set(schema["required"])
    assert schema["properties"]["zd_number"]["pattern"] == "^ZD[0-9]{9}$"
    # A pattern, not format date-time, which has T only (tests/schemas/test_schema_agreement.py).
    assert "[Tt ]" in schema["properties"]["created_at"]["pattern"]
    patient = schema["$defs"]["Patient"]
    assert patient["additionalProperties"] is False
    assert patient["properties"]["bsn"]["anyOf"][0]["pattern"] == "^[0-9]{9}$"
