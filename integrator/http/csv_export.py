"""How the API answers with a listing exported as CSV (``/messages.csv``, ``/events.csv``,
``/audit.csv``): a download, said so in the OpenAPI document too.

The three page as their JSON listings do (docs/support.md, 'Paging'): ``limit``, and ``after``
(the last row's id) or ``offset``, a full page linking the next in ``Link: rel="next"``. Each
page is an export of its own, audited with where it started. A ``HEAD`` exports nothing
(``integrator.http.head``): no rows are read and nothing is audited, and its answer has the
headers a ``GET`` would have but those only the file determines (``Content-Length``, ``Link``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from integrator.exports import ExportPage
from integrator.http.head import head_only
from integrator.http.paging import next_page, paged_responses

MEDIA_TYPE = "text/csv; charset=utf-8"


def csv_responses(what: str, *, total: bool = False) -> dict[int | str, dict[str, Any]]:
    """The route's ``responses`` for OpenAPI: a 200 of ``text/csv`` holding ``what``, a full
    page linking the next (``paging.paged_responses``); with ``total``, its ``X-Total-Count``
    header (how many match in all, beyond ``limit``)."""
    ok: dict[str, Any] = {"content": {"text/csv": {}}, "description": f"the {what} as CSV"}
    ok["headers"] = dict(paged_responses(what)[200]["headers"])
    if total:
        ok["headers"]["X-Total-Count"] = {
            "description": f"how many {what} the terms match in all, beyond limit",
            "schema": {"type": "integer", "minimum": 0},
        }
    return {200: ok}


def csv_attachment(text: str, filename: str) -> Response:
    return Response(
        text, media_type=MEDIA_TYPE, headers={"content-disposition": _attachment(filename)}
    )


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def csv_head(filename: str) -> Response:
    """A ``HEAD``'s answer: the file's headers without the file, and without a
    ``Content-Length`` (only the file could tell it; 0 would be wrong)."""
    response = Response(
        media_type=MEDIA_TYPE, headers={"content-disposition": _attachment(filename)}
    )
    del response.headers["content-length"]
    return response


async def csv_page(
    request: Request, filename: str, limit: int, export: Callable[[], Awaitable[ExportPage]]
) -> Response:
    """The answer to an export's request: ``export``'s page as the file, linking the next page
    when it is full (``limit`` rows); for a ``HEAD``, ``csv_head``, and ``export`` is not
    called (nothing read, nothing audited)."""
    if head_only(request):
        return csv_head(filename)
    page = await export()
    response = csv_attachment(page.text, filename)
    next_page(request, response, page.ids, limit)
    return response
