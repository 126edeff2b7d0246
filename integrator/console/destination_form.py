"""The destination form: an HTML form's fields to a definition and back, and refusals to fields.

Only translation lives here, never a rule: what is valid is ``DestinationAdmin``'s to decide.
A number that does not parse is handed on as typed, so the service refuses it with its own rule
(``port: Input should be a valid integer``) and the page shows that rule beside the field.

The form holds the keys people change day to day; ``retry`` and ``tls`` are kept as they are
(an edit is a merge patch, so keys the form does not show are left alone). An edit's patch holds
only the fields the person changed, compared with the definition the form was filled with (the
revision it carries), so a save never writes back what someone else changed meanwhile; the
service refuses it anyway when that revision is no longer the one in service. ``enabled`` is
set when adding only: afterwards pausing and resuming, which ask for a reason, change it. The
change's ``reason`` rides along in the form's values (no key of the definition), so a refused
save shows it again as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from destinations.config import (
    ACK_TYPES,
    DEFAULT_ACCEPT_ACK_TYPE,
    DEFAULT_APPLICATION_ACK_TYPE,
    EVENT_TYPES,
    MAX_HOST,
    MAX_ID,
    MAX_NAME,
    DestinationConfig,
    format_duration,
)
from destinations.ids import MAX_CLUSTER
from integrator.console.refusals import Said

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
ACK_TYPE_FIELDS: Final = {
    "accept_ack_type": DEFAULT_ACCEPT_ACK_TYPE,
    "application_ack_type": DEFAULT_APPLICATION_ACK_TYPE,
}
"""MSH-15/16, each offered as its default (blank: the key is not written) or a value of
``ACK_TYPE_OPTIONS``; the service refuses one set in original mode."""
ACK_TYPE_OPTIONS: Final = ACK_TYPES
VERSION_FIELDS: Final = tuple(f"messages.{event}" for event in EVENT_TYPES)
EDIT_FIELDS: Final = (
    *TEXT_FIELDS,
    "providers",
    *NUMBER_FIELDS,
    *DURATION_FIELDS,
    *CHOICES,
    *ACK_TYPE_FIELDS,
    "rate_limit",
    *VERSION_FIELDS,
    "auto_upgrade",
)
"""The fields of an edit, in the form's order (``enabled`` is not one: see above)."""
MAX_LENGTHS: Final = {
    "id": MAX_ID,
    "name": MAX_NAME,
    "cluster": MAX_CLUSTER,
    "host": MAX_HOST,
    "receiving_application": 227,
    "receiving_facility": 227,
}
"""``maxlength`` of the text inputs: the bounds of the destination file's rules, so a browser
stops the typing where the service would refuse it."""
GENERAL: Final = ""
"""The key of refusals that belong to no field of the form (``retry``, ``tls``, the file)."""

_INDEX: Final = re.compile(r"\[\d+\]$")


@dataclass
class DestinationForm:
    """What the form shows: each field's value as text, and each field's refusals."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    revision: int | None = None
    """The revision the form was filled with (an edit sends it back as its expectation)."""

    def error(self, key: str, rule: str) -> None:
        """Record a refusal beside the field of ``key``, naming the key and the rule; a rule
        that is a ``Said`` (``refusals.definition_problem``) stays one, with ``key`` as its
        field, so the page words it in the person's language."""
        field_name = _field_of(key)
        if not key:
            text = rule
        elif isinstance(rule, Said):
            # A refusal that names its key itself (``cluster: you may not …``) names it once.
            own = rule.rule.removeprefix(f"{key}: ")
            text = Said(own, rule.code, field=key, values=rule.values, key=True)
        else:
            text = f"{key}: {rule}"
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
    values |= {name: getattr(config, name) or "" for name in ACK_TYPE_FIELDS}
    values["providers"] = ", ".join(config.providers)
    values["rate_limit"] = "" if config.rate_limit is None else f"{config.rate_limit:g}"
    for event in EVENT_TYPES:
        values[f"messages.{event}"] = config.messages.get(event, "")
    values["auto_upgrade"] = "on" if config.auto_upgrade else ""
    values["enabled"] = "on" if config.enabled else ""
    return DestinationForm(values)


def form_from(posted: Mapping[str, Any]) -> DestinationForm:
    """The form as the person sent it, to show again with the refusals; ``revision`` is None
    unless a whole number was sent."""
    names = (
        *TEXT_FIELDS,
        *NUMBER_FIELDS,
        *DURATION_FIELDS,
        *CHOICES,
        *ACK_TYPE_FIELDS,
        *VERSION_FIELDS,
        "providers",
        "rate_limit",
        "auto_upgrade",
        "enabled",
        "id",
        "reason",
    )
    revision = str(posted.get("revision") or "").strip()
    return DestinationForm(
        {name: str(posted.get(name) or "").strip() for name in names},
        revision=int(revision) if revision.isdigit() else None,
    )


def changed_fields(form: DestinationForm, loaded: DestinationForm) -> list[str]:
    """The fields of an edit whose value differs from the form as it was filled (``loaded``),
    compared as the definition takes them (``a,b`` is ``a, b``)."""
    mine, theirs = _field_values(form), _field_values(loaded)
    return [name for name in EDIT_FIELDS if mine[name] != theirs[name]]


def changes_of(form: DestinationForm, loaded: DestinationForm) -> dict[str, Any]:
    """The merge patch of an edit: only the fields the person changed since ``loaded`` (a
    blank optional key goes back to its default), so what they left alone is never written."""
    values = _field_values(form)
    changes: dict[str, Any] = {}
    for name in changed_fields(form, loaded):
        if name in VERSION_FIELDS:
            changes.setdefault("messages", {})[name.removeprefix("messages.")] = values[name]
        else:
            changes[name] = values[name]
    return changes


def rebased(
    form: DestinationForm, loaded: DestinationForm, current: DestinationForm
) -> DestinationForm:
    """The person's changes (``form`` against ``loaded``) on top of the definition in service
    now (``current``, with its revision): what a refused save shows again, so that saving it
    keeps both the person's changes and the ones made meanwhile."""
    values = dict(current.values)
    for name in changed_fields(form, loaded):
        values[name] = form.values.get(name, "")
    values["reason"] = form.values.get("reason", "")  # why they change it: theirs still
    return DestinationForm(values, revision=current.revision)


def definition_of_new(form: DestinationForm) -> dict[str, Any]:
    """A whole new definition: the form's keys without the blank ones (defaults apply)."""
    values = _field_values(form)
    definition: dict[str, Any] = {"id": form.values.get("id", "")}
    messages = {}
    for name in EDIT_FIELDS:
        if name in VERSION_FIELDS:
            if values[name] is not None:
                messages[name.removeprefix("messages.")] = values[name]
        elif values[name] is not None:
            definition[name] = values[name]
    definition["messages"] = messages
    definition["enabled"] = form.values.get("enabled") == "on"
    return definition


def _field_values(form: DestinationForm) -> dict[str, Any]:
    """Each field as the definition takes it; None: blank, back to the default."""
    values = form.values
    out: dict[str, Any] = {name: values.get(name, "") for name in TEXT_FIELDS}
    out["cluster"] = values.get("cluster") or None
    out["providers"] = [
        p.strip() for p in re.split(r"[,\n]", values.get("providers", "")) if p.strip()
    ]
    for name in NUMBER_FIELDS:
        out[name] = _number(values.get(name, ""), int)
    for name in (*DURATION_FIELDS, *CHOICES, *ACK_TYPE_FIELDS, *VERSION_FIELDS):
        out[name] = values.get(name) or None
    rate = values.get("rate_limit", "")
    out["rate_limit"] = _number(rate, float) if rate else None
    out["auto_upgrade"] = values.get("auto_upgrade") == "on"
    return out


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
    known = (
        *TEXT_FIELDS,
        *NUMBER_FIELDS,
        *DURATION_FIELDS,
        *CHOICES,
        *ACK_TYPE_FIELDS,
        *VERSION_FIELDS,
    )
    own = ("providers", "rate_limit", "auto_upgrade", "enabled", "id", "reason")
    if key in known or key in own:
        return key
    return GENERAL
