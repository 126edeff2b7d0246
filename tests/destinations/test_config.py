"""The destination file: every rule refused with file, key and rule; dump and load agree."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    RetrySettings,
    TlsSettings,
    destination_from_mapping,
    dump_destination,
    format_duration,
    load_destination_dir,
    load_destination_file,
    load_destination_files,
    parse_duration,
    readable_duration,
)
from tests.file_powers import without_file_powers

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"

MINIMAL: dict[str, Any] = {
    "id": "lab-oost",
    "name": "Lab Oost",
    "host": "127.0.0.1",
    "port": 2577,
    "messages": {"diagnostic_request": "orm-v3"},
}


def write(directory: Path, name: str, data: dict[str, Any] | str) -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def refused(directory: Path, data: dict[str, Any] | str) -> DestinationFileError:
    path = write(directory, "dest.yaml", data)
    with pytest.raises(DestinationFileError) as info:
        load_destination_file(path)
    assert str(info.value) == f"{path}: {info.value.key}: {info.value.rule}"
    return info.value


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30.0),
        ("10m", 600.0),
        ("24h", 86400.0),
        ("1.5s", 1.5),
        ("45", 45.0),
        (45, 45.0),
        (2.5, 2.5),
        (" 10m ", 600.0),
        ("0s", 0.0),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten seconds", "10d", "-5s", "1e3s", "5 minutes", "s", "inf"])
def test_parse_duration_refuses_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="like 500ms, 30s, 10m or 24h") as info:
        parse_duration(text)
    if len(text.strip()) > 4:  # the input is never echoed
        assert text.strip() not in str(info.value)


def test_parse_duration_refuses_booleans() -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(True)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "500ms"),
        (30.0, "30s"),
        (600.0, "10m"),
        (86400.0, "24h"),
        (90.0, "90s"),
        (1.25, "1250ms"),
    ],
)
def test_format_duration_uses_the_largest_whole_unit(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@settings(max_examples=300)
@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_format_duration_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (6.5, "6.5s"),  # was "6500ms", as the file spells it
        (1.25, "1.25s"),
        (90.5, "90.5s"),
        (0.5, "500ms"),
        (30.0, "30s"),
        (600.0, "10m"),
        (86400.0, "24h"),
    ],
)
def test_a_duration_for_people_says_a_fraction_of_a_second_in_seconds(
    seconds: float, text: str
) -> None:
    assert readable_duration(seconds) == text


@settings(max_examples=300)
@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_a_duration_for_people_is_one_a_file_accepts(seconds: float) -> None:
    assert parse_duration(readable_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("key", "too_long", "most"),
    [
        ("connect_timeout", "3601s", "1h"),
        ("ack_timeout", "30000h", "1h"),  # meant 30000ms: a connection held for years
        ("retry.initial", "8761h", "8760h"),
        ("retry.max_delay", "100000000h", "8760h"),
        ("retry.max_age", 1e20, "8760h"),  # a time so far ahead overflowed the calendar
    ],
)
def test_a_duration_beyond_its_maximum_is_refused_naming_the_key_and_the_most(
    tmp_path: Path, key: str, too_long: str | float, most: str
) -> None:
    section, _, name = key.rpartition(".")
    data = (
        {**MINIMAL, section: {"initial": "1s", name: too_long}}
        if section
        else {**MINIMAL, key: too_long}
    )
    error = refused(tmp_path, data)
    assert (error.key, error.rule, error.code) == (
        key,
        f"must be {most} at most",
        "duration_too_long",
    )
    assert error.values == {"most": most}


def test_durations_at_their_maximum_are_taken(tmp_path: Path) -> None:
    data = {
        **MINIMAL,
        "connect_timeout": "1h",
        "ack_timeout": "3600s",
        "retry": {"initial": "8760h", "max_delay": "8760h", "max_age": "8760h"},
    }
    config = load_destination_file(write(tmp_path, "lab-oost.yaml", data))
    assert (config.connect_timeout, config.ack_timeout) == (3600.0, 3600.0)
    assert config.retry.max_age == config.retry.initial == 8760 * 3600.0


@pytest.mark.parametrize("port", ["02575", "0xA2F", "0b101", "1:20", "0o17"])
def test_a_port_not_in_decimal_is_refused_not_read_as_another_number(
    tmp_path: Path, port: str
) -> None:
    """YAML 1.1 read ``02575`` as octal (port 1405), ``0xA2F`` as hex, ``1:20`` as 80: the
    engine connected elsewhere without a word."""
    text = yaml.safe_dump({k: v for k, v in MINIMAL.items() if k != "port"}) + f"port: {port}\n"
    error = refused(tmp_path, text)
    assert (error.key, error.rule) == ("port", "must be a whole number from 1 to 65535")


@pytest.mark.parametrize(
    ("key", "value", "rule", "code"),
    [
        ("providers", "lab-west", "must be a list of provider ids, such as [", "providers_list"),
        ("messages", "orm-v3", "must be a mapping of event types (", "messages_mapping"),
        ("retry", 5, "must be a mapping with any of the keys initial, multiplier, ", "section"),
        ("tls", "on", "must be a mapping with any of the keys ca_file, cert_file, ", "section"),
        ("rate_limit", "1e3", "must be a number of messages per second", "rate_limit"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_saying_what_the_key_must_be(
    tmp_path: Path, key: str, value: object, rule: str, code: str
) -> None:
    """pydantic said ``Input should be a valid tuple`` for a provider written without its
    list, ``… or instance of RetrySettings`` for a number where ``retry`` takes its keys, and
    ``a valid number`` for ``rate_limit: 1e3`` (text to YAML 1.1): a Python type or class, and
    nothing of what the key counts."""
    others = {k: v for k, v in MINIMAL.items() if k != key}
    error = refused(tmp_path, yaml.safe_dump(others) + f"{key}: {value}\n")
    assert (error.key, error.code) == (key, code)
    assert error.rule.startswith(rule), error.rule
    assert "Input should" not in error.rule


def test_a_text_key_written_as_a_number_with_a_leading_zero_is_taken_as_written(
    tmp_path: Path,
) -> None:
    text = yaml.safe_dump(MINIMAL) + "receiving_facility: 0123\n"
    config = load_destination_file(write(tmp_path, "lab-oost.yaml", text))
    assert config.receiving_facility == "0123"


@pytest.mark.parametrize("wrong", ["-x", "x-", "999990019", "2575", "-", ""])
def test_an_id_that_reads_as_an_option_or_a_bsn_is_refused(tmp_path: Path, wrong: str) -> None:
    """``-x`` read as an option to the command line; ``999990019`` is a BSN in every URL, log
    line and audit entry that names the destination (found probing the API)."""
    error = refused(tmp_path, {**MINIMAL, "id": wrong})
    assert error.key == "id" and error.rule.startswith("must use only a-z, 0-9 and '-', begin")


@pytest.mark.parametrize("right", ["lab-oost", "a", "ziekenhuis-2", "2-lab", "x9"])
def test_ids_of_letters_digits_and_inner_dashes_are_taken(tmp_path: Path, right: str) -> None:
    config = load_destination_file(write(tmp_path, f"{right}.yaml", {**MINIMAL, "id": right}))
    assert config.id == right


# --- good files ------------------------------------------------------------------------------


def test_example_files_load() -> None:
    configs, errors = load_destination_dir(EXAMPLES)
    assert errors == []
    by_id = {c.id: c for c in configs}
    noord = by_id["ziekenhuis-noord"]
    assert noord.providers == ("ziekenhuis-noord",)
    assert noord.port == 2575
    assert noord.messages == {"referral": "ref-v2", "diagnostic_request": "orm-v3"}
    lab = by_id["lab-west"]
    assert lab.providers == ("lab-west",)
    assert lab.port == 2576
    assert lab.messages == {"diagnostic_request": "orm-v3"}


def test_spec_example_with_every_key(tmp_path: Path) -> None:
    text = (EXAMPLES / "ziekenhuis-noord.yaml").read_text(encoding="utf-8")
    config = load_destination_file(write(tmp_path, "zn.yaml", text))
    assert config == DestinationConfig(
        id="ziekenhuis-noord",
        name="Ziekenhuis Noord",
        cluster="CARD",
        providers=("ziekenhuis-noord",),
        host="127.0.0.1",
        port=2575,
        messages={"referral": "ref-v2", "diagnostic_request": "orm-v3"},
        receiving_application="HIS",
        receiving_facility="ZNOORD",
    )


def test_defaults_follow_the_spec(tmp_path: Path) -> None:
    config = load_destination_file(write(tmp_path, "lab.yaml", MINIMAL))
    assert config.cluster is None
    assert config.providers == ()
    assert (config.receiving_application, config.receiving_facility) == ("", "")
    assert config.ack_mode == "original"
    assert (config.connect_timeout, config.ack_timeout) == (10.0, 30.0)
    assert (config.connections, config.ordering, config.rate_limit) == (1, "fifo", None)
    assert config.retry == RetrySettings(
        initial=2.0,
        multiplier=2.0,
        max_delay=600.0,
        max_attempts=20,
        max_age=86400.0,
        on_error="retry",
        on_reject="deadletter",
    )
    assert config.tls is None
    assert (config.auto_upgrade, config.enabled) == (False, True)


def test_ack_types_default_to_al_and_ne_and_are_not_written_unless_set(tmp_path: Path) -> None:
    config = load_destination_file(write(tmp_path, "lab.yaml", {**MINIMAL, "ack_mode": "enhanced"}))
    assert (config.accept_ack_type, config.application_ack_type) == (None, None)
    assert (config.msh_accept_ack_type, config.msh_application_ack_type) == ("AL", "NE")
    # A definition from before these keys stays the same definition (its revisions compare).
    assert "ack_type" not in dump_destination(config)


@pytest.mark.parametrize(
    ("accept", "application"), [("AL", "AL"), ("SU", "ER"), ("ER", "SU"), ("NE", "AL")]
)
def test_ack_types_are_taken_in_enhanced_mode(
    tmp_path: Path, accept: str, application: str
) -> None:
    data = {
        **MINIMAL,
        "ack_mode": "enhanced",
        "accept_ack_type": accept,
        "application_ack_type": application,
    }
    config = load_destination_file(write(tmp_path, "lab.yaml", data))
    assert (config.msh_accept_ack_type, config.msh_application_ack_type) == (accept, application)
    text = dump_destination(config)
    assert f"accept_ack_type: {accept}\napplication_ack_type: {application}\n" in text
    assert load_destination_file(write(tmp_path, "again.yaml", text)) == config


@pytest.mark.parametrize(
    ("accept", "application"), [("NE", None), ("ER", None), ("NE", "NE"), ("ER", "ER")]
)
def test_ack_types_under_which_a_success_is_never_answered_are_refused(
    tmp_path: Path, accept: str, application: str | None
) -> None:
    data = {**MINIMAL, "ack_mode": "enhanced", "accept_ack_type": accept}
    if application is not None:
        data["application_ack_type"] = application
    error = refused(tmp_path, data)
    assert (error.key, error.code) == ("application_ack_type", "success_unanswered")
    assert "must be AL or SU when accept_ack_type is NE or ER" in error.rule


def test_an_ack_type_with_original_mode_is_refused_even_when_it_is_the_default(
    tmp_path: Path,
) -> None:
    data = {**MINIMAL, "ack_mode": "original", "accept_ack_type": "AL"}
    error = refused(tmp_path, data)
    assert (error.key, error.code) == ("accept_ack_type", "ack_type_needs_enhanced")
    assert error.rule == (
        "applies only with ack_mode: enhanced (in original mode MSH-15/16 stay empty); "
        "remove it or set ack_mode: enhanced"
    )
    # Written as null it is not set, in either mode (the API's GET shows it so).
    config = destination_from_mapping({**MINIMAL, "application_ack_type": None}, source="api")
    assert config.application_ack_type is None


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_destination_file(write(tmp_path, "lab.yaml", MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        config.port = 1  # type: ignore[misc]


# --- every rule ------------------------------------------------------------------------------

VERSION_NAME = "must be a message version's name, in lower case: a-z, 0-9 and '-', as ref-v2"

BAD_VALUES: list[tuple[str, Any, str, str]] = [
    ("id", "Lab_Oost", "id", "a-z, 0-9 and '-'"),
    ("id", "", "id", "a-z, 0-9 and '-'"),
    ("name", "", "name", "at least 1 character"),
    # Free text is bounded: a 5000-character name made the console 60,000 px wide.
    ("name", "N" * 201, "name", "at most 200 characters"),
    ("id", "a" * 65, "id", "at most 64 characters"),
    ("cluster", "C" * 65, "cluster", "at most 64 characters"),
    ("providers", ["a", "p" * 129], "providers[1]", "at most 128 characters"),
    ("host", "h" * 254, "host", "at most 253 characters"),
    ("tls", {"server_name": "s" * 254}, "tls.server_name", "at most 253 characters"),
    ("providers", ["a", "a"], "providers", "only once"),
    ("providers", ["a", 7], "providers[1]", "valid string"),
    ("host", "my host", "host", "without spaces"),
    ("port", 0, "port", "must be a whole number from 1 to 65535"),
    ("port", 65536, "port", "must be a whole number from 1 to 65535"),
    ("port", "2575", "port", "must be a whole number from 1 to 65535"),
    ("port", True, "port", "must be a whole number from 1 to 65535"),
    ("messages", {}, "messages", "needs a message version"),
    ("messages", {"lab": "orm-v3"}, "messages.lab", "unknown event type: the keys are referral"),
    ("messages", {"referal": "ref-v2"}, "messages.referal", "(did you mean referral?)"),
    # The HL7 version or message type for the name, a capital, nothing, a number: said at the
    # key, with what a name is like and where the names are (pydantic's "a valid string").
    *(
        ("messages", {"diagnostic_request": name}, "messages.diagnostic_request", VERSION_NAME)
        for name in ("REF V2", "2.5.1", "ORM-v3", "REF^I12", "", None, 3)
    ),
    ("messages", ["orm-v3"], "messages", "must be a mapping of event types"),
    ("receiving_application", "HIS|X", "receiving_application", "without '|'"),
    ("receiving_facility", "Z\nN", "receiving_facility", "one line"),
    ("ack_mode", "fast", "ack_mode", "'original' or 'enhanced'"),
    ("accept_ack_type", "XX", "accept_ack_type", "AL, NE, ER or SU (HL7 table 0155"),
    ("application_ack_type", "al", "application_ack_type", "AL, NE, ER or SU"),
    ("application_ack_type", ["AL"], "application_ack_type", "AL, NE, ER or SU"),
    # MINIMAL is in original mode, where MSH-15/16 stay empty: the key would be ignored.
    ("accept_ack_type", "AL", "accept_ack_type", "only with ack_mode: enhanced"),
    ("application_ack_type", "AL", "application_ack_type", "only with ack_mode: enhanced"),
    ("connect_timeout", "10 seconds", "connect_timeout", "like 500ms, 30s, 10m or 24h"),
    ("ack_timeout", "0s", "ack_timeout", "greater than 0"),
    ("ack_timeout", ["30s"], "ack_timeout", "like 500ms"),
    ("connections", 0, "connections", "greater than or equal to 1"),
    ("connections", 33, "connections", "less than or equal to 32"),
    ("connections", 2**63, "connections", "less than or equal to 32"),
    ("ordering", "lifo", "ordering", "'fifo' or 'rotate'"),
    ("rate_limit", 0, "rate_limit", "greater than 0"),
    ("rate_limit", -2.5, "rate_limit", "greater than 0"),
    ("retry", {"initial": "forever"}, "retry.initial", "like 500ms"),
    ("retry", {"multiplier": 0.5}, "retry.multiplier", "greater than or equal to 1"),
    ("retry", {"max_attempts": 0}, "retry.max_attempts", "greater than or equal to 1"),
    ("retry", {"max_age": "-1h"}, "retry.max_age", "like 500ms"),
    (
        "retry",
        {"initial": "1m", "max_delay": "30s"},
        "retry.max_delay",
        "shorter than retry.initial",
    ),
    ("retry", {"on_error": "ignore"}, "retry.on_error", "'retry' or 'deadletter'"),
    ("retry", {"on_reject": "drop"}, "retry.on_reject", "'retry' or 'deadletter'"),
    ("retry", {"backoff": "2s"}, "retry.backoff", "unknown key"),
    ("tls", {"ca_file": "/does/not/exist.pem"}, "tls.ca_file", "does not exist"),
    ("tls", {"ca_file": "does/not/exist.pem"}, "tls.ca_file", "must be an absolute path"),
    ("tls", {"verify": False}, "tls.verify", "unknown key"),
    ("tls", {"server_name": "a b"}, "tls.server_name", "without spaces"),
    ("auto_upgrade", "yes please", "auto_upgrade", "valid boolean"),
    ("enabled", 1, "enabled", "valid boolean"),
    ("ack_timout", "30s", "ack_timout", "unknown key"),
    # A URL or host:port was taken and failed at every attempt, as retries.
    ("host", "mllp://hospital.example.nl:2575", "host", "not a URL (the port goes in port)"),
    ("host", "hospital.example.nl/his", "host", "not a URL"),
    ("host", "hospital.example.nl:2575", "host", "without a port (the port goes in port"),
    ("host", "[::1]", "host", "without a port"),
    ("host", "zieken*huis", "host", "must be a host name (letters, digits"),
    # Names no resolver takes, and addresses that are none (RFC 1123; IPv4 is 0-255 four times).
    *(
        ("host", host, "host", "must be a host name (letters, digits")
        for host in (
            "-",
            ".",
            "..",
            "-lab..west-",
            "lab..west",
            ".lab-west",
            "lab-west-",
            "-lab-west",
            "lab.-west",
            "l" * 64 + ".example",
            "999.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "127.0.0.1.",
        )
    ),
]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.250.0.255",
        "localhost",
        "his.ziekenhuis-noord.nl",
        "his.ziekenhuis-noord.nl.",  # fully qualified, ending in the root
        "his_receiver",
        "lab-2",
        "2lab",
        "x",
        "l" * 63 + ".example",
        "a1.b2.c3",
        "::1",
        "fe80::1",
        "2001:db8::10",
    ],
)
def test_a_host_is_a_name_or_an_address(tmp_path: Path, host: str) -> None:
    config = load_destination_file(write(tmp_path, "lab-oost.yaml", {**MINIMAL, "host": host}))
    assert config.host == host


@pytest.mark.parametrize(("key", "value", "where", "rule"), BAD_VALUES)
def test_each_mistake_names_file_key_and_rule(
    tmp_path: Path, key: str, value: Any, where: str, rule: str
) -> None:
    error = refused(tmp_path, {**MINIMAL, key: value})
    assert error.key == where
    assert rule in error.rule
    assert error.file == str(tmp_path / "dest.yaml")


@pytest.mark.parametrize("key", ["id", "name", "host", "port", "messages"])
def test_required_keys(tmp_path: Path, key: str) -> None:
    data = {k: v for k, v in MINIMAL.items() if k != key}
    error = refused(tmp_path, data)
    assert (error.key, error.rule) == (key, "required")


@pytest.mark.parametrize(
    ("key", "value", "where", "suggested"),
    [
        ("ack_timout", "30s", "ack_timout", "ack_timeout"),
        ("prot", 2575, "prot", "port"),
        ("retry", {"intial": "1s"}, "retry.intial", "initial"),
        ("tls", {"ca_fil": "x.pem"}, "tls.ca_fil", "ca_file"),
    ],
)
def test_an_unknown_key_close_to_a_known_one_is_suggested(
    tmp_path: Path, key: str, value: Any, where: str, suggested: str
) -> None:
    error = refused(tmp_path, {**MINIMAL, key: value})
    assert (error.key, error.rule) == (where, f"unknown key (did you mean {suggested}?)")


def test_an_unknown_key_like_none_gets_no_suggestion(tmp_path: Path) -> None:
    error = refused(tmp_path, {**MINIMAL, "colour": "blue"})
    assert (error.key, error.rule) == ("colour", "unknown key")


def test_all_mistakes_are_collected(tmp_path: Path) -> None:
    error = refused(tmp_path, {**MINIMAL, "port": 0, "ordering": "lifo", "extra": 1})
    assert [p.key for p in error.problems] == ["port", "ordering", "extra"]
    assert error.problems[0] is error


def test_rules_never_echo_the_value(tmp_path: Path) -> None:
    error = refused(tmp_path, {**MINIMAL, "name": "Jansen\n1990-01-01"})
    assert "Jansen" not in str(error)


def test_yaml_syntax_error_has_a_line_number(tmp_path: Path) -> None:
    error = refused(tmp_path, "id: lab\nname: Lab\nport: [2575\nhost: x\n")
    assert error.key.startswith("line ")
    assert "YAML syntax error" in error.rule


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    error = refused(tmp_path, "id: lab\nretry:\n\tinitial: 2s\n")
    assert error.key == "line 3"
    # In the pure-Python parser's words, which name the tab (libyaml's say "a character").
    assert error.rule == "YAML syntax error: found character '\\t' that cannot start any token"


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, "id: lab\nport: 1\nname: x\nport: 2\n")
    assert (error.key, error.rule) == ("port", "appears more than once (line 4)")


@pytest.mark.parametrize(
    ("text", "rule"),
    [("", "empty"), ("- a\n- b\n", "must be a mapping"), ("just text\n", "must be a mapping")],
)
def test_non_mapping_documents_are_refused(tmp_path: Path, text: str, rule: str) -> None:
    error = refused(tmp_path, text)
    assert error.key == "(document)"
    assert rule in error.rule


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(DestinationFileError, match="cannot be read"):
        load_destination_file(tmp_path / "missing.yaml")
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: Caf\xe9\n")
    with pytest.raises(DestinationFileError, match="not UTF-8"):
        load_destination_file(path)


def test_destination_from_mapping_names_its_source() -> None:
    config = destination_from_mapping(MINIMAL, source="api")
    assert config.id == "lab-oost"
    with pytest.raises(DestinationFileError, match=r"^api: port: ") as info:
        destination_from_mapping({**MINIMAL, "port": -1}, source="api")
    assert info.value.file == "api"
    with pytest.raises(DestinationFileError, match="must be a mapping"):
        destination_from_mapping(["x"], source="api")  # type: ignore[arg-type]


# --- TLS files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a client certificate and key it signed, and a second CA (for a key of another)."""
    from tests.destinations.test_tls import _ca, _leaf

    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not found")
    directory = tmp_path_factory.mktemp("pki-config")
    _ca(directory, "ca")
    _ca(directory, "other")
    _leaf(directory, "client", "ca", "clientAuth")
    return directory


def test_tls_files_must_exist_and_a_key_needs_a_certificate(tmp_path: Path, pki: Path) -> None:
    ca = pki / "ca.pem"
    tls = TlsSettings(ca_file=ca, server_name="his.example")
    assert tls.ca_file == ca
    error = refused(tmp_path, {**MINIMAL, "tls": {"ca_file": str(ca), "key_file": str(ca)}})
    assert (error.key, error.rule) == ("tls.key_file", "key_file needs cert_file")
    error = refused(tmp_path, {**MINIMAL, "tls": {"ca_file": str(tmp_path)}})
    assert (error.key, error.rule) == ("tls.ca_file", "is a directory, not a file")
    error = refused(tmp_path, {**MINIMAL, "tls": {"ca_file": str(tmp_path / "gone.pem")}})
    assert (error.key, error.rule) == ("tls.ca_file", "file does not exist")


@without_file_powers
def test_tls_file_must_be_readable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder")
    ca.chmod(0)
    error = refused(tmp_path, {**MINIMAL, "tls": {"ca_file": str(ca)}})
    assert (error.key, error.rule) == ("tls.ca_file", "file is not readable")


def test_tls_files_must_load_as_what_they_are_named_for(tmp_path: Path, pki: Path) -> None:
    """A file there that is no certificate, or a key that is not the certificate's, is refused
    when the definition is read, naming the key and the system's reason, never the content."""
    junk = tmp_path / "junk.pem"
    junk.write_text("BSN 123456782, not PEM")
    ca, cert, key = pki / "ca.pem", pki / "client.pem", pki / "client.key"

    def problem(tls: dict[str, str]) -> tuple[str, str, str | None]:
        error = refused(tmp_path, {**MINIMAL, "tls": tls})
        assert "123456782" not in str(error)
        return error.key, error.rule, error.code

    assert problem({"ca_file": str(junk)}) == (
        "tls.ca_file",
        "could not be loaded as CA certificates (NO_CERTIFICATE_OR_CRL_FOUND)",
        "unreadable",
    )
    assert problem({"ca_file": str(key)})[:2] == (
        "tls.ca_file",
        "could not be loaded as CA certificates (NO_CERTIFICATE_OR_CRL_FOUND)",
    )
    assert problem({"cert_file": str(junk), "key_file": str(key)})[:2] == (
        "tls.cert_file",
        "could not be loaded as a certificate (NO_CERTIFICATE_OR_CRL_FOUND)",
    )
    assert problem({"cert_file": str(cert), "key_file": str(pki / "other.key")})[:2] == (
        "tls.key_file",
        "could not be loaded as the key of tls.cert_file (KEY_VALUES_MISMATCH)",
    )
    key_file, rule, _ = problem({"cert_file": str(cert), "key_file": str(junk)})
    assert key_file == "tls.key_file" and rule.startswith("could not be loaded as the key of")
    key_file, rule, _ = problem({"cert_file": str(cert)})  # a certificate without its key
    assert key_file == "tls.key_file"
    assert rule.startswith("could not be loaded: tls.cert_file holds no key of its own to use (")

    both = tmp_path / "both.pem"
    both.write_text(cert.read_text() + key.read_text())
    for tls in (
        {"ca_file": str(ca)},
        {"ca_file": str(ca), "cert_file": str(cert), "key_file": str(key)},
        {"cert_file": str(both)},  # a certificate and its key in one file
    ):
        path = write(tmp_path, "dest.yaml", {**MINIMAL, "tls": tls})
        assert load_destination_file(path).tls is not None


def test_a_recorded_definition_is_taken_without_looking_at_its_files(tmp_path: Path) -> None:
    """A revision in the store was checked when it was made: a TLS file gone since does not
    make it unusable (the engine runs on it, delivery says what is wrong at each attempt)."""
    gone = {**MINIMAL, "tls": {"ca_file": str(tmp_path / "gone.pem")}}
    with pytest.raises(DestinationFileError, match="file does not exist"):
        destination_from_mapping(gone, source="api")
    config = destination_from_mapping(gone, source="revision 1", check_files=False)
    assert config.tls is not None and config.tls.ca_file == tmp_path / "gone.pem"


# --- directories -----------------------------------------------------------------------------


def test_directory_loads_sorted_and_reports_bad_files(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", {**MINIMAL, "id": "b"})
    write(tmp_path, "a.yaml", {**MINIMAL, "id": "a"})
    write(tmp_path, "d.yaml", {**MINIMAL, "id": "d", "port": 0, "ordering": "x"})
    write(tmp_path, "notes.txt", "not a destination")
    write(tmp_path, ".a.yaml.swp.yaml", "an editor's file: hidden, so never read")
    configs, errors = load_destination_dir(tmp_path)
    assert [c.id for c in configs] == ["a", "b"]
    assert [(Path(e.file).name, e.key) for e in errors] == [
        ("d.yaml", "port"),
        ("d.yaml", "ordering"),
    ]


def test_a_copy_under_another_name_cannot_take_a_destination_over(tmp_path: Path) -> None:
    # "lab-west-backup.yaml" sorts before "lab-west.yaml": the copy used to win the id.
    own = write(tmp_path, "lab-west.yaml", {**MINIMAL, "id": "lab-west", "port": 2576})
    copy = write(tmp_path, "lab-west-backup.yaml", {**MINIMAL, "id": "lab-west", "port": 2999})
    loaded, errors = load_destination_files(tmp_path)
    assert [(file, config.port) for file, config in loaded] == [(str(own), 2576)]
    [error] = errors
    assert (error.file, error.key) == (str(copy), "id")
    assert str(own) in error.rule and "<id>.yaml" in error.rule
    assert str(error) == f"{copy}: id: {error.rule}"


def test_a_file_not_named_after_its_id_is_refused_naming_the_right_name(tmp_path: Path) -> None:
    wrong = write(tmp_path, "lab-oost-new.yaml", MINIMAL)
    yml = write(tmp_path, "lab-zuid.yml", {**MINIMAL, "id": "lab-zuid"})
    loaded, errors = load_destination_files(tmp_path)
    assert loaded == []
    assert [(e.file, e.key) for e in errors] == [(str(wrong), "id"), (str(yml), "id")]
    assert f"rename it to {tmp_path / 'lab-oost.yaml'}" in errors[0].rule
    assert f"rename it to {tmp_path / 'lab-zuid.yaml'}" in errors[1].rule


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    configs, errors = load_destination_dir(tmp_path / "nope")
    assert configs == []
    assert [(e.key, e.rule) for e in errors] == [("(directory)", "does not exist")]


def test_a_file_where_the_directory_should_be_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "destinations").write_text("a file\n")
    configs, errors = load_destination_dir(tmp_path / "destinations")
    assert configs == []
    assert [(e.key, e.rule, e.code) for e in errors] == [
        ("(directory)", "is not a directory", "directory_not_a_directory")
    ]


# --- dump ------------------------------------------------------------------------------------


def test_dump_uses_spec_key_order_and_duration_style() -> None:
    config = load_destination_file(EXAMPLES / "ziekenhuis-noord.yaml")
    text = dump_destination(config)
    keys = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    unset = ("accept_ack_type", "application_ack_type")  # not written unless set
    assert keys == [key for key in DestinationConfig.model_fields if key not in unset]
    assert "connect_timeout: 10s\n" in text
    assert "ack_timeout: 30s\n" in text
    assert "providers: [ziekenhuis-noord]\n" in text
    assert "  max_delay: 10m\n" in text
    assert "  max_age: 24h\n" in text
    assert "  multiplier: 2\n" in text


def test_dump_then_load_gives_an_equal_config(tmp_path: Path, pki: Path) -> None:
    ca = pki / "ca.pem"
    config = destination_from_mapping(
        {
            **MINIMAL,
            "name": "Ziekenhuis Zuid – Noörd: 'x' # y",
            "cluster": "123",
            "providers": ["zz", "yes", "null"],
            "messages": {"diagnostic_request": "oml-v3", "referral": "ref-v1"},
            "connect_timeout": "1500ms",
            "ack_timeout": 0.25,
            "rate_limit": 12.5,
            "connections": 3,
            "ordering": "rotate",
            "ack_mode": "enhanced",
            "accept_ack_type": "SU",
            "application_ack_type": "AL",
            "retry": {"initial": "750ms", "multiplier": 1.5, "max_age": "36h"},
            "tls": {"ca_file": str(ca), "server_name": "his.example"},
            "auto_upgrade": True,
            "enabled": False,
        },
        source="test",
    )
    path = write(tmp_path, "round.yaml", dump_destination(config))
    assert load_destination_file(path) == config


# --- the cluster's name ----------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["   ", "", " north ", "north ", "\u00a0north"])
def test_a_blank_or_padded_cluster_is_refused_naming_the_key_and_the_rule(
    tmp_path: Path, cluster: str
) -> None:
    # " north " is another cluster than north: no north grant would see the destination.
    error = refused(tmp_path, {**MINIMAL, "cluster": cluster})
    assert (error.key, error.code) == ("cluster", "cluster_name")
    assert error.rule == "must not be blank nor begin or end with white space"


def test_a_recorded_definition_keeps_its_padded_cluster() -> None:
    # A revision stored before the rule must read back, or its destination would lose its last
    # good definition (docs/operators.md, broken destinations).
    recorded = destination_from_mapping(
        {**MINIMAL, "cluster": " north "}, source="revision 3", check_files=False
    )
    assert recorded.cluster == " north "
    with pytest.raises(DestinationFileError) as held:
        destination_from_mapping(
            {**MINIMAL, "cluster": " north "}, source="edit", check_files=False, recorded=False
        )
    assert held.value.code == "cluster_name"
