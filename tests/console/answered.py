"""A test client's transport that follows a kept answer as a browser does.

A console form's page answer is kept and redirected to (``integrator.console.answers``): the
browser follows the 303 to ``…?answer=<handle>`` and shows the page. The in-process tests
about what such a page says (a refusal in Dutch, the form kept) read it through this
transport, which follows exactly that redirect with the request's own cookies and language,
and nothing else (a request with ``extensions=NOT_FOLLOWED`` not even that): a POST that acts
and redirects to its result is still seen as its 303.
``tests/console/test_post_redirect_get.py`` checks the redirect itself, with a plain client.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.types import ASGIApp

from integrator.console.answers import FIELD

_CARRIED = ("cookie", "accept-language", "hx-request")
FOLLOW = "follow_answers"
"""A request's extension: ``False`` leaves the 303 as it is (``NOT_FOLLOWED``)."""
NOT_FOLLOWED = {FOLLOW: False}


def kept_answer(location: str) -> bool:
    """Whether a redirect's ``location`` is a kept answer's address."""
    return FIELD in parse_qs(urlsplit(location).query)


class FollowingAnswers(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        location = response.headers.get("location", "")
        if request.method != "POST" or response.status_code != 303 or not kept_answer(location):
            return response
        if not request.extensions.get(FOLLOW, True):
            return response
        await response.aread()
        headers = {k: v for k, v in request.headers.items() if k.lower() in _CARRIED}
        shown = await self._inner.handle_async_request(
            httpx.Request("GET", request.url.join(location), headers=headers)
        )
        await shown.aread()
        return shown


def transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    return FollowingAnswers(app)
