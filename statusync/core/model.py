"""What a mapping file means: one integration and its four status categories."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# A category -> external id (or None for unmapped) table, always in CATEGORIES order.
MappingDict = dict[str, str | None]


class StatusCategory(StrEnum):
    READY_TO_SEND = "READY_TO_SEND"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCEL = "CANCEL"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in StatusCategory)

# The C0 and C1 control characters (and DEL): never part of a shop's status id.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
# Not blank and no control character; written without look-arounds, which pydantic's regular
# expressions (Rust's) and some JSON Schema validators lack.
_EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
# An account's name becomes part of a GitHub environment's name (`sendcloud-NAME`), a concurrency
# group and a workflow argument in the per-account workflows: plain characters only.
ACCOUNT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# Integration ids travel as JSON numbers, which many readers (JavaScript's, jq) hold as doubles:
# above 2^53 - 1 two ids can read as one, so a larger id is refused rather than sent.
MAX_INTEGRATION_ID = 2**53 - 1

ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, strict=True, pattern=_EXTERNAL_ID_PATTERN),
    Field(
        description="A shop order status external_id (always a string, not blank, without "
        "control characters), or null for unmapped."
    ),
]


class CategoryMapping(BaseModel):
    """All four categories, each a shop status external_id or null (unmapped)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    READY_TO_SEND: ExternalId | None
    IN_TRANSIT: ExternalId | None
    DELIVERED: ExternalId | None
    CANCEL: ExternalId | None

    def as_dict(self) -> MappingDict:
        return {c: getattr(self, c) for c in CATEGORIES}


class IntegrationSpec(BaseModel):
    """The desired state of one integration, as written in one mapping file."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="statusync mapping file",
        json_schema_extra={"description": "Desired shop order status mapping of one Sendcloud integration."},
    )

    integration_id: Annotated[
        int, Field(strict=True, gt=0, le=MAX_INTEGRATION_ID, description="Sendcloud integration id.")
    ]
    name: Annotated[str | None, Field(strict=True, description="Free text for humans.")] = None
    account: Annotated[
        str,
        StringConstraints(strict=True, pattern=ACCOUNT_NAME_PATTERN),
        Field(description="Credentials profile from statusync.yaml (letters, digits, . _ -)."),
    ] = "default"
    mapping: CategoryMapping


def unmapped() -> MappingDict:
    """The all-null mapping that `reset` sends."""
    return {c: None for c in CATEGORIES}


@dataclass(frozen=True)
class LoadedSpec:
    """A validated mapping file: the spec, where it came from and the hash of its bytes."""

    spec: IntegrationSpec
    file: str  # POSIX path relative to the working directory, as shown to users
    sha256: str
