"""Small builders shared by the unit tests."""

from __future__ import annotations

from statusync.core.drift import DriftReport, compare
from statusync.core.model import CATEGORIES, IntegrationSpec, LoadedSpec, MappingDict
from statusync.core.state import Entry, State
from statusync.sendcloud.models import LiveMapping


def mapping(*values: str | None) -> MappingDict:
    return dict(zip(CATEGORIES, values, strict=True))


def loaded(
    integration_id: int,
    m: MappingDict,
    file: str | None = None,
    account: str = "default",
    name: str | None = None,
) -> LoadedSpec:
    spec = IntegrationSpec.model_validate(
        {"integration_id": integration_id, "mapping": m, "account": account, "name": name}
    )
    return LoadedSpec(spec, file or f"mappings/{integration_id}.yaml", f"sha-{integration_id}")


def state_of(*items: tuple[int, MappingDict]) -> State:
    state = State(lineage="L")
    for integration_id, m in items:
        state = state.with_entry(
            integration_id,
            Entry(
                f"mappings/{integration_id}.yaml",
                f"sha-{integration_id}",
                "default",
                None,
                m,
                "2026-01-01T00:00:00Z",
            ),
        )
    return state


def live(m: MappingDict, invalid: tuple[str, ...] = (), integration_id: int = 1) -> LiveMapping:
    """A live mapping as the API answers it; `invalid` names categories pointing at a deleted
    shop status."""
    return LiveMapping.model_validate(
        {
            "integration_id": integration_id,
            "mapping": [
                {"status_category": c, "external_id": m[c], "is_valid": c not in invalid} for c in CATEGORIES
            ],
        }
    )


def sample_drift(desired: MappingDict) -> DriftReport:
    """One integration of each kind: drifted, never applied, invalid, not found, in sync."""
    return DriftReport(
        (
            compare(loaded(1, desired, name="ACME | NL"), desired, live(mapping("1", "2", "9", None))),
            compare(loaded(2, desired), None, live(mapping(None, None, None, None))),
            compare(loaded(3, desired), desired, live(desired, ("IN_TRANSIT",))),
            compare(loaded(4, desired), desired, None),
            compare(loaded(5, desired), desired, live(desired)),
        )
    )
