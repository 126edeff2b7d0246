"""What a destination's page shows to whom: the server's file path is for who may change the
file (it says where the engine's configuration lies on the server), not for every viewer; so are
the refused hand edits kept beside the file, named as the list names them (and as the API's
``GET /api/v1/destinations/{id}`` gives them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.refused_edits import STAMP
from tests.console.test_saved_searches import signed_in
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def test_the_file_path_is_shown_to_who_may_change_the_destination_only(
    engine: Engine,
) -> None:
    path = str(engine.settings.destinations_dir)
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as viewer:
        shown = await viewer.get("/destinations/lab-west")
        assert shown.status_code == 200 and "lab-west" in shown.text
        assert path not in shown.text
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as operator:
        shown = await operator.get("/destinations/lab-west")
        assert shown.status_code == 200 and path in shown.text


async def test_the_refused_copies_kept_beside_its_file_are_named_on_its_page(
    engine: Engine,
) -> None:
    kept_at = datetime.now(UTC) - timedelta(days=3, hours=1)
    copy = engine.settings.destinations_dir / f"lab-west.yaml.{kept_at.strftime(STAMP)}.refused"
    copy.write_text("id: lab-west\nordring: fifo\n", encoding="utf-8")
    other = engine.settings.destinations_dir / f"noord.yaml.{kept_at.strftime(STAMP)}.refused"
    other.write_text("id: noord\n", encoding="utf-8")  # another file's: not this page's
    async with (
        signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as operator,
        signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as viewer,
        api_client(engine) as api,
    ):
        shown = await operator.get("/destinations/lab-west")
        assert shown.status_code == 200
        assert (
            f'<p class="notice refused-copies">lab-west: 1 refused hand edit kept beside its '
            f"file, the oldest 3 days old ({copy.name})" in shown.text
        )
        assert other.name not in shown.text
        hidden = await viewer.get("/destinations/lab-west")
        assert hidden.status_code == 200 and copy.name not in hidden.text
        [named] = (await api.get("/api/v1/destinations/lab-west")).json()["refused_copies"]
        assert named["file"] == copy.name and named["age_seconds"] >= 3 * 86400

        copy.unlink()
        cleared = await operator.get("/destinations/lab-west")
        assert cleared.status_code == 200 and "refused-copies" not in cleared.text
        assert (await api.get("/api/v1/destinations/lab-west")).json()["refused_copies"] == []


async def test_msh_15_16_are_shown_chosen_and_refused_beside_their_field(
    engine: Engine,
) -> None:
    from integrator.console.destination_form import form_of
    from tests.console.test_saved_searches import post

    async def values() -> dict[str, str]:
        view = await engine.admin.view("lab-west")
        return {**form_of(view.config).values, "revision": str(view.revision)}

    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as operator:
        shown = await operator.get("/destinations/lab-west")
        assert '<dd id="dest-ack-types">empty (original mode)</dd>' in shown.text
        form = await operator.get("/destinations/lab-west/edit")
        assert '<select id="f-application_ack_type" name="application_ack_type"' in form.text
        assert '<option value="">Default (NE)</option>' in form.text

        typed = {**await values(), "ack_mode": "enhanced", "application_ack_type": "AL"}
        saved = await post(operator, "/destinations/lab-west/edit", typed)
        assert saved.status_code == 303, saved.text
        config, _ = await engine.admin.get("lab-west")
        assert (config.accept_ack_type, config.application_ack_type) == (None, "AL")
        shown = await operator.get("/destinations/lab-west")
        assert '<dd id="dest-ack-types">AL (default) / AL</dd>' in shown.text

        # Back to original mode with MSH-16 still chosen: refused at its field, nothing saved.
        refused = await post(
            operator,
            "/destinations/lab-west/edit",
            {**typed, "revision": (await values())["revision"], "ack_mode": "original"},
        )
        assert refused.status_code == 422
        assert (
            'id="application_ack_type-error">application_ack_type: applies only with '
            "ack_mode: enhanced"
        ) in refused.text
        config, _ = await engine.admin.get("lab-west")
        assert config.ack_mode == "enhanced"


async def test_the_page_shows_the_timeouts_rate_limit_and_retry_policy_in_service(
    engine: Engine,
) -> None:
    """The edit form keeps retry and TLS as they are and says to change them in the file or the
    API; the page must then show what they are, or an operator learns the retry policy only by
    reading the file on the server (they were missing, with the timeouts and the rate limit)."""
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as viewer:
        shown = await viewer.get("/destinations/lab-west")
        assert '<dd id="dest-timeouts">1s / 2s</dd>' in shown.text
        assert '<dd id="dest-rate-limit">no limit</dd>' in shown.text
        assert (
            '<dd id="dest-retry">first after 50ms, each wait ×2 up to 200ms; gives up after '
            "5 attempts or 1h; ACK AE/CE: retry, AR/CR: deadletter</dd>"
        ) in shown.text
        assert '<dd id="dest-tls">no</dd>' in shown.text
    async with signed_in(engine, "vera.nl@example.org", Grant(Role.VIEWER), lang="nl") as lezer:
        shown = await lezer.get("/destinations/lab-west")
        assert "Mislukte pogingen opnieuw proberen" in shown.text
        assert '<dd id="dest-rate-limit">geen limiet</dd>' in shown.text
        assert "eerst na 50ms, elke wachttijd ×2 tot hoogstens 200ms" in shown.text


async def test_the_add_form_says_retry_and_tls_take_their_defaults_not_that_they_are_kept(
    engine: Engine,
) -> None:
    """A new destination has no retry or TLS settings to keep: the add form said they were
    "kept as they are", which told an operator adding one nothing of what it would get."""
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as operator:
        adding = await operator.get("/destinations-new")
        said = "take their defaults (retry from 2s, up to 20 attempts or 24h; no TLS)"
        assert said in adding.text
        assert "kept as they are" not in adding.text
        editing = await operator.get("/destinations/lab-west/edit")
        assert "Retry and TLS settings are kept as they are" in editing.text
    async with signed_in(engine, "otto.nl@example.org", Grant(Role.DESTINATIONS), lang="nl") as nl:
        adding = await nl.get("/destinations-new")
        assert "krijgen hun standaard (opnieuw vanaf 2s" in adding.text
