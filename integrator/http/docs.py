"""``/docs``: Swagger UI served by the engine itself, so it works without internet access.

The engine runs in hospital networks that often reach no CDN. Swagger UI's script, style sheet
and icon come from the ``swagger-ui-bundle-v2`` package (a Python dependency, so they install
with the engine) and are served under ``/docs/assets/``; the page names no other host, and the
validator badge, which would call out to swagger.io, is off. ReDoc, which needs a CDN, is not
served.

The page, its files and the OpenAPI document (``/openapi.json``, served here rather than by
FastAPI, so the app's dependencies guard it like every route) need an authenticated identity:
an API token or a console session (``SIGNED_IN`` in ``integrator.access.routes``;
docs/product.md §7). A browser sends the session cookie with the page and with every file and
the document the page loads, all from this origin, so a signed-in person just opens ``/docs``.
"""

from __future__ import annotations

import functools
from typing import Final

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

PAGE: Final = "/docs"
ASSETS: Final = "/docs/assets"
OPENAPI: Final = "/openapi.json"
_FILES: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@functools.cache
def _asset(name: str) -> bytes:
    from swagger_ui_bundle import swagger_ui_path

    data: bytes = swagger_ui_path.joinpath(name).read_bytes()
    return data


def docs_router(app: FastAPI) -> APIRouter:
    """The Swagger UI page and its files, for ``app``'s OpenAPI document."""
    router = APIRouter(include_in_schema=False)

    @router.get(PAGE)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(OPENAPI)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get(ASSETS + "/{name}")
    async def swagger_ui_asset(name: str) -> Response:
        media_type = _FILES.get(name)
        if media_type is None:
            raise HTTPException(status_code=404, detail="no such file")
        return Response(
            _asset(name), media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )

    return router
