"""Engine settings, read once at start from ``INTEGRATOR_*`` environment variables.

Settings are passed down explicitly; nothing reads the environment later, so tests build a
``Settings`` object and get exactly that behaviour.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mappings.context import MAX_PLATFORM_AUTHORITY

if TYPE_CHECKING:
    from integrator.store.sealing import Sealer

MIN_SEARCH_KEY = 16
"""The shortest ``INTEGRATOR_SEARCH_KEY`` accepted.

There is no default key: one everybody knows lets a BSN hash be reversed by trying every BSN.
Unset, ``integrator.searchkey.resolve_search_key`` finds the store's own random key.
"""
EXAMPLE_SEARCH_KEYS: Final = frozenset({"change-me-to-at-least-16-characters"})
"""The placeholders the project's example settings files hold (``deploy.env.example``)."""
MIN_DISTINCT_IN_SEARCH_KEY = 8
"""A search key of fewer different characters (``aaaaaaaaaaaaaaaa``) is taken for no random one:
``openssl rand -hex 32`` gives 16, a generated key file as many."""


AUDIT_SETTING = "INTEGRATOR_RETAIN_AUDIT_DAYS"
DEFAULT_AUDIT_DAYS = 1826
"""Five years (with a leap day): NEN 7513's minimum for logs of access to patient records."""

MAX_RETAIN_DAYS = 36525
"""The longest retention period accepted, in days: a hundred years. A longer one reaches back
before the calendar's start (``datetime`` stops at year 1): every prune then failed, the daily
one in the log only, every 15 minutes, and ``integrator prune`` with a traceback, so nothing
was pruned at all, not even what expires by itself. ``0`` is how to keep a kind for ever."""


def retention_period_problem(days: int) -> str | None:
    """Why a retention period of ``days`` is refused, if it is (above ``MAX_RETAIN_DAYS``)."""
    if days <= MAX_RETAIN_DAYS:
        return None
    return f"at most {MAX_RETAIN_DAYS} days (100 years); 0 keeps that kind of data for ever"


SETTINGS = {
    "payload_days": "INTEGRATOR_RETAIN_PAYLOAD_DAYS",
    "dead_letter_days": "INTEGRATOR_RETAIN_DEAD_LETTER_DAYS",
    "rejected_days": "INTEGRATOR_RETAIN_REJECTED_DAYS",
    "unrouted_days": "INTEGRATOR_RETAIN_UNROUTED_DAYS",
    "audit_days": AUDIT_SETTING,
}
"""Each period's environment variable, for messages that tell an operator what to change."""


def audit_period_problem(audit_days: int, others: dict[str, int]) -> str | None:
    """Why ``audit_days`` is refused next to the ``others`` periods (by field name), if it is.

    The audit trail is kept at least as long as the longest other period, so no entry goes
    while the data it describes is still there. 0 (for ever) always fits; another period of 0
    keeps its data for ever but forces nothing: otherwise the audit trail could never be pruned.
    """
    if audit_days == 0:
        return None
    finite = {name: days for name, days in others.items() if days > 0}
    if not finite:
        return None
    longest = max(finite, key=lambda name: finite[name])
    if audit_days >= finite[longest]:
        return None
    days = f"{audit_days} day{'' if audit_days == 1 else 's'}"  # the longest is 2 at least
    return (
        f"{AUDIT_SETTING} is {days}, shorter than {SETTINGS[longest]} "
        f"({finite[longest]} days): the audit trail must be kept at least as long as the longest "
        "other retention period (or 0: for ever)"
    )


PREFIX = "INTEGRATOR_"

OTHER_VARIABLES = frozenset({"INTEGRATOR_TOKEN", "INTEGRATOR_EVENT_LOOP"})
"""The ``INTEGRATOR_*`` variables read outside ``Settings``, exactly as written: the CLI's API
token (``integrator.engine_api.TOKEN_VARIABLE``) and the event loop (``integrator.eventloop``)."""


class Settings(BaseSettings):
    # Inputs stay out of error texts: they may be keys (INTEGRATOR_DATA_KEYS, _SEARCH_KEY).
    # Variables that are no setting are not ignored in silence: ``unknown_variables`` names
    # them, and every command that reads the settings refuses them (integrator.cli.common).
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, frozen=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite:///var/integrator.db"
    amqp_url: str | None = None
    amqp_prefix: str = "integrator"
    destinations_dir: Path = Path("config/destinations")
    # The directory the TLS files a change through the API or the console names must lie in
    # (``destinations.tls_dir``). Unset: ``tls`` beside the destinations directory.
    tls_dir: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # HTTPS for the API: a PEM certificate (chain) and its private key, both or neither.
    http_tls_cert_file: Path | None = None
    http_tls_key_file: Path | None = None
    sending_application: str = "INTEGRATOR"
    sending_facility: str = ""
    # The ZD number's assigning authority; placer numbers <zd>^<authority> must fit 22 characters.
    platform_authority: str = Field(
        default="ZORGDOMEIN", min_length=1, max_length=MAX_PLATFORM_AUTHORITY
    )
    timezone: str = "Europe/Amsterdam"
    # Large batches of events validated and mapped in a process beside the engine, on a core
    # of their own (integrator.prepare_process): only where a core is to spare.
    prepare_process: bool = False
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The HMAC key of the BSN search column; never logged (SecretStr hides it in reprs).
    # Unset: the store's own key, filled in by ``integrator.searchkey.resolve_search_key``.
    search_key: SecretStr | None = None
    # Where ``search_key`` was read from when it came from the store's key file (no setting):
    # set by ``with_key_file``, named when the store refuses the key (``store_for``).
    _search_key_file: Path | None = PrivateAttr(default=None)
    # The keys sealing payloads at rest, current first (integrator.datakeys); never logged.
    # Unset: payloads are stored as given.
    data_keys: SecretStr | None = None
    # Retention in days (docs/operators.md, "Data lifecycle"); 0 keeps that kind for ever.
    retain_payload_days: int = Field(default=90, ge=0)  # delivered messages, their events
    retain_dead_letter_days: int = Field(default=30, ge=0)  # after resolution or discarding
    retain_rejected_days: int = Field(default=30, ge=0)  # rejected input, deleted
    retain_unrouted_days: int = Field(default=90, ge=0)  # events no destination served
    # The audit trail, oldest entries first: five years (NEN 7513), at least the longest above.
    # Unset: five years, or the longest period above when that is longer (``audit_days``).
    retain_audit_days: int | None = Field(default=None, ge=0)
    # Every view of patient data and every export must say why (integrator.stated_reason):
    # the API's X-Integrator-Reason header, the console session's reason, the CLI's --reason.
    reason_required: bool = False
    # Where people reach the console, for the links in invitations (docs/access.md).
    public_url: str | None = None
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses
    # or networks, comma-separated. Unset, nobody's: the client's address in the audit trail is
    # the connection's, which a caller cannot write (uvicorn trusted 127.0.0.1 by default, so
    # any process on the host, or a proxy passing the header on, named whatever source it liked).
    trusted_proxies: str | None = None
    # Invitations by e-mail: set the host (and the sender) to send them; unset, the link is
    # shown to the admin to pass on. STARTTLS unless turned off (a mail relay on localhost).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True

    @field_validator("search_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SEARCH_KEY:
            raise ValueError(f"the search key must be at least {MIN_SEARCH_KEY} characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for item in value.split(","):
            try:
                ipaddress.ip_network(item.strip())
            except ValueError:
                raise ValueError(
                    "must be addresses or networks, comma-separated (10.0.0.5, 10.1.0.0/16)"
                ) from None
        return ",".join(item.strip() for item in value.split(","))

    @field_validator(
        "destinations_dir", "tls_dir", "http_tls_cert_file", "http_tls_key_file", mode="before"
    )
    @classmethod
    def _a_path_names_something(cls, value: object) -> object:
        # An empty value read as ``Path("")``, the working directory: in the image that is
        # where the store lies, so the destinations or the TLS files would have been looked
        # for among the engine's own files, without a word.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a path; leave the variable unset for its default")
        return value

    @field_validator("amqp_url", "database_url", "public_url")
    @classmethod
    def _url_form(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Refused here, not after 10 s of reconnecting and a traceback (the broker), as
        # "error: ..." without the setting's name (the store), or in every invitation link
        # that opens nothing (the public URL); never echoes the URL.
        if value is not None:
            from integrator.urlcheck import URL_PROBLEMS

            problem = URL_PROBLEMS[str(info.field_name)](value)
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("amqp_prefix")
    @classmethod
    def _amqp_names(cls, value: str) -> str:
        # Refused here, not after about 12 s of reconnecting and a traceback from the AMQP
        # library when ``run`` declares the first exchange with it.
        from integrator.amqp_names import prefix_problem

        problem = prefix_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("http_host")
    @classmethod
    def _host_form(cls, value: str) -> str:
        # Refused here with exit 2 like every other bad setting, not when ``run`` binds the
        # port (exit 1, "Name or service not known", as if the port were taken) nor in the
        # CLI's request to the engine (``http://not a host:8080``: "no answer"; ``::1`` with
        # the port read into the address: a traceback).
        from destinations.hosts import host_problem

        problem = host_problem(value, port="INTEGRATOR_HTTP_PORT")
        if problem is not None:
            raise ValueError(problem[1])
        return value

    @property
    def http_authority(self) -> str:
        """``host:port`` of the HTTP API as a URL writes it (an IPv6 address in brackets):
        where the CLI reaches the engine, and the address the engine records as its own."""
        from destinations.hosts import with_port

        return with_port(self.http_host, self.http_port)

    @field_validator("data_keys")
    @classmethod
    def _data_keys_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from integrator.datakeys import SETTING, DataKeysSettingError, parse_data_keys

            try:
                parse_data_keys(value.get_secret_value())
            except DataKeysSettingError as exc:  # names entry, key id and rule; never the key
                raise ValueError(str(exc).removeprefix(SETTING).lstrip(": ")) from None
        return value

    def sealer(self) -> Sealer:
        """What seals and opens payloads in the store with these settings' data keys."""
        from integrator.datakeys import sealer_for

        return sealer_for(None if self.data_keys is None else self.data_keys.get_secret_value())

    def search_key_weakness(self) -> str | None:
        """Why the configured search key is one anyone could guess, or None: the example's
        placeholder, or too few different characters. A new store refuses it
        (``integrator.store.searchcheck``); the engine of a store made with it warns at start
        (its hashes were made with it, and only it finds them)."""
        if self.search_key is None:
            return None
        key = self.search_key.get_secret_value()
        if key in EXAMPLE_SEARCH_KEYS:
            return "it is the example settings' placeholder"
        if len(set(key)) < MIN_DISTINCT_IN_SEARCH_KEY:
            return f"it has fewer than {MIN_DISTINCT_IN_SEARCH_KEY} different characters"
        return None

    def bsn_hash(self, bsn: str) -> str:
        """The value of ``events.bsn_hash`` for this BSN under this engine's key."""
        if self.search_key is None:
            from integrator.searchkey import SearchKeyError, no_search_key

            raise SearchKeyError(no_search_key(self.database_url))
        return _bsn_hash()(bsn, self.search_key.get_secret_value().encode("utf-8"))

    def with_key_file(self, key: str, path: Path) -> Settings:
        """A copy with the search key read from the store's key file ``path`` (no setting)."""
        resolved = self.model_copy(update={"search_key": SecretStr(key)})
        resolved._search_key_file = path
        return resolved

    @property
    def search_key_file(self) -> Path | None:
        """The key file the search key was read from; None when it is the setting, or none."""
        return self._search_key_file

    def search_check(self) -> str | None:
        """The search key's check value, which the store compares with the one it keeps
        (``integrator.store.searchcheck``); None without a key (then nothing is checked)."""
        if self.search_key is None:
            return None
        from integrator.store.searchcheck import search_key_check

        return search_key_check(self.search_key.get_secret_value())

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.http_tls_cert_file is None) != (self.http_tls_key_file is None):
            raise ValueError(
                "INTEGRATOR_HTTP_TLS_CERT_FILE and INTEGRATOR_HTTP_TLS_KEY_FILE go together: "
                "set both or neither"
            )
        return self

    @model_validator(mode="after")
    def _smtp_sender(self) -> Settings:
        if self.smtp_host is not None and not self.smtp_from:
            raise ValueError(
                "INTEGRATOR_SMTP_FROM: the sender address is needed with INTEGRATOR_SMTP_HOST"
            )
        return self

    @field_validator(
        "retain_payload_days",
        "retain_dead_letter_days",
        "retain_rejected_days",
        "retain_unrouted_days",
        "retain_audit_days",
    )
    @classmethod
    def _within_the_calendar(cls, value: int | None) -> int | None:
        problem = None if value is None else retention_period_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _audit_kept_longest(self) -> Settings:
        if self.retain_audit_days is not None:
            problem = audit_period_problem(self.retain_audit_days, self._other_periods())
            if problem is not None:
                raise ValueError(problem)
        return self

    def _other_periods(self) -> dict[str, int]:
        return {
            "payload_days": self.retain_payload_days,
            "dead_letter_days": self.retain_dead_letter_days,
            "rejected_days": self.retain_rejected_days,
            "unrouted_days": self.retain_unrouted_days,
        }

    @property
    def audit_days(self) -> int:
        """The audit trail's period. Unset, the default gives way to a longer period set for
        other data, so that an engine which keeps payloads ten years still starts after an
        upgrade brought the audit trail a period."""
        if self.retain_audit_days is not None:
            return self.retain_audit_days
        return max(DEFAULT_AUDIT_DAYS, *self._other_periods().values())

    @property
    def tls_directory(self) -> Path:
        """Where the destinations' TLS files a change through the API or the console names
        must lie, each cluster's in a directory of its own in it (``destinations.tls_dir``):
        ``INTEGRATOR_TLS_DIR``, else ``tls`` beside the destinations directory (``config/tls``
        by default, ``/var/lib/integrator/tls`` in the image), so it goes where a deployment
        put that one. Not made nor required at start: an engine whose destinations use no TLS
        needs none; a change that names a TLS file while its cluster's directory is missing is
        refused, naming it."""
        if self.tls_dir is not None:
            return self.tls_dir
        return self.destinations_dir.parent / "tls"

    @property
    def http_tls(self) -> bool:
        """Whether the HTTP API speaks HTTPS."""
        return self.http_tls_cert_file is not None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@functools.cache
def _bsn_hash() -> Callable[[str, bytes], str]:
    """``integrator.store.keyed.bsn_hash``, imported at first use: at module level it would load
    the store's package (and SQLAlchemy) for every command that reads settings. An import
    statement in ``Settings.bsn_hash`` itself took about 8 µs per call, twice the hash."""
    from integrator.store.keyed import bsn_hash

    return bsn_hash


def known_variables() -> frozenset[str]:
    """Every ``INTEGRATOR_*`` variable the project reads: each setting's, and the others."""
    return frozenset(PREFIX + name.upper() for name in Settings.model_fields) | OTHER_VARIABLES


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Why each ``INTEGRATOR_*`` name in ``environ`` that nothing reads is refused, sorted:
    ``INTEGRATOR_DATABSE_URL: not a setting (did you mean INTEGRATOR_DATABASE_URL?)``.

    Ignored, a misspelt ``INTEGRATOR_DATABASE_URL`` let the engine start on a new, empty SQLite
    store beside the real one, whose queued messages then never went; a misspelt retention
    period kept data for the default time. Names only: a value may be a password or a key.
    Settings are read whatever the case of their name (pydantic-settings), the other variables
    only as written, so ``integrator_token`` is refused too.
    """
    known = known_variables()
    settings = {name for name in known if name not in OTHER_VARIABLES}
    problems = []
    for name in sorted(environ):
        if not name.upper().startswith(PREFIX):
            continue
        if name in known or name.upper() in settings:
            continue
        guess = difflib.get_close_matches(
            name.upper().removeprefix(PREFIX), [k.removeprefix(PREFIX) for k in sorted(known)], 1
        )
        hint = f" (did you mean {PREFIX}{guess[0]}?)" if guess else ""
        problems.append(f"{name}: not a setting{hint}")
    return problems
