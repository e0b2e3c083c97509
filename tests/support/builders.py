"""Small builders shared by the unit tests."""

from __future__ import annotations

from statusync.core.model import CATEGORIES, IntegrationSpec, LoadedSpec, MappingDict
from statusync.core.state import Entry, State


def mapping(*values: str | None) -> MappingDict:
    return dict(zip(CATEGORIES, values, strict=True))


def loaded(integration_id: int, m: MappingDict, file: str | None = None,
           account: str = "default", name: str | None = None) -> LoadedSpec:
    spec = IntegrationSpec.model_validate(
        {"integration_id": integration_id, "mapping": m, "account": account, "name": name})
    return LoadedSpec(spec, file or f"mappings/{integration_id}.yaml", f"sha-{integration_id}")


def state_of(*items: tuple[int, MappingDict]) -> State:
    state = State(lineage="L")
    for integration_id, m in items:
        state = state.with_entry(integration_id, Entry(
            f"mappings/{integration_id}.yaml", f"sha-{integration_id}", "default", None, m,
            "2026-01-01T00:00:00Z"))
    return state
