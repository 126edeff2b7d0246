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

The page has a Content-Security-Policy as strict as the console's (``CSP``): scripts, styles,
images and requests from this origin only, no inline script. So it carries none: FastAPI's
own page starts Swagger UI with an inline ``<script>``, which such a policy must refuse (or
allow by a hash, which changes with the page's ``root_path``); this page names
``/docs/assets/swagger-init.js`` instead, which reads where the OpenAPI document is from its
own ``data-openapi`` attribute. Should a page ever inject script or load a file from
elsewhere (a compromised or changed bundle), the browser refuses it.
"""

from __future__ import annotations

import functools
import html
from typing import Final

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

PAGE: Final = "/docs"
ASSETS: Final = "/docs/assets"
OPENAPI: Final = "/openapi.json"
_FILES: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
INIT: Final = "swagger-init.js"
"""The engine's own script that starts Swagger UI (no inline script: ``CSP``)."""
_INIT_SCRIPT: Final = b"""\
// Starts Swagger UI on the engine's /docs page: a file of its own, as the page's
// Content-Security-Policy allows no inline script. The OpenAPI document's address is this
// script tag's data-openapi attribute (it depends on where the engine is mounted).
(function () {
  "use strict";
  var openapi = document.currentScript.getAttribute("data-openapi");
  window.ui = SwaggerUIBundle({
    url: openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
"""Everything from this origin, nothing inline but the images Swagger UI's style sheet
carries as ``data:`` URIs (its icons)."""
_PAGE_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def swagger_page(title: str, root: str) -> str:
    """The page: Swagger UI's style sheet, icon and script, and ours that starts it."""
    assets = html.escape(f"{root}{ASSETS}", quote=True)
    openapi = html.escape(f"{root}{OPENAPI}", quote=True)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon-32x32.png">
<title>{html.escape(title)}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{INIT}" data-openapi="{openapi}"></script>
</body>
</html>
"""


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
        return HTMLResponse(swagger_page(f"{app.title} API", root), headers=_PAGE_HEADERS)

    @router.get(OPENAPI)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get(ASSETS + "/{name}")
    async def swagger_ui_asset(name: str) -> Response:
        if name == INIT:
            return Response(
                _INIT_SCRIPT,
                media_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"},
            )
        media_type = _FILES.get(name)
        if media_type is None:
            raise HTTPException(status_code=404, detail="no such file")
        return Response(
            _asset(name), media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )

    return router
