"""``/docs`` works without internet access: every file the page loads comes from the engine.

And like every route but the probes (docs/product.md §7) it needs an identity: any API token,
whatever its roles, or a console session (``tests/console/test_session.py``); without one the
page, its files and the OpenAPI document answer 401, and a browser is sent to sign in."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.http.auth import UNAUTHENTICATED
from tests.http.support import api_client, token_for

DOCS = (
    "/docs",
    "/docs/assets/swagger-ui.css",
    "/docs/assets/swagger-ui-bundle.js",
    "/openapi.json",
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {"src", "href", "data-openapi"}  # the last: the document Swagger UI loads
        self.urls += [value for name, value in attrs if name in named and value]
        if tag == "script" and not dict(attrs).get("src"):
            self.inline_scripts += 1


def loaded_by(page: str) -> list[str]:
    """Every URL the page names: its src and href attributes and the document Swagger UI loads."""
    parser = _Links()
    parser.feed(page)
    assert parser.inline_scripts == 0  # the policy would refuse one (test_docs_csp_browser)
    return parser.urls


async def test_the_docs_page_loads_everything_from_the_engine(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs")
    assert response.status_code == 200
    page = response.text
    urls = loaded_by(page)
    assert len(urls) == 5  # style sheet, icon, Swagger UI, its start, OpenAPI document
    assert re.search(r"(https?:)?//\w", page) is None  # no other host, in any form
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", "") and url.startswith("/"), url
        loaded = await api.get(url)
        assert loaded.status_code == 200 and loaded.content, url
    script = await api.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert (await api.get("/openapi.json")).json()["info"]["title"] == "Integrator"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "unsafe" not in policy


async def test_only_swagger_uis_own_files_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/redoc")).status_code == 404  # ReDoc would load from a CDN
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py", "x"):
        assert (await api.get(f"/docs/assets/{name}")).status_code == 404, name


async def test_without_an_identity_the_docs_answer_401(app: EngineApp) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as anonymous:
        for url in DOCS:
            for headers in ({}, {"authorization": "Bearer itg_" + "x" * 43}):
                answer = await anonymous.get(url, headers=headers)
                assert answer.status_code == 401, url
                assert answer.json() == {"detail": UNAUTHENTICATED}
                assert "swagger" not in answer.text.lower() and "paths" not in answer.text
        # A person opening the page in a browser is sent to sign in, and brought back.
        page = await anonymous.get("/docs", headers={"accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2Fdocs"
        # Whatever was typed into its address stays behind: not into a Location header.
        for typed in ("/docs?bsn=999990019", "/openapi.json?naam=Jan%20van%20der%20Berg"):
            page = await anonymous.get(typed, headers={"accept": "text/html"})
            assert page.status_code == 303
            location = page.headers["location"]
            assert "999990019" not in location and "Berg" not in location, location
            assert location in ("/login?next=%2Fdocs", "/login?next=%2Fopenapi.json")


@pytest.mark.parametrize("role", [Role.INTAKE, Role.VIEWER, Role.METRICS])
async def test_a_token_with_any_role_reads_the_docs(engine: Engine, role: Role) -> None:
    async with api_client(engine, await token_for(engine, Grant(role))) as client:
        for url in DOCS:
            assert (await client.get(url)).status_code == 200, (role, url)
