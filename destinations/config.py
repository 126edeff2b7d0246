"""The destination file (docs/product.md §5.1): model, loading, and writing it back.

Operators edit these files by hand, so every mistake must come back as ``<file>: <key>: <rule>``
and a file with any mistake is refused whole: the engine keeps its last good definition rather
than running on half of a new one. The model is frozen and forbids unknown keys, because a typo
such as ``ack_timout`` silently falling back to a default is exactly the mistake that bites at
night.

Version names under ``messages`` are checked for form only; whether they exist (and are not
retired) is the engine's business, which keeps this package free of the version registry.

TLS file paths must be absolute: a relative one would be read from whatever directory each
command runs in, so the CLI could accept what the engine then refuses. The files must be there
and load as what they are named for (``destinations.tls_files``), except in a definition
already recorded (``check_files=False``): one that stopped loading since is delivery's to fail
and retry, not a reason to take the destination out of service. A change through the API or the
console may bring in only files inside the directory of the destination's cluster in the TLS
directory (``tls_dir``, ``destinations.tls_dir``), refused before any look at a file outside it.

Every refusal also names its rule as data, beside its English text, for a front door that
words it in another language (the web console reads Dutch too) without parsing the text: a
``DestinationFileError`` carries pydantic's error ``type`` for pydantic's own checks
(``int_type``, ``string_too_long``, with the bounds in ``values``), and ``code`` for a rule of
ours (a validator raises ``Rule``, which pydantic reports as a ``value_error``; a check of the
file itself names its own).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from destinations.event_types import EVENT_TYPES as EVENT_TYPES  # named here too
from destinations.event_types import EventType as EventType
from destinations.hosts import host_problem
from destinations.ids import ID_FORM, MAX_CLUSTER, NEW_ID_FORM
from destinations.ids import MAX_ID as MAX_ID  # the file's bound on its id, named here too
from destinations.tls_dir import TlsDirectory
from destinations.tls_files import ca_problem, pair_problem

_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h)?")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION_RULE = "must be a duration like 500ms, 30s, 10m or 24h (a bare number means seconds)"
ID_RULE = "must use only a-z, 0-9 and '-', begin and end with a letter or digit, and hold a letter"
_VERSION_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_MAX_HD = 227  # HL7 HD field length (MSH-5/6)

# Lengths of the free-text keys. Every tool shows these values (a 5000-character name made the
# destinations page 60,000 px wide), so each has a bound, generous for any real value:
MAX_NAME = 200
MAX_HOST = 253  # the longest DNS name
MAX_PROVIDER = 128  # an event's provider.id may be this long (schemas/), so any can be served
_PROVIDER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""What an event's ``provider.id`` cannot hold (the control characters the schemas' provider id
rule refuses, ``provider_id_format``), so no event could ever match an entry holding one; and
PostgreSQL refuses a NUL in every query that names the entry (a store error naming neither the
file nor the key)."""
PROVIDER_CONTROL_RULE: Final = "provider ids must not hold control characters"


IS_DIRECTORY: Final = "is a directory, not a file"
"""The rule a TLS path naming a directory breaks (the ``tls_dir`` itself, say)."""


class Rule(ValueError):
    """A rule of the file broken, raised in a validator: its English text, and a short stable
    name (``code``) with the values its sentence needs. pydantic reports it as a
    ``value_error``; ``destination_from_mapping`` carries the name on in the refusal."""

    def __init__(self, code: str, text: str, **values: object) -> None:
        super().__init__(text)
        self.code = code
        self.values = values


def parse_duration(value: str | float) -> float:
    """Seconds from ``500ms``, ``30s``, ``10m``, ``24h`` or a bare number of seconds.

    Raises ``Rule`` (a ``ValueError``) with the accepted forms (never echoing the input).
    """
    if isinstance(value, bool):
        raise Rule("duration", _DURATION_RULE)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise Rule("duration", _DURATION_RULE)
        number = float(match["number"])
        unit = match["unit"] or "s"
        seconds = number / 1000.0 if unit == "ms" else number * _UNIT_SECONDS[unit]
    else:
        raise Rule("duration", _DURATION_RULE)
    if not math.isfinite(seconds) or seconds < 0:
        raise Rule("duration", _DURATION_RULE)
    return seconds


def format_duration(seconds: float) -> str:
    """The product.md §5.1 spelling of ``seconds``: the largest whole unit, parsing back exactly."""
    seconds = float(seconds)
    candidates = (
        (seconds / 3600.0, "h"),
        (seconds / 60.0, "m"),
        (seconds, "s"),
        (seconds * 1000.0, "ms"),
    )
    for count, unit in candidates:
        if count.is_integer():
            text = f"{int(count)}{unit}"
            if parse_duration(text) == seconds:
                return text
    return f"{Decimal(repr(seconds)):f}s"  # exact, and never in exponent notation


def readable_duration(seconds: float) -> str:
    """``seconds`` for people to read: as :func:`format_duration` spells it, but a time of a
    second or more that is no whole number of seconds in seconds with their fraction (``6.5s``,
    ``1.25s``), where the file's spelling took milliseconds (``6500ms``), which people read
    as a count to convert. Still a spelling a file accepts, and parses back exactly (a float's
    shortest ``repr``); below a second, milliseconds read naturally (``500ms``). Files, stored
    definitions and form values keep :func:`format_duration`'s."""
    text = format_duration(seconds)
    if float(seconds) >= 1 and text.endswith("ms"):
        return f"{Decimal(repr(float(seconds))):f}s"
    return text


def _duration(value: Any) -> float:
    if not isinstance(value, str | int | float):
        raise Rule("duration", _DURATION_RULE)
    return parse_duration(value)


TIMEOUT_MAX = 3600.0
"""``connect_timeout`` and ``ack_timeout`` at most: an hour. A longer one is no timeout a
receiver needs, and a mistyped one (``30000h`` for ``30000ms``) held a connection for years."""

RETRY_DURATION_MAX = 8760 * 3600.0
"""``retry.initial``, ``max_delay`` and ``max_age`` at most: a year (8760h). Unbounded, a time
that far ahead overflowed the calendar: the message was tried again every second, unsaid."""


VERSION_NAME_RULE: Final = Rule(
    "version_name",
    "must be a message version's name, in lower case: a-z, 0-9 and '-', as ref-v2 or orm-v3 "
    "(integrator versions lists them)",
)
"""``2.5.1``, ``ORM-v3`` or ``REF^I12`` (the HL7 version or message type for the name) and an
empty or numeric value: each said at its own key, ``messages.diagnostic_request``, with what a
name looks like and where the names are; a name of the right form that no version has is the
catalog's to refuse, with the names it knows (``integrator.catalog``)."""


def _version_name(value: str) -> str:
    if not _VERSION_NAME.fullmatch(value):
        raise VERSION_NAME_RULE
    return value


VersionName = Annotated[str, AfterValidator(_version_name)]


def _at_most(most: float) -> AfterValidator:
    def check(seconds: float) -> float:
        if seconds > most:
            shown = format_duration(most)
            raise Rule("duration_too_long", f"must be {shown} at most", most=shown)
        return seconds

    return AfterValidator(check)


Duration = Annotated[float, BeforeValidator(_duration), Field(gt=0)]
Timeout = Annotated[Duration, _at_most(TIMEOUT_MAX)]
RetryDuration = Annotated[Duration, _at_most(RETRY_DURATION_MAX)]
StrictBool = Annotated[bool, Field(strict=True)]
OnAck = Literal["retry", "deadletter"]
AckType = Literal["AL", "NE", "ER", "SU"]
"""HL7 table 0155, the values MSH-15/16 may take: always, never, on error only, on success only."""
ACK_TYPES: tuple[AckType, ...] = ("AL", "NE", "ER", "SU")
DEFAULT_ACCEPT_ACK_TYPE: AckType = "AL"
DEFAULT_APPLICATION_ACK_TYPE: AckType = "NE"
_ANSWERS_SUCCESS: frozenset[str] = frozenset({"AL", "SU"})
_ACK_KEYS = ("accept_ack_type", "application_ack_type")


MAX_CONNECTIONS = 32
"""Parallel MLLP connections a destination may ask for."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(_Frozen):
    """Backoff for failed attempts; ``on_error``/``on_reject`` say what AE/CE and AR/CR mean."""

    initial: RetryDuration = 2.0
    multiplier: Annotated[float, Field(strict=True, ge=1.0, allow_inf_nan=False)] = 2.0
    max_delay: RetryDuration = 600.0
    max_attempts: Annotated[int, Field(strict=True, ge=1)] = 20
    max_age: RetryDuration = 86400.0
    on_error: OnAck = "retry"
    on_reject: OnAck = "deadletter"

    @field_validator("max_delay")
    @classmethod
    def _max_delay_covers_initial(cls, value: float, info: ValidationInfo) -> float:
        initial = info.data.get("initial")
        if initial is not None and value < initial:
            raise Rule("max_delay", "must not be shorter than retry.initial")
        return value


class TlsSettings(_Frozen):
    """TLS towards the destination; ``cert_file`` + ``key_file`` turn on mutual TLS.

    ``cert_file`` alone is allowed (a PEM holding both certificate and key); ``key_file`` alone is
    refused, as it can only be a mistake.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    # Checked when not given too: a certificate file without its key needs one.
    key_file: Annotated[Path | None, Field(validate_default=True)] = None
    server_name: Annotated[str, Field(max_length=MAX_HOST)] | None = None

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _readable_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return value
        if checks_files(info) and not value.is_absolute():
            # Relative to what? The CLI's directory and the engine's differ: a path that one
            # of them found, the other did not (``add`` passed, the engine refused).
            raise Rule(
                "unreadable",
                "must be an absolute path (a relative one is read from whatever directory a "
                "command runs in, which is not the engine's)",
                why="not an absolute path",
            )
        # Held to the directory also where the files are not looked at: a change that moves
        # a destination to another cluster brings its paths into that cluster's directory,
        # unchanged as they are (``destinations.tls_dir``).
        confined = tls_directory(info)
        problem = None if confined is None else confined.problem(str(info.field_name), value)
        if problem is not None:
            # Before any look at the file: a path outside is refused in the same words
            # whether it is there or not.
            code, rule, values = problem
            raise Rule(code, rule, **values)
        if not checks_files(info):
            return value
        if value.is_dir():  # "does not exist" sent people looking for what was there
            raise Rule("file_is_directory", IS_DIRECTORY)
        if not value.is_file():
            raise Rule("file_missing", "file does not exist")
        if not os.access(value, os.R_OK):
            raise Rule("file_unreadable", "file is not readable")
        return value

    @field_validator("ca_file", "cert_file")
    @classmethod
    def _holds_certificates(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """A file that is there but holds no certificate (a key, a truncated copy) failed
        every attempt later; refused now, naming the key. The system's reason is said, never
        what the file holds."""
        if value is None or not checks_files(info):
            return value
        why = ca_problem(value)
        if why is not None:
            what = "CA certificates" if info.field_name == "ca_file" else "a certificate"
            raise Rule("unreadable", f"could not be loaded as {what} ({why})", why=why)
        return value

    @field_validator("key_file")
    @classmethod
    def _key_needs_cert(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("cert_file") is None:
            raise Rule("key_needs_cert", "key_file needs cert_file")
        return value

    @field_validator("key_file")
    @classmethod
    def _key_matches(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """``cert_file`` and its key (``key_file``, else in the same file) load as a pair."""
        cert_file = info.data.get("cert_file")
        if cert_file is None or not checks_files(info):
            return value
        why = pair_problem(cert_file, value)
        if why is None:
            return value
        if value is None:
            rule = f"could not be loaded: tls.cert_file holds no key of its own to use ({why})"
        else:
            rule = f"could not be loaded as the key of tls.cert_file ({why})"
        raise Rule("unreadable", rule, why=why)

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise Rule("server_name", "must be a host name without spaces")
        return value


class DestinationConfig(_Frozen):
    """One hospital or lab system that receives messages over MLLP (docs/product.md §5.1)."""

    id: Annotated[str, Field(max_length=MAX_ID)]
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    cluster: Annotated[str, Field(max_length=MAX_CLUSTER)] | None = None
    providers: tuple[Annotated[str, Field(max_length=MAX_PROVIDER)], ...] = ()
    host: Annotated[str, Field(min_length=1, max_length=MAX_HOST)]
    port: Annotated[int, Field(strict=True, ge=1, le=65535)]
    messages: dict[EventType, VersionName]
    receiving_application: Annotated[str, Field(max_length=_MAX_HD)] = ""
    receiving_facility: Annotated[str, Field(max_length=_MAX_HD)] = ""
    ack_mode: Literal["original", "enhanced"] = "original"
    # MSH-15/16 in enhanced mode; None (not written) is the default, AL and NE. Not defaults in
    # the model itself, so that a definition without them stays the same definition, and so
    # that one written in original mode (where they would be ignored) can be refused.
    accept_ack_type: AckType | None = None
    application_ack_type: Annotated[AckType | None, Field(validate_default=True)] = None
    connect_timeout: Timeout = 10.0
    ack_timeout: Timeout = 30.0
    # Each connection is a socket and a task in every engine; receivers accept a handful. A bound
    # also keeps a typo (or a hostile API call) from opening thousands and stalling the engine.
    connections: Annotated[int, Field(strict=True, ge=1, le=MAX_CONNECTIONS)] = 1
    ordering: Annotated[Literal["fifo", "rotate"], Field(validate_default=True)] = "fifo"
    rate_limit: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = None
    retry: RetrySettings = RetrySettings()
    tls: TlsSettings | None = None
    auto_upgrade: StrictBool = False
    enabled: StrictBool = True

    @field_validator("ordering")
    @classmethod
    def _parallel_needs_rotate(cls, value: str, info: ValidationInfo) -> str:
        # N connections deliver N messages at once, which cannot keep a strict order.
        if value == "fifo" and (info.data.get("connections") or 1) > 1:
            raise Rule(
                "needs_rotate",
                "must be rotate when connections is more than 1 "
                "(parallel connections cannot keep fifo order)",
            )
        return value

    @field_validator(*_ACK_KEYS, mode="before")
    @classmethod
    def _ack_type(cls, value: object) -> object:
        if value is not None and value not in ACK_TYPES:
            raise Rule(
                "ack_type",
                "must be AL, NE, ER or SU (HL7 table 0155: always, never, on error only, "
                "on success only)",
            )
        return value

    @field_validator(*_ACK_KEYS)
    @classmethod
    def _ack_type_needs_enhanced(cls, value: str | None, info: ValidationInfo) -> str | None:
        # In original mode MSH-15/16 stay empty: a value here would be silently ignored.
        if value is not None and info.data.get("ack_mode") == "original":
            raise Rule(
                "ack_type_needs_enhanced",
                "applies only with ack_mode: enhanced (in original mode MSH-15/16 stay empty); "
                "remove it or set ack_mode: enhanced",
            )
        return value

    @field_validator("application_ack_type")
    @classmethod
    def _success_answered(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The engine counts a message delivered only on an ACK; with neither type answering a
        # success, every message would wait out ack_timeout and be retried until it died.
        if info.data.get("ack_mode") != "enhanced" or "accept_ack_type" not in info.data:
            return value
        accept = info.data["accept_ack_type"] or DEFAULT_ACCEPT_ACK_TYPE
        application = value or DEFAULT_APPLICATION_ACK_TYPE
        if accept not in _ANSWERS_SUCCESS and application not in _ANSWERS_SUCCESS:
            raise Rule(
                "success_unanswered",
                "must be AL or SU when accept_ack_type is NE or ER (not set, it is NE): "
                "otherwise the receiver never answers a message it took, and the engine "
                "counts a message delivered only on an ACK",
            )
        return value

    @property
    def msh_accept_ack_type(self) -> AckType:
        """MSH-15 in enhanced mode: the key's value, else the default ``AL``."""
        return self.accept_ack_type or DEFAULT_ACCEPT_ACK_TYPE

    @property
    def msh_application_ack_type(self) -> AckType:
        """MSH-16 in enhanced mode: the key's value, else the default ``NE``."""
        return self.application_ack_type or DEFAULT_APPLICATION_ACK_TYPE

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not NEW_ID_FORM.fullmatch(value):
            raise Rule("id", ID_RULE)
        return value

    @field_validator("providers")
    @classmethod
    def _providers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not provider.strip() for provider in value):
            raise Rule("provider_empty", "provider ids must not be empty")
        if any(_PROVIDER_CONTROL.search(provider) for provider in value):
            raise Rule("provider_control", PROVIDER_CONTROL_RULE)
        if len(set(value)) != len(value):
            raise Rule("provider_twice", "each provider id may appear only once")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        """A name or an address only (``destinations.hosts``): ``mllp://host:2575`` or
        ``host:2575`` were taken and failed at every attempt (``connect to
        mllp://...:2575:2575 failed``), logged as retries, instead of being refused when
        written."""
        problem = host_problem(value, port="port")
        if problem is not None:
            raise Rule(*problem)
        return value

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: dict[EventType, str]) -> dict[EventType, str]:
        if not value:
            raise Rule(
                "version_needed", "needs a message version for referral and/or diagnostic_request"
            )
        return value

    @field_validator("name", "cluster")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and _has_control(value):
            raise Rule("one_line", "must be one line without control characters")
        return value

    @field_validator("cluster")
    @classmethod
    def _cluster_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and checks_names(info) and not is_cluster_name(value):
            raise Rule(CLUSTER_NAME_CODE, CLUSTER_NAME_RULE)
        return value

    @field_validator("receiving_application", "receiving_facility")
    @classmethod
    def _msh_value(cls, value: str) -> str:
        if "|" in value or _has_control(value):
            raise Rule("msh_value", "must be one line without '|' or control characters")
        return value


CLUSTER_NAME_CODE: Final = "cluster_name"
CLUSTER_NAME_RULE: Final = "must not be blank nor begin or end with white space"
"""The rule of a cluster's name, wherever one comes in: a destination's ``cluster``, and a
grant given to a person or a token (``AccessService``, refusal code ``access.cluster_name``).

A cluster is compared by its exact name, so ``" north "`` is another cluster than ``north``:
a destination in it would be out of sight of every ``north`` grant, and a grant for it would
see nothing, neither saying why. A blank one is no name at all (a grant for all clusters
leaves the cluster out)."""


def is_cluster_name(value: str) -> bool:
    """Whether ``value`` keeps ``CLUSTER_NAME_RULE``: not blank, no white space at either end."""
    return bool(value) and value == value.strip()


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


class DestinationFileError(Exception):
    """A refused destination definition: which file, which key, which rule.

    ``problems`` holds every mistake found (this one first), so an operator can fix them in one
    go; the message names only the first. The rule as data: ``type`` is pydantic's error type
    for pydantic's own checks (``missing``, ``int_type``, ``string_too_long``…; ``value_error``
    for a ``Rule`` of ours), ``code`` the name of a rule of ours (None for pydantic's own), and
    ``values`` what the sentence needs (pydantic's bounds such as ``max_length``, or the rule's
    values); never a value from the file but the operator's own key names.
    """

    def __init__(
        self,
        file: str,
        key: str,
        rule: str,
        *,
        type: str | None = None,
        code: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.rule = rule
        self.type = type
        self.code = code
        self.values: Mapping[str, object] = dict(values or {})
        self.problems: tuple[DestinationFileError, ...] = (self,)
        super().__init__(f"{file}: {key}: {rule}")


FILES_UNCHECKED: Final[Mapping[str, object]] = {"files": False}
"""The validation context (``destination_from_mapping(check_files=False)``) under which the
files a definition names (``tls``) are taken as written, not looked at."""


def checks_files(info: ValidationInfo) -> bool:
    """Whether this validation looks at the files the definition names: not for a definition
    already recorded (a revision in the store), whose files were checked when it was made."""
    context = info.context
    return not (isinstance(context, Mapping) and context.get("files") is False)


def tls_directory(info: ValidationInfo) -> TlsDirectory | None:
    """The directory the TLS files this validation looks at must lie in, with the paths it
    may keep wherever they are (``destinations.tls_dir``); None where any path may be named
    (a hand-written file, the command line)."""
    context = info.context
    confined = context.get("tls_dir") if isinstance(context, Mapping) else None
    return confined if isinstance(confined, TlsDirectory) else None


NAMES_AS_RECORDED: Final[Mapping[str, object]] = {"recorded": True}
"""The validation context under which the cluster's name is taken as recorded
(``checks_names``); the files a definition names are looked at as without a context."""


def checks_names(info: ValidationInfo) -> bool:
    """Whether this validation holds the cluster's name to ``CLUSTER_NAME_RULE``: not for a
    definition recorded before (``recorded=True``), which may predate the rule. Refusing it
    there would make a stored revision unreadable, and a destination in service on it would
    lose its last good definition (and be taken out of service) at the next start."""
    context = info.context
    return not (isinstance(context, Mapping) and context.get("recorded") is True)


def destination_from_mapping(
    data: Mapping[str, Any],
    *,
    source: str,
    check_files: bool = True,
    recorded: bool | None = None,
    tls_dir: TlsDirectory | None = None,
) -> DestinationConfig:
    """Validate a definition that did not come from a file (API, CLI); ``source`` names it.

    ``check_files=False`` for a definition recorded before (a revision in the store): it is
    what was in service, whatever became of the TLS files it names since. Those files are
    delivery's business then (each attempt fails with why, and is retried), not a reason to
    take the destination out of service (docs/operators.md, broken destinations).

    ``recorded`` (by default: as ``check_files=False`` says) takes the cluster's name as it
    was recorded, also one that ``CLUSTER_NAME_RULE`` refuses now: a revision stored before
    the rule must still read back. An edit of a destination in service passes
    ``check_files=False`` but ``recorded=False`` when it changes the cluster.

    ``tls_dir``: the TLS directory whose directory of the definition's cluster the TLS files
    it names must lie in, but for those it keeps in that cluster (``destinations.tls_dir``: a
    change through the API or the console); held to it with and without ``check_files``.
    """
    if not isinstance(data, Mapping):
        raise DestinationFileError(
            source, "(document)", "must be a mapping of keys to values", code="not_a_mapping"
        )
    try:
        as_recorded = not check_files if recorded is None else recorded
        context: dict[str, object] = {
            **({} if check_files else FILES_UNCHECKED),
            "recorded": as_recorded,
            # The cluster's directory by the cluster as given: the TLS settings are another
            # model, which does not see the cluster once checked.
            **({} if tls_dir is None else {"tls_dir": tls_dir.of_cluster(data.get("cluster"))}),
        }
        return DestinationConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        problems = [_refusal(source, error) for error in exc.errors()]
        # An unknown key close to one the file lacks is the mistake behind that one's
        # "required" (``prot`` for ``port``): said first, where a summary shows one problem.
        lacking = {p.key for p in problems if p.type == "missing"}
        problems.sort(key=lambda p: p.values.get("close") not in lacking)
        first = problems[0]
        first.problems = tuple(problems)
        raise first from None


def load_destination_file(path: Path | str) -> DestinationConfig:
    """Read and validate one destination file; ``DestinationFileError`` on any mistake."""
    source, text = read_destination_text(path)
    return destination_from_text(source, text)


def destination_from_text(source: str, text: str) -> DestinationConfig:
    """Validate the text of the destination file ``source``, as read by
    ``read_destination_text``; ``DestinationFileError`` on any mistake."""
    return destination_from_mapping(parse_yaml(text, source), source=source)


def read_destination_text(path: Path | str) -> tuple[str, str]:
    """The file's name as its refusals give it, and its text; ``DestinationFileError`` for
    an entry that is no file, or a file that cannot be read or is no UTF-8 text."""
    path = Path(path)
    source = str(path)
    kind = entry_kind(path)
    if kind is not None and kind in NOT_A_FILE:
        raise DestinationFileError(
            source,
            "(file)",
            f"is {NOT_A_FILE[kind]}, not a file",
            code="not_a_file",
            values={"entry": kind},
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DestinationFileError(source, "(file)", "is not UTF-8 text", code="not_utf8") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DestinationFileError(
            source,
            "(file)",
            f"cannot be read ({reason})",
            code="unreadable",
            values={"why": reason},
        ) from None
    return source, text


NOT_A_FILE: Final[Mapping[str, str]] = {
    "directory": "a directory",
    "link_to_nothing": "a symbolic link to nothing (what it points to does not exist)",
    "special": "a pipe, socket or device",
}
"""What an entry named like a destination's file may be instead of a file: its refusal (code
``not_a_file``, the kind as ``values["entry"]``) says ``is <this>, not a file``. Told from the
entry's own metadata only: nothing is read from it (a pipe would block the reader for ever)."""


def entry_kind(path: Path) -> str | None:
    """What ``path`` is: ``file`` (a regular file, or a link to one), a kind of ``NOT_A_FILE``,
    or None when nothing is there at all (deleted since the directory was listed)."""
    try:
        mode = path.stat().st_mode  # follows a link: what the loader would read
    except OSError:
        return "link_to_nothing" if path.is_symlink() else None
    if stat.S_ISREG(mode):
        return "file"
    return "directory" if stat.S_ISDIR(mode) else "special"


def destination_from_yaml(
    text: str,
    *,
    source: str,
    check_files: bool = True,
    recorded: bool | None = None,
    tls_dir: TlsDirectory | None = None,
) -> DestinationConfig:
    """Validate a definition given as YAML text (``integrator destinations add -``)."""
    return destination_from_mapping(
        parse_yaml(text, source),
        source=source,
        check_files=check_files,
        recorded=recorded,
        tls_dir=tls_dir,
    )


def load_destination_dir(
    path: Path | str,
) -> tuple[list[DestinationConfig], list[DestinationFileError]]:
    """Every destination file in ``path`` (sorted by name), and the files that were refused."""
    loaded, errors = load_destination_files(path)
    return [config for _, config in loaded], errors


def directory_problem(directory: Path) -> DestinationFileError | None:
    """The refusal of the destinations directory itself, gone or no directory; None when it is
    one. A look at the directory alone, no file read (``load_destination_files`` starts so)."""
    if directory.is_dir():
        return None
    if directory.exists():  # a file (or a pipe) where the directory should be
        rule, code = "is not a directory", "directory_not_a_directory"
    else:
        rule, code = "does not exist", "directory_missing"
    return DestinationFileError(str(directory), "(directory)", rule, code=code)


ENDINGS: Final = (".yaml", ".yml")
"""The endings of the files read as destinations' files, in lower case only."""


def named_like_a_destination_file(path: Path) -> bool:
    """Whether ``path`` is read as a destination's file, or would be but for the case of its
    ending (``lab-west.YAML``, refused as ``ending_case``); hidden files (an editor's) never.

    A file ending ``.YAML`` was passed over without a word, though ``destinations check``
    refuses it: whoever wrote it took it for in service. The watcher looks at the same names."""
    return path.suffix.lower() in ENDINGS and not path.name.startswith(".")


def destination_entries(directory: Path) -> list[Path]:
    """The entries of ``directory`` read as destinations' files, by name: every ``*.yaml`` and
    ``*.yml`` that is not hidden (an editor's) and is there (``entry_kind``). Raises
    ``OSError`` where the directory cannot be listed."""
    return [p for p in _entries(directory) if p.suffix in ENDINGS]


def _entries(directory: Path) -> list[Path]:
    """The entries ``named_like_a_destination_file`` that are there, by name."""
    return sorted(
        (
            p
            for p in directory.iterdir()
            if named_like_a_destination_file(p) and entry_kind(p) is not None
        ),
        key=lambda p: p.name,
    )


def load_destination_files(
    path: Path | str,
    *,
    validate: Callable[[str, str], DestinationConfig] = destination_from_text,
) -> tuple[list[tuple[str, DestinationConfig]], list[DestinationFileError]]:
    """Like ``load_destination_dir``, with the file each destination came from.

    Every ``*.yaml``/``*.yml`` file is read (hidden files, such as an editor's, are not), but a
    destination's file is named ``<id>.yaml``: any other file is refused whole, naming the file
    that is (or would be) the destination's. So a copy such as ``lab-west-backup.yaml`` can never
    take ``lab-west`` over, whatever the names sort like, and one id has one file. A file
    ending so in another case (``lab-west.YAML``, ``.Yml``) is not read, and refused
    (``ending_case``) so that it is reported as the other stray files are.

    An entry so named that is no file (a directory, a link to nothing, a pipe) is refused too
    (``not_a_file``), not passed over: ``lab-west.yaml`` turned into a directory by a botched
    deploy must leave ``lab-west`` running on its last good definition, with the refusal shown,
    as a file with a mistake does, rather than take it out of service without a word.

    ``validate``: what a file's text (with the file's name) is turned into; every file is
    read each time (``destinations.file_reads`` keeps what unchanged texts gave).
    """
    directory = Path(path)
    problem = directory_problem(directory)
    if problem is not None:
        return [], [problem]
    loaded: list[tuple[str, DestinationConfig]] = []
    errors: list[DestinationFileError] = []
    for file in _entries(directory):
        if file.suffix not in ENDINGS:
            errors.append(_ending_case(file))
            continue
        try:
            config = validate(*read_destination_text(file))
        except DestinationFileError as exc:
            errors.extend(exc.problems)
            continue
        own = directory / f"{config.id}.yaml"
        if file.name != own.name:
            errors.append(_misnamed(file, config.id, own))
            continue
        loaded.append((str(file), config))
    return loaded, errors


def name_refusal(file: Path, destination_id: str, directory: Path) -> DestinationFileError | None:
    """The refusal ``load_destination_files`` gives ``file`` for its name were it read from
    ``directory`` (a destination's file is named ``<id>.yaml``), naming the file there that is
    ``destination_id``'s if there is one; None for a file so named. For checking a file
    before it is put there (``integrator destinations check``)."""
    own = directory / f"{destination_id}.yaml"
    return None if file.name == own.name else _misnamed(file, destination_id, own)


def _misnamed(file: Path, destination_id: str, own: Path) -> DestinationFileError:
    values = {"id": destination_id, "file": str(own)}
    if own.is_file():
        rule = (
            f"{destination_id!r} is the destination of {own}; a destination's file is named "
            "<id>.yaml, so this file is refused (give it its own id and name, or delete it)"
        )
        return DestinationFileError(str(file), "id", rule, code="file_of_another", values=values)
    rule = (
        f"{destination_id!r} does not match the file name; a destination's file is named "
        f"<id>.yaml, so this file is refused (rename it to {own})"
    )
    return DestinationFileError(str(file), "id", rule, code="file_misnamed", values=values)


def _ending_case(file: Path) -> DestinationFileError:
    """The refusal of a file whose ending is a destination file's in another case: not read,
    so nothing in it counts, and said so (a stray file) rather than passed over."""
    own = file.with_suffix(".yaml")
    rule = (
        f"ends in {file.suffix}, which is not read: a destination's file is named <id>.yaml, "
        f"in lower case (rename it to {own})"
    )
    values = {"ending": file.suffix, "file": str(own)}
    return DestinationFileError(str(file), "(file)", rule, code="ending_case", values=values)


def file_destination_id(path: Path | str) -> str | None:
    """The destination whose file ``path`` is by its name (``<id>.yaml``), if it is one."""
    name = Path(path).name
    if not name.endswith(".yaml"):
        return None
    stem = name[: -len(".yaml")]
    return stem if ID_FORM.fullmatch(stem) else None


def dump_destination(config: DestinationConfig) -> str:
    """YAML in product.md §5.1 key order, durations spelled ``30s``/``10m``; loads back equal."""
    data = config.model_dump(mode="python")
    out: list[str] = []
    for key in DestinationConfig.model_fields:
        value = data[key]
        if key in _ACK_KEYS and value is None:
            continue  # not set: a definition from before these keys stays the same one
        if key in ("connect_timeout", "ack_timeout"):
            value = format_duration(value)
        elif key == "providers":
            flow = yaml.dump(
                list(value), Dumper=_SafeDumper, default_flow_style=True, allow_unicode=True
            )
            out.append(f"providers: {flow}")
            continue
        elif key == "messages":
            value = {name: value[name] for name in EVENT_TYPES if name in value}
        elif key == "retry":
            value = {k: _retry_value(k, v) for k, v in value.items()}
        elif key == "tls" and value is not None:
            value = {k: str(v) if isinstance(v, Path) else v for k, v in value.items()}
        out.append(
            yaml.dump(
                {key: value},
                Dumper=_SafeDumper,
                sort_keys=False,
                allow_unicode=True,
                default_flow_style=False,
            )
        )
    return "".join(out)


def definition_of(config: DestinationConfig) -> dict[str, Any]:
    """The definition as plain data, every key spelled as in the file (``30s``, not ``30.0``).

    What the store keeps per revision and what two definitions are compared by: equal plain
    data means the same destination, however its file happens to be written.
    """
    loaded = load_yaml(dump_destination(config))
    assert isinstance(loaded, dict)
    return loaded


def _retry_value(key: str, value: Any) -> Any:
    if key in ("initial", "max_delay", "max_age"):
        return format_duration(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # multiplier: 2, not 2.0
    return value


# libyaml's parser and emitter, where PyYAML has them (its wheels do): the same safe loading
# and the same text, about ten times faster than the pure-Python ones. A destination's
# definition is dumped and read back each time the catalog or a change looks at it (6 ms a
# destination before), and every destination file is read at each reload.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, by libyaml where it is there."""
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc]  # a safe loader, C or Python
    """SafeLoader that refuses a key given twice instead of silently keeping the last one."""


class _UniqueKeyPythonLoader(yaml.SafeLoader):
    """The same in pure Python, read again for a file libyaml refused: its words are more
    precise (it names the tab it found where libyaml says "a character")."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    """A whole number written in decimal; anything else YAML 1.1 reads as one stays the text
    it is. ``port: 02575`` was octal, port 1405, ``0xA2F`` hex and ``1:20`` eighty: a message
    sent elsewhere without a word. Kept as text, a number key refuses it by its rule
    (``port: Input should be a valid integer``) and a text key takes it as written
    (``receiving_facility: 0123``)."""
    text = str(loader.construct_scalar(node))
    return int(text) if _DECIMAL.fullmatch(text) else text


for _loader in (_UniqueKeyLoader, _UniqueKeyPythonLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _LastKeyLoader(_SafeLoader):  # type: ignore[misc]  # a safe loader, C or Python
    """Numbers as ``_UniqueKeyLoader`` reads them; a key given twice keeps its last value."""


_LastKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_refused(text: str) -> Any:
    """A refused file's text, read as the engine reads a file's values (numbers decimal) to
    compare it key by key with the definition in service; a key it gives twice (one reason a
    file is refused) keeps its last value rather than leaving nothing to compare. Raises
    ``yaml.YAMLError`` for a text that is no YAML."""
    return yaml.load(text, Loader=_LastKeyLoader)  # noqa: S506 - a safe loader


def load_value(text: str) -> Any:
    """One value as a destination file reads it (a ``--set KEY=VALUE``'s): numbers decimal."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key = key
        self.line = line


def parse_yaml(text: str, source: str) -> Any:
    """A destination file's text as a mapping; ``DestinationFileError`` for anything else."""
    try:
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            data = yaml.load(text, Loader=_UniqueKeyPythonLoader)  # noqa: S506 - the same
    except _DuplicateKey as exc:
        raise DestinationFileError(
            source,
            exc.key,
            f"appears more than once (line {exc.line})",
            code="key_twice",
            values={"line": exc.line},
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise _syntax_error(source, where, _syntax_problem(exc)) from None
    except yaml.YAMLError:
        raise _syntax_error(source, "(yaml)", "invalid YAML") from None
    if data is None:
        raise DestinationFileError(source, "(document)", "the file is empty", code="empty")
    if not isinstance(data, dict):
        raise DestinationFileError(
            source, "(document)", "must be a mapping of keys to values", code="not_a_mapping"
        )
    return data


def _syntax_problem(exc: yaml.MarkedYAMLError) -> str:
    """The parser's problem, with where what it was reading began when that is another line.

    An unclosed quote is found only at the end of the file (``line 27: found unexpected end
    of stream``), twenty lines below the quote: the line to mend is the one the parser says
    the quoted value starts on, which it gives as its context."""
    problem = exc.problem or exc.context or "invalid YAML"
    begun, found = exc.context_mark, exc.problem_mark
    elsewhere = begun is not None and (found is None or begun.line != found.line)
    if exc.problem and exc.context and begun is not None and elsewhere:
        problem += f" ({exc.context} that starts on line {begun.line + 1})"
    return problem


def _syntax_error(source: str, where: str, problem: str) -> DestinationFileError:
    """The parser's own words, which may quote what it found: the tools show them, the audit
    trail does not (``integrator.file_audit``)."""
    return DestinationFileError(
        source,
        where,
        f"YAML syntax error: {problem}",
        code="yaml_syntax",
        values={"problem": problem},
    )


def _key(error: ErrorDetails) -> str:
    """``retry.initial``, ``providers[0]``, ``messages.lab`` from a pydantic location."""
    key = ""
    for part in error["loc"]:
        if part == "[key]":
            continue
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key or "(document)"


def _suggestion(loc: tuple[int | str, ...]) -> str | None:
    """The key its section knows that an unknown key is close to (``ack_timeout`` for
    ``ack_timout``), if any: the rule then asks ``did you mean ack_timeout?``.

    The key is the operator's own typing, never message content, so it may be repeated.
    """
    *where, typed = loc
    section = _SECTIONS.get(tuple(where))
    if section is None or not isinstance(typed, str):
        return None
    close = difflib.get_close_matches(typed, list(section.model_fields), n=1, cutoff=0.7)
    return close[0] if close else None


_SECTIONS: dict[tuple[int | str, ...], type[BaseModel]] = {
    (): DestinationConfig,
    ("retry",): RetrySettings,
    ("tls",): TlsSettings,
}
"""The keys each part of a destination file may have, by where the part sits."""


def is_text_key(dotted: str) -> bool:
    """Whether ``retry.on_error``, ``receiving_application``, … holds text (a string, a path,
    a message version): where ``--set KEY=NO`` means the text ``NO``, not YAML's ``false``."""
    *where, last = dotted.split(".")
    if tuple(where) == ("messages",):
        return True  # a message version's name
    section = _SECTIONS.get(tuple(where))
    field = section.model_fields.get(last) if section is not None else None
    return field is not None and _holds_text(field.annotation)


def _holds_text(annotation: object) -> bool:
    if annotation in (str, Path):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _holds_text(get_args(annotation)[0])
    if origin in (Union, UnionType):
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        return bool(kinds) and all(_holds_text(a) for a in kinds)
    if origin is Literal:
        return all(isinstance(a, str) for a in get_args(annotation))
    return False


_RULES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
}


def _section_rule(section: type[BaseModel]) -> Rule:
    keys = ", ".join(section.model_fields)
    return Rule("section", f"must be a mapping with any of the keys {keys}", keys=keys)


_KINDS: Final[Mapping[tuple[str, str], Rule]] = {
    ("providers", "tuple_type"): Rule(
        "providers_list", "must be a list of provider ids, such as [lab-west, lab-east]"
    ),
    ("messages", "dict_type"): Rule(
        "messages_mapping",
        "must be a mapping of event types (referral, diagnostic_request) to message versions",
    ),
    **{(f"messages.{event_type}", "string_type"): VERSION_NAME_RULE for event_type in EVENT_TYPES},
    ("retry", "model_type"): _section_rule(RetrySettings),
    ("tls", "model_type"): _section_rule(TlsSettings),
    **{
        ("port", kind): Rule("port", "must be a whole number from 1 to 65535")
        for kind in ("less_than_equal", "greater_than_equal", "int_type", "int_parsing")
    },
    ("rate_limit", "float_type"): Rule(
        "rate_limit",
        "must be a number of messages per second, written in decimal (10, 0.5, 1000), or null "
        "for no limit",
    ),
}
"""What a key must be, where pydantic's words for a value of the wrong kind name a Python
type (``Input should be a valid tuple``, ``… or instance of RetrySettings``) or leave out what
the number counts: said as the key's own rule, with a code the console words in Dutch. ``1e3``
is text to YAML 1.1, so a rate limit written so is refused: the rule says how to write it. A
port out of range was ``Input should be less than or equal to 65535``."""


def _rule(error: ErrorDetails) -> str:
    rule = _RULES.get(error["type"])
    if rule is not None:
        if error["type"] == "extra_forbidden":
            close = _suggestion(error["loc"])
            return f"{rule} (did you mean {close}?)" if close else rule
        return rule
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def _plain(value: object) -> object:
    """A bound as pydantic's text shows it: ``0``, not ``0.0``."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _event_type_rule(error: ErrorDetails) -> Rule | None:
    """An unknown key under ``messages`` (``referal``): pydantic said ``Input should be
    'referral' or 'diagnostic_request'``; said as the event types the file takes, with the
    one meant where the typing is close (the operator's own key, never message content)."""
    loc = error["loc"]
    if error["type"] != "literal_error" or loc[:1] != ("messages",) or loc[-1:] != ("[key]",):
        return None
    typed = loc[1] if len(loc) == 3 else None
    close = difflib.get_close_matches(str(typed), list(EVENT_TYPES), n=1, cutoff=0.7)
    kinds = " and ".join(EVENT_TYPES)
    if close:
        return Rule(
            "event_type_close",
            f"unknown event type: the keys are {kinds} (did you mean {close[0]}?)",
            close=close[0],
        )
    return Rule("event_type", f"unknown event type: the keys are {kinds}")


def _refusal(source: str, error: ErrorDetails) -> DestinationFileError:
    """One pydantic error as a refusal: the English rule, and the rule as data (its type, our
    ``Rule``'s code, the bounds pydantic names in its context)."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    kind = _KINDS.get((_key(error), error["type"])) or _event_type_rule(error)
    values: dict[str, object]
    if kind is not None:
        return DestinationFileError(
            source, _key(error), str(kind), type=error["type"], code=kind.code, values=kind.values
        )
    if isinstance(cause, Rule):
        code: str | None = cause.code
        values = dict(cause.values)
    else:
        code = None
        values = {k: _plain(v) for k, v in context.items() if isinstance(v, int | float | str)}
    if error["type"] == "extra_forbidden":
        close = _suggestion(error["loc"])
        if close:
            values["close"] = close
    return DestinationFileError(
        source, _key(error), _rule(error), type=error["type"], code=code, values=values
    )
