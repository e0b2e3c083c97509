"""`statusync apply`: upsert the changed integrations and record each success in the state.

An uncertain integration (its last write's outcome is unknown: the run sending it died) is
settled by sending the file's mapping again rather than by reading the live one first: the
upsert is idempotent and sets all four categories, so one request makes live equal to the file
whatever it holds, through the same retries and journal as any write, with no window between a
read and a write for a late-arriving old request to slip into.
"""

from __future__ import annotations

from pathlib import Path

from statusync.commands.write_run import report_failures, write_run
from statusync.console import Console
from statusync.core.model import LoadedSpec
from statusync.core.plan import Action, Plan, make_plan
from statusync.core.safety import safety_breach
from statusync.core.state import State
from statusync.errors import OK, StatusyncError
from statusync.files.planfile import read_planfile, stale_reasons
from statusync.render.plan import render_text
from statusync.runner.apply import Outcome
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, planfile: Path | None, yes: bool, force: bool,
        parallelism: int | None, lock_timeout: float, push: bool = False) -> int:
    with write_run(ws, console, lock_timeout, push=push) as run:
        ws = run.ws  # with --push, read again from the newest upstream commit
        specs = ws.specs()
        plan = make_plan(specs, run.state, ws.settings.on_removed)
        if planfile is not None:
            _check_saved(ws, planfile, plan, run.state, specs)
        breach = safety_breach(plan, ws.settings.safety)
        render_text(plan, console.out, color=console.color, breach=breach)  # even under --force
        if not plan.changes:
            return OK
        if breach and not force:
            raise StatusyncError(f"refusing to apply: {breach}")
        sending = {c.account for c in plan.changes if c.action.sends}
        clients = run.clients(sending) if sending else {}
        run.confirm(yes, "apply")
        outcomes = run.send(plan, clients, parallelism=parallelism, label="Applying")
        return _conclude(outcomes, console)  # before --push records the state, at the end


def _check_saved(ws: Workspace, planfile: Path, plan: Plan, state: State,
                 specs: list[LoadedSpec]) -> None:
    """Refuse a saved plan that is stale, or that is not the plan its files and state give."""
    saved_plan, saved = read_planfile(planfile)
    reasons = stale_reasons(saved, ws.fingerprints(state, specs))
    if reasons:
        raise StatusyncError(
            f"the saved plan {planfile} is stale: " + "; ".join(reasons)
            + ". Make a new plan with 'statusync plan --out FILE'")
    # Same files, settings and state give the same plan; anything else was edited.
    if saved_plan != plan:
        raise StatusyncError(
            f"the saved plan {planfile} does not match the plan its files and state give "
            "(it was edited, or the state was changed by hand); make a new plan with "
            "'statusync plan --out FILE'")


def _conclude(outcomes: list[Outcome], console: Console) -> int:
    done = {a: sum(1 for o in outcomes if o.ok and o.change.action is a) for a in Action}
    failed = sum(1 for o in outcomes if not o.ok)
    settled = f"{done[Action.UNCERTAIN]} settled, " if done[Action.UNCERTAIN] else ""
    console.out.write(
        f"\nApply complete: {done[Action.CREATE]} created, {done[Action.UPDATE]} updated, "
        f"{done[Action.RESET]} reset, {done[Action.FORGET]} forgotten, {settled}"
        f"{failed} failed.\n")
    return report_failures(outcomes, console,
                           "they stay in the plan and the next apply retries them")
