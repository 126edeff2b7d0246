"""How the API answers with a listing exported as CSV (``/messages.csv``, ``/events.csv``,
``/audit.csv``): a download, said so in the OpenAPI document too."""

from __future__ import annotations

from typing import Any

from fastapi import Response


def csv_responses(what: str, *, total: bool = False) -> dict[int | str, dict[str, Any]]:
    """The route's ``responses`` for OpenAPI: a 200 of ``text/csv`` holding ``what``; with
    ``total``, its ``X-Total-Count`` header (how many match in all, beyond ``limit``)."""
    ok: dict[str, Any] = {"content": {"text/csv": {}}, "description": f"the {what} as CSV"}
    if total:
        ok["headers"] = {
            "X-Total-Count": {
                "description": f"how many {what} the terms match in all, beyond limit",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return {200: ok}


def csv_attachment(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
