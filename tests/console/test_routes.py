"""Every console page says who may use it: a guard for pages added later.

Each route must depend on the visitor (so its POSTs are checked for the CSRF token and Origin);
apart from the few pages for signing in, each must need a signed-in person; and each of those
must ask for a permission with ``needs``, except the start page, which
sends a person to the first page they may use, and the tokens pages, where everybody makes
tokens of their own and the access service decides which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from integrator.console import create_console

OPEN = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/language"),
    # For the page's warning before its session ends: JSON, 401 when there is no session.
    ("GET", "/session/left"),
    ("POST", "/session/keep"),
    ("GET", "/invitation"),
    ("POST", "/invitation/open"),
    ("POST", "/invitation/accept"),
}
CHECKED_INSIDE = {
    ("GET", "/"),
    # Everybody signed in makes tokens of their own; the access service decides which grants.
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("POST", "/tokens/{token_id}/revoke"),
    # A second post of the token form lands here: the person's own confirmation only.
    ("GET", "/tokens/made/{confirmation_id}"),
    # Why one looks at patient data in this session: anybody signed in states it for their
    # own session (an export or an audit CSV records it as a view does).
    ("GET", "/reason"),
    ("POST", "/reason"),
}


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from calls(dependency)


def test_every_page_checks_its_visitor_and_what_they_may_do() -> None:
    console = create_console()
    routes = [
        context.route
        for context in iter_route_contexts(console.routes)
        if isinstance(context.route, APIRoute)
    ]
    assert len(routes) > len(OPEN)
    for route in routes:
        names = {getattr(c, "__qualname__", "") for c in calls(route.dependant)}
        assert route.methods is not None
        for method in route.methods:
            key = (method, route.path)
            assert "_visitor" in names, key
            if key in OPEN:
                continue
            assert "_person" in names, key
            if key not in CHECKED_INSIDE:
                assert "needs.<locals>.check" in names, key
