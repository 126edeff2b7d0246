"""Write the JSON Schema files of the intake events (`make schemas`).

The files are generated, not written by hand, so they cannot disagree with the validator;
a test compares them with `render_schemas()` so a model change without regeneration fails CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from pydantic import BaseModel

from schemas.diagnostic import DiagnosticRequest
from schemas.referral import Referral

SCHEMA_DIR: Final = Path(__file__).resolve().parent
_MODELS: Final[dict[str, type[BaseModel]]] = {
    "referral.schema.json": Referral,
    "diagnostic_request.schema.json": DiagnosticRequest,
}
_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"


def render_schemas() -> dict[str, str]:
    """File name -> file text; sorted keys and a trailing newline keep diffs small and stable."""
    rendered: dict[str, str] = {}
    for filename, model in _MODELS.items():
        schema = {"$schema": _DRAFT, **model.model_json_schema()}
        rendered[filename] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return rendered


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for filename, text in render_schemas().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    for path in write_schemas():
        print(f"wrote {path.name}")


if __name__ == "__main__":
    main()
