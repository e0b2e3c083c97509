"""Drift as data: every managed integration's live mapping against its file and the state.

The status of one integration is what would fix it; the first rule that matches wins:

- `not_found`: the API answered 404, so there is no live mapping to compare.
- `invalid`: a live entry points at a deleted shop status (`is_valid: false`) and the file asks
  for that very external id. Only a change to the file can fix it: the API refuses to upsert a
  deleted status, so reconcile does not post the integration even when other categories differ
  too (those are still listed in `differences`).
- `drifted`: some category differs from the file. Reconcile fixes it by posting the file; an
  invalid live entry in a category that differs is listed as well, and is replaced by the post.
- `in_sync`: live equals the file, every entry valid.

The cause of a difference compares the last-applied state with the file: when they agree, the
live mapping was changed outside statusync (in Sendcloud's panel, or by another tool); when they
do not (no entry, or the file changed since), the file was not applied yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from statusync.core.drift_status import DriftStatus
from statusync.core.model import CATEGORIES, LoadedSpec, MappingDict
from statusync.core.plan import Action, Change, Plan
from statusync.text import printable

DRIFT_FORMAT_VERSION = 1


class Cause(StrEnum):
    CHANGED_OUTSIDE = "changed_outside_statusync"  # last applied == file != live
    NOT_APPLIED = "not_applied_yet"  # no state entry, or last applied != file


@dataclass(frozen=True)
class Difference:
    category: str
    desired: str | None
    live: str | None
    last_applied: str | None

    def data(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "desired": self.desired,
            "live": self.live,
            "last_applied": self.last_applied,
        }


@dataclass(frozen=True)
class InvalidEntry:
    category: str
    external_id: str | None

    def data(self) -> dict[str, Any]:
        return {"category": self.category, "external_id": self.external_id}


@dataclass(frozen=True)
class IntegrationDrift:
    """One integration checked: its file, what the API has, and how they compare."""

    loaded: LoadedSpec
    status: DriftStatus
    last_applied: MappingDict | None  # None: never applied
    live: MappingDict | None = None  # None: not found
    differences: tuple[Difference, ...] = ()
    invalid: tuple[InvalidEntry, ...] = ()

    ok: ClassVar[bool] = True  # it could be checked (see CheckFailure)

    @property
    def integration_id(self) -> int:
        return self.loaded.integration_id

    @property
    def file(self) -> str:
        return self.loaded.file

    @property
    def desired(self) -> MappingDict:
        return self.loaded.spec.mapping.as_dict()

    @property
    def cause(self) -> Cause | None:
        if not self.differences:
            return None
        return Cause.CHANGED_OUTSIDE if self.last_applied == self.desired else Cause.NOT_APPLIED

    def update_from(self, before: MappingDict | None) -> Change:
        """The file's mapping as an update from `before`, recorded in the state like apply's."""
        spec = self.loaded.spec
        return Change(
            spec.integration_id,
            Action.UPDATE,
            self.file,
            spec.account,
            before,
            self.desired,
            spec.name,
            self.loaded.sha256,
        )

    def describe(self) -> str:
        status = self.status.value.replace("_", " ")
        return f"{self.integration_id} ({printable(self.file)}): {status}"

    def data(self) -> dict[str, Any]:
        cause = self.cause
        return {
            "integration_id": self.integration_id,
            "file": self.file,
            "status": self.status.value,
            "differences": [d.data() for d in self.differences],
            "invalid": [i.data() for i in self.invalid],
            "cause": None if cause is None else cause.value,
            "name": self.loaded.name,
            "account": self.loaded.account,
        }


@dataclass(frozen=True)
class CheckFailure:
    """An integration whose live mapping could not be read (other than 404)."""

    loaded: LoadedSpec
    error: str

    ok: ClassVar[bool] = False

    def describe(self) -> str:
        return (
            f"{self.loaded.integration_id} ({printable(self.loaded.file)}): FAILED: {printable(self.error)}"
        )


Checked = IntegrationDrift | CheckFailure


@dataclass(frozen=True)
class DriftReport:
    integrations: tuple[IntegrationDrift, ...]  # in file order
    failures: tuple[CheckFailure, ...] = ()

    def with_status(self, status: DriftStatus) -> list[IntegrationDrift]:
        return [i for i in self.integrations if i.status is status]

    def summary(self) -> dict[str, int]:
        return {s.value: len(self.with_status(s)) for s in DriftStatus}

    @property
    def differs(self) -> bool:
        return any(i.status is not DriftStatus.IN_SYNC for i in self.integrations)

    def data(self) -> dict[str, Any]:
        """The `drift --format json` document the README describes, plus `errors`: the integrations
        that could not be checked, so that a script can tell them from missing ones."""
        return {
            "format_version": DRIFT_FORMAT_VERSION,
            "integrations": [i.data() for i in self.integrations],
            "summary": self.summary(),
            "errors": [
                {"integration_id": f.loaded.integration_id, "file": f.loaded.file, "error": f.error}
                for f in self.failures
            ],
        }


class LiveEntry(Protocol):
    @property
    def category(self) -> str: ...

    @property
    def external_id(self) -> str | None: ...


class ObservedMapping(Protocol):
    """An integration's mapping as the API has it now (the client's LiveMapping is one)."""

    def as_mapping(self) -> MappingDict: ...

    def invalid_entries(self) -> Sequence[LiveEntry]: ...


def compare(
    loaded: LoadedSpec, last_applied: MappingDict | None, live: ObservedMapping | None
) -> IntegrationDrift:
    """How one integration's live mapping (None: not found) compares with its file."""
    if live is None:
        return IntegrationDrift(loaded, DriftStatus.NOT_FOUND, last_applied)
    desired = loaded.spec.mapping.as_dict()
    current = live.as_mapping()
    applied = last_applied or {}
    differences = tuple(
        Difference(c, desired[c], current[c], applied.get(c)) for c in CATEGORIES if desired[c] != current[c]
    )
    invalid = tuple(InvalidEntry(e.category, e.external_id) for e in live.invalid_entries())
    if any(desired.get(i.category) == i.external_id for i in invalid):
        status = DriftStatus.INVALID
    elif differences:
        status = DriftStatus.DRIFTED
    else:
        status = DriftStatus.IN_SYNC
    return IntegrationDrift(loaded, status, last_applied, current, differences, invalid)


def reconcile_plan(report: DriftReport, managed: int) -> Plan:
    """An update to the file's mapping for every drifted integration, from what is live now.

    `managed` (the number of mapping files) is the base of the safety threshold: every one of
    these updates overwrites something live.
    """
    changes = tuple(d.update_from(d.live) for d in report.with_status(DriftStatus.DRIFTED))
    return Plan(changes, unchanged=len(report.integrations) - len(changes), managed=managed)


def stale_records(report: DriftReport) -> list[Change]:
    """In-sync integrations whose state entry says otherwise (never recorded, or recorded
    before a file change that someone then made live by hand): what the state should record."""
    return [
        d.update_from(d.last_applied)
        for d in report.with_status(DriftStatus.IN_SYNC)
        if d.last_applied != d.desired
    ]
