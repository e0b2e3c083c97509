"""What a mapping file means: one integration and its four status categories."""

from __future__ import annotations

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


class LoadedSpec:
    """A validated mapping file: the spec, where it came from and the hash of its bytes. Not to
    be changed once made.

    A file unchanged since it was applied is not parsed: its values come from the state, checked
    by the model's rules (core.state.Entry.as_loaded), and its IntegrationSpec is made only when
    something asks for it. A plan of 10,000 files needs only the values, which are kept here
    (`integration_id`, `account`, `name`, `mapping`): making 10,000 specs took a third of the
    time of reading the files.
    """

    __slots__ = ("file", "sha256", "integration_id", "account", "name", "mapping", "_spec", "_mapping")

    def __init__(self, spec: IntegrationSpec, file: str, sha256: str) -> None:
        self.file = file  # POSIX path relative to the working directory, as shown to users
        self.sha256 = sha256
        self.integration_id = spec.integration_id
        self.account = spec.account
        self.name = spec.name
        self.mapping: MappingDict = spec.mapping.as_dict()
        self._spec: IntegrationSpec | None = spec
        self._mapping = spec.mapping

    @classmethod
    def recorded(
        cls,
        integration_id: int,
        account: str,
        name: str | None,
        mapping: CategoryMapping,
        values: MappingDict,
        file: str,
        sha256: str,
    ) -> LoadedSpec:
        """A file whose values are known to keep the model's rules: `mapping` is validated, and
        `values` are its values (kept as they are, not to be changed)."""
        loaded = cls.__new__(cls)
        loaded.file, loaded.sha256, loaded.integration_id = file, sha256, integration_id
        loaded.account, loaded.name, loaded.mapping = account, name, values
        loaded._spec, loaded._mapping = None, mapping
        return loaded

    @property
    def spec(self) -> IntegrationSpec:
        if self._spec is None:
            self._spec = IntegrationSpec.model_validate(
                {
                    "integration_id": self.integration_id,
                    "name": self.name,
                    "account": self.account,
                    "mapping": self._mapping,
                }
            )
        return self._spec

    def _key(self) -> tuple[object, ...]:
        return (self.file, self.sha256, self.integration_id, self.account, self.name, self._mapping)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoadedSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"LoadedSpec(file={self.file!r}, integration_id={self.integration_id}, sha256={self.sha256!r})"
