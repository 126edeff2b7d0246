"""A destination's revision as HTTP knows it: ``ETag`` on its answers, ``If-Match`` on a change
(the same check as ``?expected_revision``), and the refusal's time in UTC as all API times."""

from __future__ import annotations

import httpx
import pytest

from integrator.engine import Engine
from integrator.operators import DestinationChanged

URL = "/api/v1/destinations/noord"
WHY = {"x-integrator-reason": "tuning"}


async def _revision(api: httpx.AsyncClient) -> int:
    shown = await api.get(URL)
    assert shown.status_code == 200, shown.text
    revision = shown.json()["revision"]
    assert shown.headers["etag"] == f'"{revision}"'
    return int(revision)


async def test_a_change_to_a_revision_read_before_another_change_is_refused_by_if_match(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    read = await _revision(api)
    first = await api.patch(URL, json={"retry": {"max_attempts": 6}}, headers=WHY)
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == f'"{read + 1}"' == f'"{first.json()["revision"]}"'
    # A client that read ``read`` and writes back with standard HTTP: refused, nothing changed.
    late = await api.patch(
        URL, json={"retry": {"max_attempts": 7}}, headers={**WHY, "if-match": f'"{read}"'}
    )
    assert late.status_code == 409, late.text
    assert f"changed since revision {read}" in late.json()["detail"]
    assert await _revision(api) == read + 1
    # The API tells the time of the revision in between in UTC, as every time it answers...
    assert "+00:00 ('tuning')" in late.json()["detail"]
    # ...while the console and the CLI tell it in the engine's zone (Amsterdam, in winter).
    with pytest.raises(DestinationChanged) as refused:
        await engine.admin.patch(
            "noord", {"retry": {"max_attempts": 7}}, actor="cli:test", expected_revision=read
        )
    assert "+01:00 ('tuning')" in str(refused.value)
    # The revision it is at: made. A PUT answers its ETag too.
    now = await api.patch(
        URL, json={"retry": {"max_attempts": 7}}, headers={**WHY, "if-match": f'"{read + 1}"'}
    )
    assert now.status_code == 200, now.text
    assert now.headers["etag"] == f'"{read + 2}"'
    definition = (await api.get(URL)).json()["definition"]
    put = await api.put(URL, json=definition, headers={**WHY, "if-match": f'"{read + 2}"'})
    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False and put.headers["etag"] == f'"{read + 2}"'


@pytest.mark.parametrize(
    ("if_match", "query", "rule"),
    [
        ("3", "", "must be one entity tag"),
        ('W/"1"', "", "weak entity tag never matches"),
        ('"1", "2"', "", "must be one entity tag"),
        ('"1"', "?expected_revision=2", "If-Match names revision 1 and expected_revision 2"),
    ],
)
async def test_a_malformed_or_contradicting_if_match_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, if_match: str, query: str, rule: str
) -> None:
    read = await _revision(api)
    refused = await api.patch(
        URL + query, json={"retry": {"max_attempts": 9}}, headers={**WHY, "if-match": if_match}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("If-Match") and rule in refused.json()["detail"]
    assert await _revision(api) == read


async def test_an_unknown_key_in_a_destination_body_is_named_with_the_key_it_resembles(
    api: httpx.AsyncClient,
) -> None:
    """A destination's body is an operator's configuration, checked as its file is: the
    misspelt key is repeated with the one meant (docs/product.md §7, the one exception to
    unknown keys shown as ``…``), and nothing changes."""
    before = await _revision(api)
    typo = await api.patch(URL, json={"nme": "Noord", "retry": {"max_atempts": 6}}, headers=WHY)
    assert typo.status_code == 422, typo.text
    detail = typo.json()["detail"]
    assert "nme: unknown key (did you mean name?)" in detail
    assert "retry.max_atempts: unknown key (did you mean max_attempts?)" in detail
    assert await _revision(api) == before
