"""The destination form: an HTML form's fields to a definition and back, and refusals to fields.

Only translation lives here, never a rule: what is valid is ``DestinationAdmin``'s to decide.
A number that does not parse is handed on as typed, so the service refuses it with its own rule
(``port: Input should be a valid integer``) and the page shows that rule beside the field.

The form holds the keys people change day to day; ``retry`` and ``tls`` are kept as they are
(an edit is a merge patch, so keys the form does not show are left alone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from destinations.config import EVENT_TYPES, DestinationConfig, format_duration

TEXT_FIELDS: Final = (
    "name",
    "cluster",
    "host",
    "receiving_application",
    "receiving_facility",
)
NUMBER_FIELDS: Final = ("port", "connections")
DURATION_FIELDS: Final = ("connect_timeout", "ack_timeout")
CHOICES: Final = {"ack_mode": ("original", "enhanced"), "ordering": ("fifo", "rotate")}
VERSION_FIELDS: Final = tuple(f"messages.{event}" for event in EVENT_TYPES)
GENERAL: Final = ""
"""The key of refusals that belong to no field of the form (``retry``, ``tls``, the file)."""

_INDEX: Final = re.compile(r"\[\d+\]$")


@dataclass
class DestinationForm:
    """What the form shows: each field's value as text, and each field's refusals."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, key: str, rule: str) -> None:
        """Record a refusal beside the field of ``key``, naming the key and the rule."""
        field_name = _field_of(key)
        text = rule if field_name == GENERAL and not key else f"{key}: {rule}"
        self.errors.setdefault(field_name, []).append(text)

    @property
    def general_errors(self) -> list[str]:
        return self.errors.get(GENERAL, [])


def form_of(config: DestinationConfig | None) -> DestinationForm:
    """The form filled with a definition (empty for a new destination)."""
    if config is None:
        values = {"port": "", "connections": "1", "ack_mode": "original", "ordering": "fifo"}
        return DestinationForm(values | {"auto_upgrade": "", "enabled": "on"})
    values = {name: str(getattr(config, name) or "") for name in TEXT_FIELDS}
    values |= {name: str(getattr(config, name)) for name in NUMBER_FIELDS}
    values |= {name: format_duration(getattr(config, name)) for name in DURATION_FIELDS}
    values |= {name: str(getattr(config, name)) for name in CHOICES}
    values["providers"] = ", ".join(config.providers)
    values["rate_limit"] = "" if config.rate_limit is None else f"{config.rate_limit:g}"
    for event in EVENT_TYPES:
        values[f"messages.{event}"] = config.messages.get(event, "")
    values["auto_upgrade"] = "on" if config.auto_upgrade else ""
    values["enabled"] = "on" if config.enabled else ""
    return DestinationForm(values)


def form_from(posted: Mapping[str, Any]) -> DestinationForm:
    """The form as the person sent it, to show again with the refusals."""
    names = (
        *TEXT_FIELDS,
        *NUMBER_FIELDS,
        *DURATION_FIELDS,
        *CHOICES,
        *VERSION_FIELDS,
        "providers",
        "rate_limit",
        "auto_upgrade",
        "enabled",
        "id",
    )
    return DestinationForm({name: str(posted.get(name) or "").strip() for name in names})


def changes_of(form: DestinationForm) -> dict[str, Any]:
    """The keys of the form as a merge patch: a blank optional key goes back to its default."""
    values = form.values
    changes: dict[str, Any] = {name: values.get(name, "") for name in TEXT_FIELDS}
    changes["cluster"] = values.get("cluster") or None
    changes["providers"] = [p.strip() for p in re.split(r"[,\n]", values["providers"]) if p.strip()]
    for name in NUMBER_FIELDS:
        changes[name] = _number(values.get(name, ""), int)
    for name in DURATION_FIELDS:
        changes[name] = values.get(name) or None
    for name in CHOICES:
        changes[name] = values.get(name) or None
    rate = values.get("rate_limit", "")
    changes["rate_limit"] = _number(rate, float) if rate else None
    changes["messages"] = {event: values.get(f"messages.{event}") or None for event in EVENT_TYPES}
    changes["auto_upgrade"] = values.get("auto_upgrade") == "on"
    changes["enabled"] = values.get("enabled") == "on"
    return changes


def definition_of_new(form: DestinationForm) -> dict[str, Any]:
    """A whole new definition: the form's keys without the blank ones (defaults apply)."""
    changes = changes_of(form)
    changes["messages"] = {k: v for k, v in changes["messages"].items() if v is not None}
    definition = {"id": form.values.get("id", "")}
    definition |= {k: v for k, v in changes.items() if v is not None}
    return definition


def _number(text: str, kind: type[int] | type[float]) -> Any:
    """The number typed, or the text itself for the service to refuse with its rule."""
    try:
        return kind(text)
    except ValueError:
        return text


def _field_of(key: str) -> str:
    """The form field a refused key belongs to (``providers[2]`` is ``providers``)."""
    key = _INDEX.sub("", key)
    if key.startswith("messages") and key not in VERSION_FIELDS:
        return "messages.referral"
    known = (*TEXT_FIELDS, *NUMBER_FIELDS, *DURATION_FIELDS, *CHOICES, *VERSION_FIELDS)
    if key in known or key in ("providers", "rate_limit", "auto_upgrade", "enabled", "id"):
        return key
    return GENERAL
