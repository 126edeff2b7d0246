"""The OpenAPI document declares the ``WWW-Authenticate: Bearer`` every 401 carries, on every
operation that needs a token, as it declares the 503's ``Retry-After``: a client generated from
it did not know the header was there to read."""

from __future__ import annotations

import httpx

from integrator.http.auth import UNAUTHENTICATED
from integrator.http.openapi import BEARER
from tests.http.test_access import World, filled, world  # noqa: F401 (the fixture)


async def test_every_operation_needing_a_token_declares_its_401_challenge(
    world: World,  # noqa: F811
) -> None:
    async with world.client(world.everything) as client:
        document = (await client.get("/openapi.json")).json()
    needing = [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == [{BEARER: []}]
    ]
    assert len(needing) >= 40
    async with world.client() as anonymous:
        for method, path, operation in needing:
            declared = operation["responses"]["401"]["headers"]["WWW-Authenticate"]
            assert declared["schema"] == {"type": "string", "enum": ["Bearer"]}, (method, path)
            answer: httpx.Response = await anonymous.request(method.upper(), filled(world, path))
            assert answer.status_code == 401, (method, path)
            assert answer.headers["www-authenticate"] in declared["schema"]["enum"]
            assert answer.json() == {"detail": UNAUTHENTICATED}
    open_ones = [
        operation
        for operations in document["paths"].values()
        for operation in operations.values()
        if "security" not in operation
    ]
    assert open_ones and all("401" not in operation["responses"] for operation in open_ones)
