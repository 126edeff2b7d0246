"""Cross-field rules that pydantic skipped, judged on the decoded body of a refused event.

pydantic runs a model's `mode="after"` validators, the rules that span its fields, only when
every field of that model validated, and a model with a failing field fails the model around it
too. So a sender who broke a field rule and a cross-field rule (no BSN and no address, and a
birth date that is no date) was told them one round at a time. On the error path of
`schemas.parse.parse_event` only (an accepted event never comes here, so the accepted path is
unchanged), `DeferredRules.errors` judges those rules again and adds what pydantic left out.

The rules stay written once, in the model validators. A check here builds a stand-in of the
model with `model_construct`, holding only the inputs its rule reads, normalised as their fields
normalise them, and calls the validator itself on it. (Validators and checks calling shared
predicates would cost every accepted event a Python call per validator.)

A rule is judged only when each of its inputs is valid (no error of its own at or inside its
path) or absent (then it is its default, as validation makes it; a blank optional string is
absent). An input that broke its own field rule gives no second, derived error: an invalid birth
date is not also said to be later than `created_at`. A validator that ran and passed is judged
the same way again, and passes again, so the checks need not know which ones pydantic skipped;
an error pydantic did report is not repeated.

The order: pydantic's errors as it gave them, then the deferred ones in the order pydantic would
have run their validators (a model's fields in declaration order, and a model's own rule after
the rules of the models inside it).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticCustomError, from_json

from schemas.attachments import Attachment, _compact_base64, lower_case_type
from schemas.envelope import EventBase
from schemas.errors import FieldError
from schemas.fields import _blank_to_none, parse_aware_datetime, parse_iso_date
from schemas.parties import Address, Patient, PersonName
from schemas.rules import message_for
from schemas.translate import format_path

Loc = tuple[str | int, ...]
_Model = TypeVar("_Model", bound=BaseModel)

DEFERRED_RULES: Final = frozenset(
    {
        "partner_family_required",
        "postcode_format",
        "bsn_or_address",
        "content_mismatch",
        "attachments_total_too_large",
        "birth_date_after_created_at",
    }
)
"""The rules the model validators report. An error of one of these does not make its field an
invalid input of another rule: the data of an attachment whose content is not its declared type
still has a size."""


# Where a path steps into a field or an item: `patient.address`, `attachments[0]`.
_STEP: Final = re.compile(r"[.\[]")


def _as_given(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    """A text field's value: stripped, as the models' `str_strip_whitespace` leaves it."""
    return value.strip() if isinstance(value, str) else value


def _optional_text(value: Any) -> Any:
    """An optional text field's value: blank is absent (None), else stripped."""
    return _text(_blank_to_none(value))


class _Judge:
    """The errors pydantic reported, and the deferred ones found so far."""

    def __init__(self, reported: tuple[FieldError, ...]) -> None:
        self._reported = {(error.path, error.rule) for error in reported}
        # Each path with an error of its own, and every path around one, so that a look-up
        # stays one set probe however many errors a body has (thousands, for thousands of
        # attachments). A key holding "." or "[" adds a path that is not one: not judging a
        # rule for it errs on the side of reporting less.
        self._own: set[str] = set()
        self._broken: set[str] = set()
        for error in reported:
            if error.rule not in DEFERRED_RULES:
                self._own.add(error.path)
                self._broken.update(error.path[: at.start()] for at in _STEP.finditer(error.path))
        self._broken |= self._own
        self.found: dict[FieldError, None] = {}

    def broken(self, loc: Loc) -> bool:
        """Whether the value at `loc`, or one inside it, broke a rule of its own."""
        return format_path(loc) in self._broken

    def refused_whole(self, loc: Loc) -> bool:
        """Whether the value at `loc` itself broke a rule of its own: a list longer than its
        maximum, whose items pydantic did not read, nor are they judged here."""
        return format_path(loc) in self._own

    def inputs(
        self, raw: dict[str, Any], loc: Loc, fields: Mapping[str, Callable[[Any], Any]]
    ) -> dict[str, Any] | None:
        """The fields given in `raw`, each normalised by its function; None when any of `fields`
        broke its own rule. A field left out of the answer is absent: `model_construct` gives it
        its default, and leaves it out of `model_fields_set`, as validation does."""
        values: dict[str, Any] = {}
        for name, normalise in fields.items():
            if self.broken((*loc, name)):
                return None
            if name in raw:
                try:
                    values[name] = normalise(raw[name])
                except (PydanticCustomError, ValueError):
                    return None  # valid to its field (no error), yet not here: not judged
        return values

    def run(
        self,
        validator: Callable[[_Model], _Model],
        stand_in: _Model,
        loc: Loc,
        rule: str | None = None,
    ) -> None:
        """Call a model validator on a stand-in at `loc`; keep its error if new (of `rule` only,
        when given), placed as `schemas.translate` places a validator's error."""
        try:
            validator(stand_in)
        except PydanticCustomError as error:
            if rule is not None and error.type != rule:
                return
            field = (error.context or {}).get("field")
            where = (*loc, *field.split(".")) if isinstance(field, str) else loc
            found = FieldError(format_path(where), error.type, message_for(error.type))
            if (found.path, found.rule) not in self._reported:
                self.found.setdefault(found, None)


_Check = Callable[[dict[str, Any], Loc, _Judge], None]


def after_validator(model: type[_Model], name: str) -> Callable[[_Model], _Model]:
    """The `mode="after"` validator `name` of `model`, the function pydantic calls; looked up
    by name, so that a validator renamed or removed fails here, at import."""
    decorator = model.__pydantic_decorators__.model_validators[name]
    if decorator.info.mode != "after":
        raise TypeError(f"{model.__name__}.{name} is not an after-validator")
    return decorator.func


def _stand_in(model: type[_Model], values: Mapping[str, Any]) -> _Model:
    """`model` holding `values` unvalidated: a field not given reads as its default (or raises
    AttributeError, when it has none), as its validator would see an absent field."""
    return model.model_construct(**values)


_PARTNER_NAME: Final = after_validator(PersonName, "_partner_name_when_used")
_DUTCH_POSTCODE: Final = after_validator(Address, "_dutch_postcode_format")
_IDENTIFIABLE: Final = after_validator(Patient, "_identifiable")
_DECLARED_TYPE: Final = after_validator(Attachment, "_content_is_declared_type")
_FITS_AND_CONSISTENT: Final = after_validator(EventBase, "_fits_and_consistent")


def _person_name(raw: dict[str, Any], loc: Loc, judge: _Judge) -> None:
    inputs = judge.inputs(raw, loc, {"name_usage": _as_given, "partner_family": _optional_text})
    if inputs is not None:
        judge.run(_PARTNER_NAME, _stand_in(PersonName, inputs), loc)


def _address(raw: dict[str, Any], loc: Loc, judge: _Judge) -> None:
    # A country as given stays in `model_fields_set`; an absent one is the default "NL" and
    # not in it. The validator decides both the same way for a postcode, normalising or not.
    inputs = judge.inputs(raw, loc, {"postcode": _text, "country": _text})
    if inputs is not None and "postcode" in inputs:
        judge.run(_DUTCH_POSTCODE, _stand_in(Address, inputs), loc)


def _patient(raw: dict[str, Any], loc: Loc, judge: _Judge) -> None:
    # The rule reads only whether there is an address, so the valid one as sent stands in.
    inputs = judge.inputs(raw, loc, {"bsn": _optional_text, "address": _as_given})
    if inputs is not None:
        judge.run(_IDENTIFIABLE, _stand_in(Patient, inputs), loc)


def _attachment(raw: dict[str, Any], loc: Loc, judge: _Judge) -> None:
    inputs = judge.inputs(raw, loc, {"content_type": lower_case_type, "data": _compact_base64})
    if inputs is not None and inputs.keys() >= {"content_type", "data"}:
        judge.run(_DECLARED_TYPE, _stand_in(Attachment, inputs), loc)


def _attachment_sizes(
    raw: dict[str, Any], loc: Loc, judge: _Judge
) -> tuple[Attachment, ...] | None:
    """Stand-ins with the data of every attachment, to be summed; None when one is not known."""
    attachments = raw.get("attachments", ())
    if not isinstance(attachments, list | tuple) or judge.refused_whole((*loc, "attachments")):
        return None
    stand_ins = []
    for index, item in enumerate(attachments):
        if not isinstance(item, dict):
            return None
        inputs = judge.inputs(item, (*loc, "attachments", index), {"data": _compact_base64})
        if inputs is None or "data" not in inputs:
            return None
        stand_ins.append(_stand_in(Attachment, inputs))
    return tuple(stand_ins)


# Inputs that pass the birth-date rule: born on the first day there is, on which the event was
# made. With them the envelope's validator judges the attachments alone.
_FIRST_DAY: Final = datetime.date.min
_FIRST_MOMENT: Final = datetime.datetime.combine(_FIRST_DAY, datetime.time(), datetime.UTC)


def _envelope(raw: dict[str, Any], loc: Loc, judge: _Judge) -> None:
    # One validator holds two rules and stops at the first broken one. Each is judged alone:
    # the other given inputs that pass it (no attachments; the birth date above), and only the
    # error of the rule judged is taken.
    attachments = _attachment_sizes(raw, loc, judge)
    if attachments is not None:
        born = _stand_in(Patient, {"birth_date": _FIRST_DAY})
        values = {"attachments": attachments, "patient": born, "created_at": _FIRST_MOMENT}
        judge.run(
            _FITS_AND_CONSISTENT,
            _stand_in(EventBase, values),
            loc,
            rule="attachments_total_too_large",
        )
    patient = raw.get("patient")
    if not isinstance(patient, dict):
        return
    birth = judge.inputs(patient, (*loc, "patient"), {"birth_date": parse_iso_date})
    created = judge.inputs(raw, loc, {"created_at": parse_aware_datetime})
    if birth and created and "birth_date" in birth and "created_at" in created:
        values = {"attachments": (), "patient": _stand_in(Patient, birth), **created}
        judge.run(
            _FITS_AND_CONSISTENT,
            _stand_in(EventBase, values),
            loc,
            rule="birth_date_after_created_at",
        )


_CHECKS: Final[dict[type[BaseModel], _Check]] = {
    PersonName: _person_name,
    Address: _address,
    Patient: _patient,
    Attachment: _attachment,
    EventBase: _envelope,
}
"""A check per model with a `mode="after"` validator (a test holds the two lists together)."""


def _inner_models(annotation: Any, many: bool = False) -> list[tuple[type[BaseModel], bool]]:
    """The models a field's annotation holds, each with whether it is an item of a tuple."""
    if get_origin(annotation) is None and isinstance(annotation, type):
        return [(annotation, many)] if issubclass(annotation, BaseModel) else []
    many = many or get_origin(annotation) is tuple
    return [found for arg in get_args(annotation) for found in _inner_models(arg, many)]


_Plan = tuple[tuple[tuple[str, type[BaseModel], bool], ...], _Check | None]


def _plan(model: type[BaseModel], plans: dict[type[BaseModel], _Plan]) -> None:
    """Into `plans`: for `model` and every model inside it, the fields holding a model, and
    the model's check."""
    nested = []
    for name, info in model.model_fields.items():
        inner = _inner_models(info.annotation)
        if len(inner) > 1:
            # pydantic would choose one; which, a check could not tell from the raw value.
            raise TypeError(f"{model.__name__}.{name} holds more than one model")
        if inner:
            nested.append((name, *inner[0]))
    check = next((c for base, c in _CHECKS.items() if issubclass(model, base)), None)
    plans[model] = (tuple(nested), check)
    for _, inner_model, _ in nested:
        if inner_model not in plans:
            _plan(inner_model, plans)


def _judge_model(
    plan: Mapping[type[BaseModel], _Plan],
    model: type[BaseModel],
    raw: dict[str, Any],
    loc: Loc,
    judge: _Judge,
) -> None:
    nested, check = plan[model]
    for name, inner, many in nested:
        value = raw.get(name)
        if many and isinstance(value, list | tuple):
            if judge.refused_whole((*loc, name)):
                continue
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _judge_model(plan, inner, item, (*loc, name, index), judge)
        elif not many and isinstance(value, dict):
            _judge_model(plan, inner, value, (*loc, name), judge)
    if check is not None:
        check(raw, loc, judge)


class DeferredRules:
    """The cross-field rules of the event models, to judge again on a refused event's body.

    `events` maps each value of `type` to its model; the walk through the models is worked
    out once, here.
    """

    def __init__(self, events: Mapping[str, type[BaseModel]]) -> None:
        self._events = dict(events)
        self._plan: dict[type[BaseModel], _Plan] = {}
        for model in self._events.values():
            _plan(model, self._plan)

    def errors(
        self,
        body: bytes | bytearray | memoryview | str | Mapping[str, Any],
        reported: tuple[FieldError, ...],
    ) -> tuple[FieldError, ...]:
        """The errors of cross-field rules in `body` that `reported` (pydantic's) lacks.

        Nothing when the body as a whole was refused (not JSON, not an object, too much text)
        or its `type` chose no model: pydantic then validated none of its fields, so none of
        their rules was skipped for another (`parse._whatever_the_type` judges such a body as
        each type, with its `type` set, and names what all of them break). Only dicts, lists
        and tuples are looked into; what else a mapping given in Python may hold is left
        unjudged.
        """
        if any(error.path == "$" for error in reported):
            return ()
        if isinstance(body, Mapping):
            decoded: Any = dict(body)
        else:
            try:
                decoded = from_json(body.tobytes() if isinstance(body, memoryview) else body)
            except ValueError:  # pydantic parsed it; kept so that a refusal never becomes a 500
                return ()
        tag = decoded.get("type") if isinstance(decoded, dict) else None
        model = self._events.get(tag) if isinstance(tag, str) else None
        if model is None:
            return ()
        judge = _Judge(reported)
        try:
            _judge_model(self._plan, model, decoded, (), judge)
        except Exception:
            # These checks only add to an answer that is already a refusal: a shape they did
            # not foresee must never turn that 422 into a 500 (nor put a value into a
            # traceback). Pydantic's own errors stand; the rest come in the next round.
            return ()
        return tuple(judge.found)
