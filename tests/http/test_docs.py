"""``/docs`` works without internet access: every file the page loads comes from the engine."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def loaded_by(page: str) -> list[str]:
    """Every URL the page names: its src and href attributes and the document Swagger UI loads."""
    parser = _Links()
    parser.feed(page)
    return parser.urls + re.findall(r"\burl: '([^']*)'", page)


async def test_the_docs_page_loads_everything_from_the_engine(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs")
    assert response.status_code == 200
    page = response.text
    urls = loaded_by(page)
    assert len(urls) == 4  # style sheet, icon, script, OpenAPI document
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


async def test_only_swagger_uis_own_files_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/redoc")).status_code == 404  # ReDoc would load from a CDN
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py", "x"):
        assert (await api.get(f"/docs/assets/{name}")).status_code == 404, name
