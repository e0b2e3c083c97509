"""Reading every managed integration's live mapping, a few at a time, and comparing each with
its file (the comparison itself is statusync.core.drift's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from statusync.core.drift import Checked, CheckFailure, DriftReport, IntegrationDrift, compare
from statusync.core.model import LoadedSpec
from statusync.core.state import State
from statusync.errors import NotFound, StatusyncError, StopRun
from statusync.runner.bounded import Lanes, per_account, run_bounded
from statusync.sendcloud.models import LiveMapping


class MappingReader(Protocol):
    def get_mapping(self, integration_id: int) -> LiveMapping: ...


def check_drift(
    specs: Sequence[LoadedSpec],
    state: State,
    readers: Mapping[str, MappingReader],
    *,
    parallelism: int | None = None,
    report: Callable[[Checked], None] = lambda _: None,
) -> DriftReport:
    """Read every spec's live mapping (its account's reader paces itself) and compare them.

    A failure to read one integration is recorded and the others are still checked.
    `parallelism` caps the requests under way (None: as many as the paces need).
    """

    def check(loaded: LoadedSpec) -> Checked:
        spec = loaded.spec
        entry = state.entries.get(spec.integration_id)
        last_applied = None if entry is None else dict(entry.mapping)
        try:
            live: LiveMapping | None = readers[spec.account].get_mapping(spec.integration_id)
        except StopRun:
            raise  # e.g. rejected credentials: every other integration would fail the same way
        except NotFound:
            live = None
        except StatusyncError as exc:
            return CheckFailure(loaded, str(exc))
        return compare(loaded, last_applied, live)

    accounts = {s.account: readers[s.account] for s in specs}
    lanes: Lanes[LoadedSpec] = per_account(parallelism, accounts, "GET", lambda s: s.account)
    results = run_bounded(specs, check, lanes, report)
    order = {s.integration_id: n for n, s in enumerate(specs)}

    def by_file(result: Checked) -> int:
        return order[result.loaded.integration_id]

    return DriftReport(
        tuple(sorted((r for r in results if isinstance(r, IntegrationDrift)), key=by_file)),
        tuple(sorted((r for r in results if isinstance(r, CheckFailure)), key=by_file)),
    )
