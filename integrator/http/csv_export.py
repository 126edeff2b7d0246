"""How the API answers with a listing exported as CSV (``/messages.csv``, ``/events.csv``,
``/audit.csv``): a download, said so in the OpenAPI document too."""

from __future__ import annotations

from typing import Any

from fastapi import Response


def csv_responses(what: str) -> dict[int | str, dict[str, Any]]:
    """The route's ``responses`` for OpenAPI: a 200 of ``text/csv`` holding ``what``."""
    return {200: {"content": {"text/csv": {}}, "description": f"the {what} as CSV"}}


def csv_attachment(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
