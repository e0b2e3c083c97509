"""`statusync reconcile`: drift, then upsert the file's mapping of each drifted integration,
recording each success as apply does."""

from __future__ import annotations

from statusync.console import Console, plural
from statusync.core.drift import DriftReport, reconcile_plan, stale_records
from statusync.core.drift_status import DriftStatus
from statusync.core.safety import safety_breach
from statusync.core.subset import Subset
from statusync.errors import CHANGES, ERROR, OK, StatusyncError
from statusync.render.drift import count_of, render_text, shows_ids
from statusync.render.style import NO_NAMES
from statusync.session.drift import read_drift
from statusync.session.names import read_catalog
from statusync.session.only import checking, select
from statusync.session.write import report_failures, write_session
from statusync.workspace import Workspace

# What reconcile cannot fix: only a change to the file can.
_FILE_ONLY = (DriftStatus.INVALID, DriftStatus.NOT_FOUND)


def run(
    ws: Workspace,
    console: Console,
    *,
    yes: bool,
    force: bool,
    parallelism: int | None,
    lock_timeout: float,
    push: bool = False,
    only: Subset | None = None,
) -> int:
    out = console.out
    with write_session(ws, console, lock_timeout, push=push, command="reconcile") as session:
        # session.ws, not ws: with --push, it is read again from the newest upstream commit.
        every = session.ws.specs()
        session.managed.update(s.integration_id for s in every)  # keep their catalog entries
        # With --only, only the subset is read and sent, and is the safety base below.
        specs, _ = select(only, every, session.state)
        checking(console, only, len(specs), len(every))
        clients = session.clients({s.account for s in specs})
        report = read_drift(specs, session.state, clients, console, parallelism=parallelism)
        catalog = (
            read_catalog(session.ws, console, {d.integration_id for d in report.integrations})
            if shows_ids(report)
            else NO_NAMES
        )
        render_text(report, out, color=console.color, advice=False, catalog=catalog)
        if stale := stale_records(report):
            # Live already equals the file: the state only has to learn it (no request).
            session.record(stale)
            out.write(
                f"Recorded {count_of(len(stale))} already in sync in the state, which did not know it yet.\n"
            )
        # Every update overwrites something live, so all managed files are the safety base.
        plan = reconcile_plan(report, managed=len(specs))
        if not plan.changes:
            out.write("Nothing to reconcile: no integration has drifted.\n")
            return _conclude(report, console, failed=session.stopped_accounts())
        breach = safety_breach(plan, session.ws.settings.safety)
        count = len(plan.changes)
        out.write(
            f"\nReconcile will update {plural(count, 'drifted integration')} to the mapping in the file.\n"
        )
        if breach:
            if not force:
                raise StatusyncError(f"refusing to reconcile: {breach}")
            out.write(console.paint(f"Warning: {breach}.", fg="red") + "\n")
        session.confirm(yes, "reconcile")
        outcomes = session.send(plan, clients, parallelism=parallelism, label="Reconciling")
        # The report comes before --push records the state, at the end of the block.
        done = sum(1 for o in outcomes if o.ok)
        out.write(f"\nReconcile complete: {done} updated, {count - done} failed.\n")
        failed = (
            report_failures(outcomes, console, "they are still drifted; the next reconcile retries them")
            != OK
        )
        failed = session.stopped_accounts() or failed
        return _conclude(report, console, failed=failed)


def _conclude(report: DriftReport, console: Console, *, failed: bool) -> int:
    """Reconcile's exit code, saying what is left that only a change to the files can fix."""
    left = sum(len(report.with_status(s)) for s in _FILE_ONLY)
    if left:
        console.out.write(
            f"{plural(left, 'integration still differs', 'integrations still differ')} from the "
            "files: an invalid entry or an integration not found can only be fixed by changing "
            "the file.\n"
        )
    if failed or report.failures:
        return ERROR
    return CHANGES if left else OK
