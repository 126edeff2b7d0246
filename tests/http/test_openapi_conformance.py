"""A short schemathesis run: what a few GET routes answer matches what the document declares.

The engine as its own process (as in ``test_fuzz``), a token holding every role for all
clusters; generated requests to a few GET routes, each answer checked for a declared status
and a body that validates against the declared schema (the refusals' shapes included).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.http.support import bearer, listening_engine, token_in_store

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

ROUTES = (
    "/api/v1/destinations/{destination_id}",
    "/api/v1/events/{event_id}",
    "/api/v1/messages/{message_id}",
    "/api/v1/jobs/{job_id}",
    "/api/v1/deadletters",
    "/readyz",
)
EXAMPLES = 10


def test_a_few_get_routes_answer_as_the_document_declares(env: dict[str, str]) -> None:
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], name="conformance"))
    base_url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    with listening_engine(env) as engine:
        with engine.answering():
            schema = schemathesis.openapi.from_url(
                f"{base_url}/openapi.json", headers=bearer(token)
            )
        failures: list[str] = []
        checked = 0
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operation = result.ok()
            if operation.method.upper() != "GET" or operation.path not in ROUTES:
                continue
            checked += 1

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: OpenApiCase) -> None:
                with engine.answering():
                    response = case.call(base_url=base_url, headers=bearer(token), timeout=30)
                try:
                    case.validate_response(
                        response, checks=[status_code_conformance, response_schema_conformance]
                    )
                except Exception as failure:  # schemathesis's FailureGroup, among others
                    failures.append(f"{case.method} {case.formatted_path}: {failure}"[:500])

            call()
        engine.process.terminate()
        assert engine.process.wait(30) == 0, engine.why_gone()
    assert checked == len(ROUTES)
    assert failures == []
