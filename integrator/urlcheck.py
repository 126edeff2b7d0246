"""The shape of the broker's and the store's URL, checked where settings are read.

A malformed URL used to get as far as the first connection: ``integrator run`` retried the
broker for 10 s and ended in a traceback from the AMQP library. Checked with the settings, it
is one line naming the variable and the rule (exit 2). The messages never repeat the URL:
it may carry a password. Only :mod:`urllib.parse` is used: the settings are read by every
command, ``integrator health`` too, which must not load the store's libraries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import SplitResult, parse_qsl, urlsplit

AMQP_SCHEMES = ("amqp", "amqps")

DATABASE_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgres", "postgresql", "postgresql+asyncpg")
"""The drivers ``integrator.store.url.resolve`` knows (it maps them to the async ones)."""

_PLAIN_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
"""libpq's ``sslmode`` values; asyncpg's ``ssl`` takes the same names with the same meanings."""

POSTGRES_QUERY_KEYS = (
    "sslmode",
    "ssl",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "application_name",
    "connect_timeout",
)
"""The libpq connection parameters a PostgreSQL store URL may carry: those people paste from
libpq or psql examples that asyncpg has an equivalent for (``integrator.store.url`` maps
them; ``ssl`` is asyncpg's own name for ``sslmode``, which docs/deploy.md used to give). Any
other key would reach asyncpg as an unknown keyword and end in a traceback."""


def amqp_url_problem(url: str) -> str | None:
    """Why ``url`` is no broker URL (``amqp[s]://[user[:password]@]host[:port][/vhost]``), or
    None. The broker needs a host: the AMQP library's default would hide a typo."""
    parts, problem = _split(url, AMQP_SCHEMES, "amqp://USER:PASSWORD@HOST:5672/")
    if problem is not None or parts is None:
        return problem
    if not parts.hostname:
        return "no host: use amqp://USER:PASSWORD@HOST:5672/ (or amqps://)"
    return _port_problem(parts)


def public_url_problem(url: str) -> str | None:
    """Why ``url`` is no address people can open (``https://HOST[:PORT][/PATH]``), or None.

    It goes into every invitation and reset link: ``htps://…`` or a bare host name made links
    that open nothing, found out only by the person who got one."""
    parts, problem = _split(url, ("http", "https"), "https://integrator.example.nl")
    if problem is not None or parts is None:
        return problem
    if not parts.hostname:
        return "no host: use https://HOST (the address people open the console at)"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "only a scheme, a host, a port and a path: use https://HOST[:PORT][/PATH]"
    return _port_problem(parts)


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is no store URL, or None. Only the form: whether the store is there and
    answers is found out on opening it (``integrator.store.url.resolve`` checks the rest)."""
    example = "sqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB"
    parts, problem = _split(url, DATABASE_SCHEMES, example)
    if problem is not None or parts is None:
        return problem
    if parts.scheme.lower().startswith("sqlite") and parts.netloc:
        return SQLITE_HOST_RULE
    if parts.scheme.lower().startswith("sqlite") and parts.query:
        return SQLITE_QUERY_RULE
    if parts.scheme.lower().startswith("postgres") and parts.query:
        try:
            query = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
        except ValueError:  # its message would quote the query, which may hold a password
            return (
                "the query after '?' cannot be read: use ?KEY=VALUE&KEY=VALUE "
                "(a '?' in the password is written %3F)"
            )
        problem = postgres_query_problem(query)
        if problem is not None:
            return problem
    return _port_problem(parts)


SQLITE_HOST_RULE = (
    "a SQLite URL names a file, never a host: three slashes before a relative path "
    "(sqlite:///var/integrator.db), four before an absolute one "
    "(sqlite:////srv/integrator/integrator.db)"
)
"""``sqlite://srv/integrator/integrator.db`` (a slash short) names the host ``srv``: SQLAlchemy
dropped it, the engine made ``integrator/integrator.db`` below the working directory, with its
search key beside it, and then stopped in a traceback; a reading command looked for a store
there. The settings and the store refuse it in these words, naming neither part of the URL."""

SQLITE_QUERY_RULE = "a SQLite store takes no query after '?': give only sqlite:///PATH"
"""Nothing reads a SQLite URL's query: a mode or timeout given there would be ignored. The
settings and the store (opened without settings by tools and tests) refuse it in these words."""


def postgres_query_problem(query: Mapping[str, str]) -> str | None:
    """Why the query of a PostgreSQL URL cannot be used, or None: a key asyncpg has no
    equivalent for, an ``sslmode`` libpq does not know, a ``connect_timeout`` that is no
    number of seconds. Names the key and the rule, never a value (``sslpassword`` is one)."""
    for key, value in query.items():
        if key not in POSTGRES_QUERY_KEYS:
            shown = f" {key!r}" if _PLAIN_KEY.fullmatch(key) else ""
            return (
                f"unknown query key{shown} in the PostgreSQL URL: "
                f"the keys accepted are {', '.join(POSTGRES_QUERY_KEYS)}"
            )
        if key in ("sslmode", "ssl") and value not in SSL_MODES:
            return f"{key}: one of {', '.join(SSL_MODES)}"
        if key == "connect_timeout" and not (value.isdigit() and 0 < int(value) <= 86_400):
            return "connect_timeout: a whole number of seconds from 1 to 86400"
    if query.get("ssl", query.get("sslmode")) != query.get("sslmode", query.get("ssl")):
        return "sslmode and ssl say different things: give one of them"
    return None


URL_PROBLEMS: Final[Mapping[str, Callable[[str], str | None]]] = {
    "amqp_url": amqp_url_problem,
    "database_url": database_url_problem,
    "public_url": public_url_problem,
}
"""The check of each URL setting, by its field name in ``Settings``."""


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]{1,40}")
"""A query key shown in a refusal: plain and short, so never a pasted secret."""


def _split(
    url: str, schemes: tuple[str, ...], example: str
) -> tuple[SplitResult | None, str | None]:
    scheme, sep, _ = url.partition("://")
    if not sep:
        return None, f"not a URL (no '://'): use {example}"
    if scheme.lower() not in schemes:
        # The scheme holds no password (it ends before '://'), but a long one may be a pasted
        # URL that lost its '://' later on: name it only when it is short and plain.
        shown = f" {scheme!r}" if _PLAIN_SCHEME.fullmatch(scheme) else ""
        return None, f"unknown scheme{shown}: use {' or '.join(s + '://' for s in schemes)}"
    try:
        return urlsplit(url), None
    except ValueError:  # an unbalanced '[' of an IPv6 host; its message would quote the URL
        return None, f"the host cannot be read: use {example}"


def _port_problem(parts: SplitResult) -> str | None:
    try:
        port = parts.port
    except ValueError:  # not a number, or beyond 65535; the message would quote the port only
        return "the port must be a number from 1 to 65535"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None
