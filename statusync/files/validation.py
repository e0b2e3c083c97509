"""pydantic validation errors -> Problems at the line and column where the value was written,
worded for people: what is wrong, where, and how to fix it (with did-you-mean hints)."""

from __future__ import annotations

import re
from collections.abc import Collection
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from statusync.core.model import ACCOUNT_NAME_PATTERN, MAX_INTEGRATION_ID
from statusync.errors import Problem
from statusync.files.yamldoc import INT10, Document, Loc, Noun, describe, did_you_mean, quote

M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M], doc: Document, nouns: dict[Loc, Noun] | None = None, internal: Collection[str] = ()
) -> M | None:
    """`doc.data` as `model`, or None with every validation error added to `doc.problems`.

    `nouns` names what the keys under a location are ("status category") and how to fix a
    missing one. `internal` names top-level fields the program sets, which a file must not.
    """
    for name in internal:
        if name in doc.data:
            doc.report((name,), f"unknown key {name!r}", at_key=True)
            del doc.data[name]
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
        misspelt = _misspelt(model, errors, internal)
        for error in errors:
            loc = tuple(error["loc"])
            kind = error["type"]
            if kind != "extra_forbidden" and loc in doc.reported or kind == "missing" and loc in misspelt:
                continue
            message = _message(model, doc, error, loc, nouns or {}, internal)
            if kind == "missing" and len(loc) == 1:  # a top-level key: there is no line to point at
                doc.problems.append(Problem(doc.file, None, None, message))
            else:
                target = loc[:-1] if kind == "missing" else loc
                at_key = kind in ("extra_forbidden", "missing")
                doc.problems.append(doc.problem(target, message, at_key=at_key))
        return None
    return None if doc.problems else result


def _misspelt(model: type[BaseModel], errors: list[ErrorDetails], internal: Collection[str]) -> set[Loc]:
    """The keys that unknown keys look like: reported as misspelt, they need no "missing" too."""
    meant: set[Loc] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            loc = tuple(error["loc"])
            hint = did_you_mean(str(loc[-1]), _fields_at(model, loc[:-1], internal))
            if hint is not None:
                meant.add(loc[:-1] + (hint,))
    return meant


def _message(
    model: type[BaseModel],
    doc: Document,
    error: ErrorDetails,
    loc: Loc,
    nouns: dict[Loc, Noun],
    internal: Collection[str],
) -> str:
    kind, parent, name = error["type"], loc[:-1], ".".join(str(p) for p in loc)
    noun, fix = nouns.get(parent, ("key", ""))
    inside = f" in {'.'.join(str(p) for p in parent)}" if parent and noun == "key" else ""
    if kind in ("extra_forbidden", "missing"):
        allowed = _fields_at(model, parent, internal)
        if kind == "missing":
            return f"missing {'required ' if noun == 'key' else ''}{noun} {loc[-1]!r}{inside}{fix}"
        hint = did_you_mean(str(loc[-1]), allowed)
        if hint is not None:
            return f"unknown {noun} {loc[-1]!r}{inside} (did you mean {hint!r}?)"
        return f"unknown {noun} {loc[-1]!r}{inside}; expected one of: {', '.join(allowed)}"
    entry = doc.entries.get(loc)
    value = error["input"]
    got = describe(value)
    ctx = error.get("ctx", {})
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if entry is not None and entry.style in ('"', "'") and INT10.fullmatch(str(value)):
            return f"{name}: expected a number, got {got}; write it unquoted: {value}"
        return f"{name}: expected an integer, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"{name}: expected a number, got {got}"
    if kind == "greater_than" and ctx.get("gt") == 0:
        return f"{name}: expected a positive integer, got {got}"
    if kind == "less_than_equal" and ctx.get("le") == MAX_INTEGRATION_ID:
        return (
            f"{name}: {value} is too large for an integration id: JSON carries integers "
            f"exactly only up to {MAX_INTEGRATION_ID} (2^53 - 1), so a larger one could reach "
            "Sendcloud as another id; check the id in Sendcloud's panel"
        )
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "more than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }
        limit = next(iter(ctx.values()))
        shown = str(limit) if isinstance(limit, int) else f"{limit:g}"
        return f"{name}: expected a number {words[kind]} {shown}, got {got}"
    if kind == "string_type":
        if entry is not None and entry.plain and entry.text:
            return f"{name}: expected a string, got {got}; quote it: {quote(entry.text)}"
        return f"{name}: expected a string, got {got}"
    if kind == "string_too_short":
        return f"{name}: must not be empty"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == ACCOUNT_NAME_PATTERN:
        if value == "":
            return f"{name}: must not be empty"
        return (
            f"{name}: {got} is not an account name: use letters, digits, '.', '_' and '-' "
            "(at most 64, starting with a letter or digit)"
        )
    if kind == "string_pattern_mismatch":  # an external id (mapping files check it first)
        return f"{name}: {got} is blank or holds a control character"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        hint = (
            did_you_mean(str(value), re.findall(r"'([^']*)'", expected)) if isinstance(value, str) else None
        )
        return f"{name}: expected {expected}, got {got}" + (f" (did you mean {hint!r}?)" if hint else "")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{name}: expected a mapping of keys to values, got {got}"
    return f"{name}: {error['msg'][0].lower()}{error['msg'][1:]}"


def _fields_at(model: type[BaseModel], loc: Loc, internal: Collection[str] = ()) -> list[str]:
    """The keys a model allows at `loc`, following nested models and dict values."""
    if not loc:
        return [name for name in model.model_fields if name not in internal]
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field_info = annotation.model_fields.get(str(part))
            if field_info is None:
                return []
            annotation = field_info.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """The model or dict inside `X | None` and `Annotated[X, ...]`."""
    for arg in get_args(annotation) if get_origin(annotation) in (Union, UnionType, Annotated) else ():
        if arg is not type(None):
            return _unwrap(arg)
    return annotation
