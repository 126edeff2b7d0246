"""A body sent with a ``Content-Encoding`` other than ``identity`` is a 415 on every route that
takes a body, naming the header and the rule, with ``Accept-Encoding: identity``, before anything
is parsed or kept. No route decodes one: a gzip event was refused as no JSON and kept as rejected
input, and a ``br`` search whose bytes parsed was taken as if the header were not there."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from typing import Any

import httpx

from integrator.access import Grant, Role
from integrator.http.encoding import ENCODED
from tests.http.test_access import World, filled, world  # noqa: F401 (the fixture)

JSON = {"content-type": "application/json"}


def refused(answer: httpx.Response) -> bool:
    return (
        answer.status_code == 415
        and answer.json() == {"detail": ENCODED}
        and answer.headers["accept-encoding"] == "identity"
    )


async def test_an_encoded_event_is_refused_and_not_kept(
    world: World,  # noqa: F811
    referral_data: dict[str, Any],
) -> None:
    store = world.engine.store
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    raw = json.dumps(event).encode()
    rejected = await store.count_rejected()
    intake = await world.token(Grant(Role.INTAKE))
    async with world.client(intake) as upstream:
        for coding, body in (("gzip", gzip.compress(raw)), ("br", raw), ("GZIP, identity", raw)):
            answer = await upstream.post(
                "/api/v1/events", content=body, headers={**JSON, "content-encoding": coding}
            )
            assert refused(answer), (coding, answer.status_code, answer.text)
        assert await store.count_rejected() == rejected  # nothing of it kept
        assert await store.get_event(event["event_id"]) is None
        for coding in ("identity", ""):  # no coding at all
            taken = await upstream.post(
                "/api/v1/events", content=raw, headers={**JSON, "content-encoding": coding}
            )
            assert taken.status_code == 202, (coding, taken.text)
    async with world.client() as anonymous:  # who is asking comes first here
        answer = await anonymous.post(
            "/api/v1/events", content=raw, headers={**JSON, "content-encoding": "gzip"}
        )
        assert answer.status_code == 401


async def test_a_plain_body_declared_encoded_is_not_read_as_plain(
    world: World,  # noqa: F811
) -> None:
    async with world.client(world.everything) as client:
        body = json.dumps({"zd_number": "ZD000000001", "limit": 5})
        for coding in ("br", "deflate", "gzip"):
            answer = await client.post(
                "/api/v1/messages/search",
                content=body,
                headers={**JSON, "content-encoding": coding},
            )
            assert refused(answer), (coding, answer.status_code, answer.text)
        plain = await client.post("/api/v1/messages/search", content=body, headers=JSON)
        assert plain.status_code == 200, plain.text


async def test_every_route_that_takes_a_body_refuses_an_encoded_one(
    world: World,  # noqa: F811
) -> None:
    """Walked from the OpenAPI document: every operation with a request body, its 415 declared
    with the rule and ``Accept-Encoding``. Nothing is done: the destinations stay as they were."""
    before = sorted(p.name for p in world.engine.settings.destinations_dir.iterdir())
    async with world.client(world.everything) as client:
        document = (await client.get("/openapi.json")).json()
        checked = []
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if "requestBody" not in operation:
                    continue
                declared = operation["responses"]["415"]
                assert "Content-Encoding" in declared["description"], (method, path)
                assert declared["headers"]["Accept-Encoding"]["schema"]["enum"] == ["identity"]
                media = next(iter(operation["requestBody"]["content"]))
                answer = await client.request(
                    method,
                    filled(world, path),
                    content=gzip.compress(b'{"reason": "gzip"}'),
                    headers={"content-type": media, "content-encoding": "gzip"},
                )
                assert refused(answer), (method, path, answer.status_code, answer.text)
                checked.append((method, path))
    assert len(checked) >= 15
    assert sorted(p.name for p in world.engine.settings.destinations_dir.iterdir()) == before
