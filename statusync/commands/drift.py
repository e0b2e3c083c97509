"""`statusync drift`: every managed integration's live mapping against its file (read-only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from statusync.commands.only import checking, select
from statusync.console import Console, plural
from statusync.core.drift import DriftReport
from statusync.core.model import LoadedSpec
from statusync.core.state import State
from statusync.core.subset import Subset
from statusync.core.text import printable
from statusync.errors import CHANGES, ERROR, OK
from statusync.github.summary import append_summary
from statusync.render.drift import render, render_markdown
from statusync.runner.drift_check import MappingReader, check_drift
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, output_format: str, parallelism: int | None,
        only: Subset | None = None) -> int:
    """Report every managed integration's drift on stdout; it writes nothing, so takes no lock."""
    state = ws.state()
    every = ws.specs()
    specs, _ = select(only, every, state)  # last-applied values are looked up by id: all state
    checking(console, only, len(specs), len(every))
    with ws.client_session({s.spec.account for s in specs}) as readers:
        report = read_drift(specs, state, readers, console, parallelism=parallelism)
    render(report, output_format, console.out, color=console.color)
    # On GitHub Actions the run's page shows the report too, whichever format stdout got.
    append_summary(lambda out: render_markdown(report, out), ws.env, console)
    if report.failures:
        return ERROR
    return CHANGES if report.differs else OK


def read_drift(specs: Sequence[LoadedSpec], state: State, readers: Mapping[str, MappingReader],
               console: Console, *, parallelism: int | None) -> DriftReport:
    """Every file's live mapping (drift and reconcile alike); progress and errors go to
    stderr, keeping stdout for the report."""
    with console.progress(len(specs), "Checking") as tick:
        report = check_drift(specs, state, readers, parallelism=parallelism,
                             report=lambda checked: tick(checked.describe(), checked.ok))
    for failure in report.failures:
        console.err.write(f"error: integration {failure.loaded.spec.integration_id} "
                          f"({printable(failure.loaded.file)}) could not be checked: "
                          f"{printable(failure.error)}\n")
    if report.failures:
        console.err.write(f"{plural(len(report.failures), 'integration')} could not be "
                          "checked; the others were.\n")
    return report
