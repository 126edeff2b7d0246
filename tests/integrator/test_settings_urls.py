"""Malformed broker and store URLs are refused where the settings are read: one line naming
the variable and the rule, exit 2, never the password. ``INTEGRATOR_AMQP_URL=amqp//…`` used to
reconnect for 10 s and end in a traceback from the AMQP library."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from integrator.cli import app
from integrator.settings import Settings
from integrator.store import url as store_url
from integrator.urlcheck import DATABASE_SCHEMES

PASSWORD = "s3cr3t-pw"

BAD_AMQP = {
    f"amqp//guest:{PASSWORD}@127.0.0.1": "no '://'",
    f"http://guest:{PASSWORD}@127.0.0.1/": "unknown scheme 'http'",
    f"amqp://guest:{PASSWORD}@/": "no host",
    f"amqp://guest:{PASSWORD}@127.0.0.1:99999/": "port",
    f"amqp://guest:{PASSWORD}@127.0.0.1:five/": "port",
    f"amqp://guest:{PASSWORD}@127.0.0.1:0/": "port",
    f"amqp://guest:{PASSWORD}@[::1/": "host",
}

BAD_DATABASE = {
    f"postgresql//u:{PASSWORD}@h/db": "no '://'",
    "mysql://u@h/db": "unknown scheme 'mysql'",
    f"postgresql+asyncpg://u:{PASSWORD}@h:99999/db": "port",
    # A query key asyncpg has no equivalent for used to end in a TypeError traceback.
    f"postgresql://u:{PASSWORD}@h/db?bogus=1": (
        "unknown query key 'bogus' in the PostgreSQL URL: the keys accepted are sslmode, ssl, "
        "sslrootcert, sslcert, sslkey, sslcrl, sslpassword, application_name, connect_timeout"
    ),
    f"postgresql://u:{PASSWORD}@h/db?sslmode=requir": (
        "sslmode: one of disable, allow, prefer, require, verify-ca, verify-full"
    ),
    f"postgresql://u:{PASSWORD}@h/db?connect_timeout=soon": "connect_timeout: a whole number",
    # A SQLite URL's query was silently ignored: a mode or timeout given there did nothing.
    "sqlite:///var/integrator.db?mode=ro": "a SQLite store takes no query after '?'",
    # A slash short: the path's first part is a host, which SQLAlchemy dropped.
    "sqlite://srv/integrator/integrator.db": "a SQLite URL names a file, never a host",
    "sqlite+aiosqlite://var/integrator.db": "a SQLite URL names a file, never a host",
    f"postgresql://u:{PASSWORD}@h/db?sslmode=require&ssl=disable": "say different things",
    # A '?' in a password not percent-encoded: what follows it reads as the query, never
    # quoted (it holds the rest of the password).
    f"postgresql://u:pa?{PASSWORD}@h/db": "the query after '?' cannot be read",
    f"postgresql://u:pa?{PASSWORD}@h/db=1": "unknown query key in the PostgreSQL URL:",
}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db.example/integrator?sslmode=require",
        "postgresql+asyncpg://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/c",
        "postgres://h/db?application_name=integrator-2&connect_timeout=10",
        "postgresql+asyncpg://u:p@h/db?ssl=require",  # asyncpg's own name, as deploy.md had it
    ],
)
def test_the_libpq_keys_asyncpg_has_an_equivalent_for_pass(url: str) -> None:
    assert Settings(database_url=url).database_url == url


@pytest.mark.parametrize(("url", "rule"), BAD_AMQP.items())
def test_a_malformed_amqp_url_is_refused(url: str, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(amqp_url=url)
    assert rule in str(refused.value)
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@127.0.0.1:5672/",
        "amqps://u:p@rabbit.example.nl/vhost",
        "amqp://rabbitmq",
        "AMQP://guest@[::1]:5672/",
    ],
)
def test_well_formed_amqp_urls_pass(url: str) -> None:
    assert Settings(amqp_url=url).amqp_url == url


@pytest.mark.parametrize(("url", "rule"), BAD_DATABASE.items())
def test_a_malformed_database_url_is_refused(url: str, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=url)
    assert rule in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_the_schemes_are_the_stores_drivers() -> None:
    """The settings check the scheme without loading SQLAlchemy; the two lists must agree."""
    assert set(DATABASE_SCHEMES) == set(store_url._DRIVERS)


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("INTEGRATOR_AMQP_URL", f"amqp//guest:{PASSWORD}@127.0.0.1"),
        ("INTEGRATOR_DATABASE_URL", f"postgresql//u:{PASSWORD}@h/db"),
        ("INTEGRATOR_DATABASE_URL", f"postgresql://u:{PASSWORD}@h/db?bogus=1"),
    ],
)
def test_run_refuses_it_in_one_line_with_exit_2(tmp_path: Path, variable: str, url: str) -> None:
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/integrator.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        variable: url,
    }
    result = CliRunner().invoke(app, ["run"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: bad settings: {variable}: ")
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("htps://integrator.example.nl", "unknown scheme 'htps': use http:// or https://"),
        ("integrator.example.nl", "not a URL (no '://')"),
        ("https://", "no host"),
        ("https://integrator.example.nl:99999", "port"),
        ("https://integrator.example.nl/?next=x", "only a scheme, a host, a port and a path"),
    ],
)
def test_a_public_url_people_cannot_open_is_refused(url: str, rule: str) -> None:
    """It goes into every invitation link: a typo made links that open nothing."""
    with pytest.raises(ValidationError) as refused:
        Settings(public_url=url)
    assert rule in str(refused.value)


@pytest.mark.parametrize(
    "url", ["https://integrator.example.nl", "http://10.0.0.5:8080", "https://h.example/integrator"]
)
def test_a_public_url_with_a_host_passes(url: str) -> None:
    assert Settings(public_url=url).public_url == url


def test_users_create_admin_refuses_a_bad_public_url_naming_it(tmp_path: Path) -> None:
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/integrator.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_PUBLIC_URL": "htps://integrator.example.nl",
    }
    result = CliRunner().invoke(app, ["users", "create-admin", "admin@example.nl"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: bad settings: INTEGRATOR_PUBLIC_URL: ")
    assert not (tmp_path / "integrator.db").exists()  # nothing made
