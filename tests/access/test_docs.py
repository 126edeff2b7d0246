"""docs/access.md shows the tables the code enforces; any drift fails here."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from integrator.access.permissions import render_matrix_markdown
from integrator.access.routes import (
    EVERY_CLUSTER,
    ROUTE_PERMISSIONS,
    SIGNED_IN,
    render_routes_markdown,
)
from integrator.http.app import shared_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def _between(text: str, name: str) -> str:
    start = f"<!-- {name}: generated from the code, do not edit -->\n"
    end = f"<!-- end of {name} -->"
    assert start in text and end in text, f"docs/access.md lacks the {name} markers"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_docs_matrix_equals_the_rendering_of_the_code() -> None:
    assert _between(DOC.read_text(encoding="utf-8"), "permission matrix") == (
        render_matrix_markdown()
    )


def test_docs_route_table_equals_the_rendering_of_the_code() -> None:
    assert _between(DOC.read_text(encoding="utf-8"), "route permissions") == (
        render_routes_markdown()
    )


def test_every_route_served_declares_exactly_one_permission() -> None:
    # Every route the application serves, the docs pages too: each must be in the table.
    app = shared_app()
    served: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute):
            assert context.route.methods is not None
            served.update((method, context.route.path) for method in context.route.methods)
    assert served == set(ROUTE_PERMISSIONS)
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= served
    public = {route for route, permission in ROUTE_PERMISSIONS.items() if permission is None}
    # docs/product.md §7: the probes, by GET or HEAD
    assert public == {
        (method, path) for method in ("GET", "HEAD") for path in ("/healthz", "/readyz")
    }
    signed_in = {route for route, needs in ROUTE_PERMISSIONS.items() if needs is SIGNED_IN}
    assert signed_in == {("GET", "/docs"), ("GET", "/docs/assets/{name}"), ("GET", "/openapi.json")}
    assert signed_in.isdisjoint(documented)
    assert set(ROUTE_PERMISSIONS) >= EVERY_CLUSTER
    assert all(ROUTE_PERMISSIONS[route] is not None for route in EVERY_CLUSTER)
