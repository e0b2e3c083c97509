"""Reading every file's live mapping for drift and reconcile, with progress and what could not
be checked on the console."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from statusync.console import Console, plural
from statusync.core.drift import DriftReport
from statusync.core.model import LoadedSpec
from statusync.core.state import State
from statusync.runner.drift_check import MappingReader, check_drift
from statusync.text import printable


def read_drift(
    specs: Sequence[LoadedSpec],
    state: State,
    readers: Mapping[str, MappingReader],
    console: Console,
    *,
    parallelism: int | None,
) -> DriftReport:
    """Every file's live mapping (drift and reconcile alike); progress and errors go to
    stderr, keeping stdout for the report."""
    with console.progress(len(specs), "Checking") as tick:
        report = check_drift(
            specs,
            state,
            readers,
            parallelism=parallelism,
            report=lambda checked: tick(checked.describe(), checked.ok),
        )
    for failure in report.failures:
        console.err.write(
            f"error: integration {failure.loaded.integration_id} "
            f"({printable(failure.loaded.file)}) could not be checked: "
            f"{printable(failure.error)}\n"
        )
    if report.failures:
        console.err.write(
            f"{plural(len(report.failures), 'integration')} could not be checked; the others were.\n"
        )
    return report
