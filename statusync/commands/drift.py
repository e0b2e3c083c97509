"""`statusync drift` and `statusync reconcile`: read the live mappings, report how they differ
from the files, and (reconcile) set the drifted ones back with apply's machinery."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Mapping, Sequence, TextIO

import click

from statusync.runner.apply import StateWriter, apply_plan
from statusync.commands.basic import (
    CHANGES, ERROR, OK, confirm, hold_state_lock, report_failures,
)
from statusync.core.drift import (
    DriftReport, MappingReader, Status, check_drift, reconcile_plan, stale_records,
)
from statusync.render.drift import count_of, render, render_text
from statusync.errors import StatusyncError
from statusync.core.model import LoadedSpec
from statusync.core.plan import safety_breach
from statusync.console import reporter
from statusync.core.state import State
from statusync.workspace import Workspace

# What reconcile cannot fix: only a change to the file can.
_FILE_ONLY = (Status.INVALID, Status.NOT_FOUND)


def drift(ws: Workspace, out: TextIO, err: TextIO, *, fmt: str, color: bool, parallelism: int,
          progress_bar: bool) -> int:
    """Report every managed integration's drift on `out`; read-only, so no lock."""
    state = ws.state()
    specs = ws.specs()
    with ExitStack() as stack:
        readers = ws.clients({s.spec.account for s in specs}, stack)
        report = _check(specs, state, readers, err, parallelism=parallelism,
                        progress_bar=progress_bar)
    render(report, fmt, out, color=color)
    if report.failures:
        return ERROR
    return CHANGES if report.differs else OK


def reconcile(ws: Workspace, out: TextIO, err: TextIO, *, yes: bool, force: bool,
              parallelism: int, color: bool, lock_timeout: float, interactive: bool,
              progress_bar: bool) -> int:
    """Drift, then upsert each drifted integration's file, recording each success like apply."""
    # Held from reading the state to the last write, as apply does, so runs never interleave.
    with hold_state_lock(ws, lock_timeout, err):
        state = ws.state()
        specs = ws.specs()
        with ExitStack() as stack:
            clients = ws.clients({s.spec.account for s in specs}, stack)
            report = _check(specs, state, clients, err, parallelism=parallelism,
                            progress_bar=progress_bar)
            render_text(report, out, color=color, advice=False)
            writer = StateWriter(ws.state_path, state)
            if stale := stale_records(report):
                # Live already equals the file: the state only has to learn it (no request).
                writer.record(stale)
                out.write(f"Recorded {count_of(len(stale))} already in sync in the state, which "
                          "did not know it yet.\n")
            # Every update overwrites something live, so all managed files are the safety base.
            plan = reconcile_plan(report, managed=len(specs))
            if not plan.changes:
                out.write("Nothing to reconcile: no integration has drifted.\n")
                return _conclude(report, out, failed=False)
            breach = safety_breach(plan, ws.settings.safety)
            count = len(plan.changes)
            out.write(f"\nReconcile will update {count} drifted integration"
                      f"{'' if count == 1 else 's'} to the mapping in the file.\n")
            if breach:
                if not force:
                    raise StatusyncError(f"refusing to reconcile: {breach}")
                warning = f"Warning: {breach}."
                out.write((click.style(warning, fg="red") if color else warning) + "\n")
            if not yes:
                confirm(interactive, "reconcile")
            with reporter(count, err, bar=progress_bar, label="Reconciling") as tick:
                outcomes = apply_plan(plan, clients, writer, parallelism=parallelism,
                                      report=lambda o: tick(o.describe(), o.ok))
    done = sum(1 for o in outcomes if o.ok)
    out.write(f"\nReconcile complete: {done} updated, {count - done} failed.\n")
    failed = report_failures(outcomes, err,
                             "they are still drifted; the next reconcile retries them") != OK
    return _conclude(report, out, failed=failed)


def _check(specs: Sequence[LoadedSpec], state: State, readers: Mapping[str, MappingReader],
           err: TextIO, *, parallelism: int, progress_bar: bool) -> DriftReport:
    """Every file's live mapping; progress and errors go to `err`, keeping stdout the report."""
    with reporter(len(specs), err, bar=progress_bar, label="Checking") as tick:
        report = check_drift(specs, state, readers, parallelism=parallelism,
                             report=lambda checked: tick(checked.describe(), checked.ok))
    for failure in report.failures:
        err.write(f"error: integration {failure.loaded.spec.integration_id} "
                  f"({failure.loaded.file}) could not be checked: {failure.error}\n")
    if report.failures:
        count = len(report.failures)
        err.write(f"{count} integration{'' if count == 1 else 's'} could not be checked; "
                  "the others were.\n")
    return report


def _conclude(report: DriftReport, out: TextIO, *, failed: bool) -> int:
    """Reconcile's exit code, saying what is left that only a change to the files can fix."""
    left = sum(len(report.with_status(s)) for s in _FILE_ONLY)
    if left:
        out.write(f"{left} integration{' still differs' if left == 1 else 's still differ'} "
                  "from the files: an invalid entry or an integration not found can only be "
                  "fixed by changing the file.\n")
    if failed or report.failures:
        return ERROR
    return CHANGES if left else OK
