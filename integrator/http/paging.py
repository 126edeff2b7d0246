"""The ``Link: rel="next"`` of a full page (``integrator.paging``): the same request with
``after`` set to the page's last item, so a client follows links without building them.

The link is relative (RFC 8288 resolves it against the request's own address): behind a
proxy the engine's idea of its host and scheme may be wrong, its path and query are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from fastapi import Request, Response

LINK: Final = "Link"


def next_page(request: Request, response: Response, ids: Sequence[object], limit: int) -> None:
    """Link the next page when this one is full (``limit`` items: there may be more); a page
    with fewer is the last, and links nothing."""
    if not ids or len(ids) < limit:
        return
    url = request.url.remove_query_params("offset").include_query_params(after=str(ids[-1]))
    response.headers[LINK] = f'<{url.path}?{url.query}>; rel="next"'


def paged_responses(what: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a listing that links its next page, for the document."""
    return {
        200: {
            "headers": {
                LINK: {
                    "description": (
                        f'when the page holds `limit` {what}, `<…&after=ID>; rel="next"`: the '
                        "same request for the next page (docs/support.md, 'Paging')"
                    ),
                    "schema": {"type": "string"},
                }
            }
        }
    }
