"""What the sandbox accepts and how it refuses: request bodies as pydantic models, JSON:API errors.

The models mirror the spec's request schemas (`create-custom-status-mapping`,
`post-shop-order-statuses`) so that the sandbox rejects exactly what the real API rejects. They are
pydantic, not jsonschema: jsonschema is a test-only dependency.
"""

from __future__ import annotations

import json
from collections import Counter
from http import HTTPStatus
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from statusync.core.model import CATEGORIES, StatusCategory
from statusync.sendcloud.languages import Language

# The `code` values the spec's ErrorObject allows (a subset is all the sandbox needs).
ErrorCode = Literal[
    "invalid",
    "invalid_choice",
    "not_found",
    "required",
    "not_a_list",
    "null",
    "non_field_errors",
    "authentication_failed",
    "forbidden",
    "validation_error",
]
JsonObject = dict[str, Any]


class RequestRejected(Exception):
    """The sandbox refuses a request: an HTTP status and a JSON:API `errors` body (one entry per
    problem). Raised inside the sandbox and turned into its reply; the client's counterpart is
    statusync.errors.ApiError."""

    def __init__(
        self, status: int, errors: list[JsonObject], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = headers

    @property
    def body(self) -> JsonObject:
        return {"errors": self.errors}


def error_object(
    status: int, code: ErrorCode, title: str, detail: str, pointer: str | None = None
) -> JsonObject:
    # The spec types `status` as a string ("400"), as Sendcloud sends it.
    obj: JsonObject = {"status": str(status), "code": code, "title": title, "detail": detail}
    if pointer is not None:
        obj["source"] = {"pointer": pointer}
    return obj


def rejection(
    status: int,
    code: ErrorCode,
    detail: str,
    title: str | None = None,
    pointer: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> RequestRejected:
    """A refusal with one error object; the title defaults to the status's reason phrase."""
    return RequestRejected(
        status, [error_object(status, code, title or HTTPStatus(status).phrase, detail, pointer)], headers
    )


def not_found(
    detail: str = "The Integration could not be found with the search criteria given",
) -> RequestRejected:
    return rejection(404, "not_found", detail, "Not Found")


WRONG_FORMAT = "Wrong request format, expected object"

# The spec does not forbid extra fields, so they are ignored, as the real API ignores them.
_Strict = ConfigDict(strict=True, frozen=True, extra="ignore")


class MappingEntryIn(BaseModel):
    """One category of a mapping upsert."""

    model_config = _Strict
    status_category: StatusCategory
    external_id: str | None


class MappingUpsert(BaseModel):
    """`create-custom-status-mapping`: all four categories, each exactly once."""

    model_config = _Strict
    integration_id: int
    mapping: Annotated[list[MappingEntryIn], Field(min_length=4, max_length=4)]

    @field_validator("mapping")
    @classmethod
    def _each_category_once(cls, entries: list[MappingEntryIn]) -> list[MappingEntryIn]:
        counts = Counter(e.status_category.value for e in entries)
        twice = [c for c in CATEGORIES if counts[c] > 1]
        missing = [c for c in CATEGORIES if counts[c] == 0]
        if twice or missing:
            raise ValueError(
                "each status category must appear exactly once"
                + "".join(f"; {c} appears {counts[c]} times" for c in twice)
                + (f"; missing {', '.join(missing)}" if missing else "")
            )
        return entries

    def as_dict(self) -> dict[str, str | None]:
        return {e.status_category.value: e.external_id for e in self.mapping}


class Translation(BaseModel):
    model_config = _Strict
    status: str
    language: Language


class StatusIn(BaseModel):
    """One shop status of a statuses upsert."""

    model_config = _Strict
    external_id: str
    translations: Annotated[list[Translation], Field(min_length=1, max_length=7)]

    @field_validator("translations")
    @classmethod
    def _unique_translations(cls, translations: list[Translation]) -> list[Translation]:
        # The spec's `uniqueItems`: the same translation twice is refused.
        if len({(t.status, t.language) for t in translations}) < len(translations):
            raise ValueError("the same translation appears twice")
        return translations


class StatusesUpsert(BaseModel):
    """`post-shop-order-statuses`: the complete list of a shop's statuses."""

    model_config = _Strict
    integration_id: int
    statuses: list[StatusIn]

    @field_validator("statuses")
    @classmethod
    def _unique_external_ids(cls, statuses: list[StatusIn]) -> list[StatusIn]:
        counts = Counter(s.external_id for s in statuses)
        twice = sorted(e for e, n in counts.items() if n > 1)
        if twice:
            raise ValueError(f"duplicate external_id {', '.join(map(repr, twice))}")
        return statuses


M = TypeVar("M", bound=BaseModel)


def parse_body(raw: bytes, model: type[M]) -> M:
    """`raw` as a JSON object valid for `model`, or a 400 naming every problem."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise rejection(400, "non_field_errors", WRONG_FORMAT, "Wrong format")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestRejected(400, [_error_of(e) for e in exc.errors(include_url=False)]) from None


def _error_of(err: ErrorDetails) -> JsonObject:
    loc = err["loc"]
    where = location(loc)
    message = err["msg"].removeprefix("Value error, ")
    return error_object(
        400,
        _code_of(err),
        "Invalid input",
        f"{where}: {message}" if where else message,
        "/" + "/".join(str(part) for part in loc),
    )


def location(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a reader writes it: `mapping[2].status_category`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _code_of(err: ErrorDetails) -> ErrorCode:
    kind = err["type"]
    if kind == "missing":
        return "required"
    if kind in ("enum", "literal_error"):
        return "invalid_choice"
    if kind == "list_type":
        return "not_a_list"
    if err["input"] is None:
        return "null"
    return "invalid"
