"""A bounded schemathesis run over the OpenAPI document: no request makes the engine answer 5xx.

``integrator run`` as its own process (real store, real port, a real destination), called with
a token holding every role for all clusters, so requests get past authentication into each
route. A few generated cases per operation, no deadline per case (the machine may be loaded),
derandomized so a failure repeats; the whole run takes seconds. What is checked is only
"not a server error": routes answer 4xx for what they refuse, and their refusals are tested
one by one elsewhere.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok

from destinations.config import dump_destination
from integrator.access.routes import ROUTE_PERMISSIONS
from tests.http.support import bearer, listening_engine, token_in_store
from tests.integrator.support import destination

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

KEY = "a-test-search-key-of-enough-length"
EXAMPLES = 5


def test_no_generated_request_makes_the_engine_fail(env: dict[str, str]) -> None:
    env["INTEGRATOR_SEARCH_KEY"] = KEY
    config = destination("noord", 2599, providers=["ziekenhuis-noord"], cluster="CARD")
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(dump_destination(config))
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], name="fuzz"))
    base_url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    with listening_engine(env) as engine:
        with engine.answering():
            schema = schemathesis.openapi.from_url(
                f"{base_url}/openapi.json", headers=bearer(token)
            )
        failures: list[str] = []
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operations.append(result.ok())
        assert (
            len(operations) == len(ROUTE_PERMISSIONS) - 3
        )  # every route but the docs pages and document

        for operation in operations:

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
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code} "
                        f"{response.text[:200]}"
                    )

            call()
        engine.process.terminate()
        assert engine.process.wait(30) == 0, engine.why_gone()
    assert failures == []
