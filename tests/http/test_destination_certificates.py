"""``GET /api/v1/destinations/{id}`` says when the destination's certificates expire, as the
scrape's gauge and ``integrator destinations show --json`` do (``certificates_expire``), and
the OpenAPI document types it: before, an API client learnt of an expired client certificate
only when every delivery failed."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from integrator.http.routes.destinations import DestinationShown
from tests.destinations.certificate_files import not_after, tls_files
from tests.http.support import api_client
from tests.integrator.support import destination, engine_on_destinations, settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

SHOWN = "/api/v1/destinations/{destination_id}"


async def test_a_destination_s_answer_says_when_each_certificate_file_expires(
    tmp_path: Path,
) -> None:
    tls = tls_files(tmp_path / "pki")
    west = destination("west", 2599, providers=["lab-west"], tls=tls)
    plain = destination("zuid", 2599, providers=["lab-zuid"])
    async with (
        engine_on_destinations(settings_for(tmp_path), west, plain) as engine,
        api_client(engine) as api,
    ):
        shown = await api.get("/api/v1/destinations/west")
        without = await api.get("/api/v1/destinations/zuid")
        document = (await api.get("/openapi.json")).json()
    assert shown.status_code == 200, shown.text
    expire = shown.json()["certificates_expire"]
    assert {name: datetime.fromisoformat(at) for name, at in expire.items()} == {
        "cert_file": not_after(tls["cert_file"]),
        "ca_file": not_after(tls["ca_file"]),
    }
    # In UTC, as every time the API answers.
    assert all(datetime.fromisoformat(at).utcoffset() == timedelta(0) for at in expire.values())
    assert without.json()["certificates_expire"] == {}
    # The answer is what the document declares, key for key (``extra="forbid"``).
    DestinationShown.model_validate(shown.json())
    DestinationShown.model_validate(without.json())

    ok = document["paths"][SHOWN]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DestinationShown"
    }
    model = document["components"]["schemas"]["DestinationShown"]
    assert "certificates_expire" in model["required"]
    field = model["properties"]["certificates_expire"]
    assert field["additionalProperties"] == {"type": "string", "format": "date-time"}
    assert set(field["propertyNames"]["enum"]) == {"cert_file", "ca_file"}
    assert "14 days" in field["description"]
