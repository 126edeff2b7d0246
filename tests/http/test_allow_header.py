"""A 405's ``Allow`` names every method its path takes (RFC 9110 §15.5.6), on every path of the
API: it named one route's method, ``DELETE`` where ``GET`` works too, so a client that believed it
never tried the ``GET``. ``HEAD`` is listed wherever ``GET`` is: every ``GET`` answers it."""

from __future__ import annotations

from collections import defaultdict

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from integrator.http.app import shared_app
from tests.http.test_access import UNKNOWN, World, filled, world  # noqa: F401 (the fixture)

TRIED = ("PATCH", "PUT", "DELETE", "POST", "GET")


def served_paths() -> dict[str, set[str]]:
    """Every path of the application and the methods its routes declare."""
    paths: dict[str, set[str]] = defaultdict(set)
    for context in iter_route_contexts(shared_app().routes):
        if isinstance(context.route, APIRoute):
            paths[context.route.path] |= context.route.methods or set()
    return paths


def allow(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


async def test_a_405_names_every_method_of_its_path(world: World) -> None:  # noqa: F811
    checked = 0
    async with world.client(world.everything) as api:
        for path, methods in served_paths().items():
            wrong = next(method for method in TRIED if method not in methods)
            url = filled(world, path.replace("{name}", "swagger-ui.css"))
            answer = await api.request(wrong, url)
            # Another route may take the path's text (``/messages/search`` is also a message
            # id to ``GET /messages/{message_id}``): its methods are the path's too.
            if answer.status_code != 405:
                continue
            expected = methods | ({"HEAD"} if "GET" in methods else set())
            assert allow(answer.headers["allow"]) >= expected, (wrong, path)
            assert answer.json() == {"detail": "Method Not Allowed"}
            checked += 1
    assert checked >= 30  # every path the API has, but a few whose text another route takes


async def test_a_path_with_get_and_delete_or_get_and_post_lists_them_all(
    api: httpx.AsyncClient,
) -> None:
    """The paths of the review: a destination (``GET``, ``PUT``, ``PATCH``, ``DELETE``) and the
    token listing (``GET``, ``POST``), in one fixed order."""
    destination = await api.post(f"/api/v1/destinations/{UNKNOWN}")
    assert destination.status_code == 405
    assert destination.headers["allow"] == "GET, HEAD, PUT, PATCH, DELETE"
    tokens = await api.delete("/api/v1/tokens")
    assert tokens.status_code == 405 and tokens.headers["allow"] == "GET, HEAD, POST"
    token = await api.get(f"/api/v1/tokens/{UNKNOWN}")
    assert token.status_code == 405 and token.headers["allow"] == "DELETE"
    # A path that takes both at once: another route's ``GET`` answers its text.
    search = await api.delete("/api/v1/messages/search")
    assert search.status_code == 405 and search.headers["allow"] == "GET, HEAD, POST"
