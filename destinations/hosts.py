"""The form of a host name or address, wherever one is configured: a destination's ``host``
(``destinations.config``) and the address the engine serves its HTTP API on
(``INTEGRATOR_HTTP_HOST``, ``integrator.settings``).

Only the standard library is used: the settings are read by every command, ``integrator
health`` too, which must not load pydantic's models of the destination file or YAML.

A refusal is a short stable name (``code``) and the rule in English; it never repeats the value.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

_HOST_LABEL: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
"""One label of a host name (RFC 1123): 1 to 63 letters, digits and '-', not beginning or
ending with '-'; '_' too, which DNS does not forbid and internal names use."""
_DIGITS_AND_DOTS: Final = re.compile(r"[0-9.]+")

HOST_NAME_RULE: Final = (
    "must be a host name (letters, digits, '-', '.', '_': labels of 1 to 63 characters between "
    "single dots, none beginning or ending with '-') or an address (IPv4 as four numbers 0-255)"
)


def is_host_name(value: str) -> bool:
    """A host name of labels (one trailing dot, the root, allowed), or an IPv4 address: a
    name of digits and dots only is an address, and must be one (``999.1.1.1`` is neither)."""
    if _DIGITS_AND_DOTS.fullmatch(value):
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return False
        return True
    labels = value[:-1].split(".") if value.endswith(".") else value.split(".")
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def is_ipv6(value: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address)
    except ValueError:
        return False


def host_problem(value: str, *, port: str) -> tuple[str, str] | None:
    """Why ``value`` is no host name or address, as ``(code, rule)``; None when it is one.

    A name or an address only: ``mllp://host:2575`` or ``host:2575`` were taken and failed
    later (a destination at every attempt; the engine's API when it bound its port, exit 1, as
    if the port were taken), instead of being refused where they were written. ``port`` is
    what the port is called where this host is configured, for the rule that says where it
    goes instead.
    """
    if any(c.isspace() for c in value):
        return "host", "must be a host name or address without spaces"
    if "://" in value or "/" in value:
        return "host_url", f"must be a host name or address, not a URL (the port goes in {port})"
    if ":" in value and not is_ipv6(value):
        return (
            "host_port",
            f"must be a host name or address without a port (the port goes in {port}; an IPv6 "
            "address without brackets)",
        )
    if ":" not in value and not is_host_name(value):
        return "host_name", HOST_NAME_RULE
    return None


def with_port(host: str, port: int) -> str:
    """``host:port`` as a URL writes it: an IPv6 address in brackets (``[::1]:8080``), or the
    port would read as a part of the address."""
    return f"[{host}]:{port}" if is_ipv6(host) else f"{host}:{port}"
