"""The keys an object of a request's body takes, to name them when one it does not take came.

pydantic refuses an unknown key of a body model with ``Extra inputs are not permitted``, which
tells a client what it did wrong but not what it may send instead; a query parameter the route
does not take is answered with the parameters it does (``integrator.http.query``). Here the
route's body model is followed along the error's location (a field, an item of a list, the
member of an optional or a union that is a model) to the object the key was sent in, and that
model's keys are the answer. Only names the API declares are said, never what was sent.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel

UNKNOWN_KEY: Final = "unknown key; this object takes {keys}"


def keys_taken(route: object, loc: Sequence[Any]) -> list[str] | None:
    """The keys the body object at ``loc`` (``("body", ..., key)``) takes, as the route's body
    model names them; None where the location leads to no one model."""
    body = getattr(route, "body_field", None)
    if body is None or len(loc) < 2 or loc[0] != "body":
        return None
    node: Any = body.field_info.annotation
    for part in loc[1:-1]:
        node = _inside(node, part)
        if node is None:
            return None
    model = _model(node)
    if model is None:
        return None
    return [field.alias or name for name, field in model.model_fields.items()]


def _inside(annotation: Any, part: Any) -> Any:
    """What ``annotation`` holds at ``part``: a model's field by name (or alias), a list's item
    by index; None where it holds nothing there that can be followed."""
    if isinstance(part, int):
        for arg in _members(annotation):
            if typing.get_origin(arg) in (list, tuple, Sequence) and typing.get_args(arg):
                return typing.get_args(arg)[0]
        return None
    model = _model(annotation)
    if model is None:
        return None
    for name, field in model.model_fields.items():
        if part in (name, field.alias):
            return field.annotation
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    """The one model ``annotation`` is, or holds as ``X | None``; None for anything else."""
    found = [
        arg for arg in _members(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)
    ]
    return found[0] if len(found) == 1 else None


def _members(annotation: Any) -> list[Any]:
    """``annotation`` without ``Annotated`` and split into its union's members."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]
