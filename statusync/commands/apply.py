"""`statusync apply`: upsert the changed integrations and record each success in the state.

An uncertain integration (its last write's outcome is unknown: the run sending it died) is
settled by sending the file's mapping again rather than by reading the live one first: the
upsert is idempotent and sets all four categories, so one request makes live equal to the file
whatever it holds, through the same retries and journal as any write, with no window between a
read and a write for a late-arriving old request to slip into.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from statusync.console import Console, plural
from statusync.core.creates import with_live
from statusync.core.model import LoadedSpec
from statusync.core.plan import Action, Plan, make_plan
from statusync.core.safety import safety_breach
from statusync.core.state import State
from statusync.core.subset import Subset
from statusync.errors import ERROR, OK, StatusyncError
from statusync.files.journal import journal_path, read_journal
from statusync.render.plan import render_text
from statusync.render.style import NO_NAMES
from statusync.runner.apply import ChangeResult
from statusync.session.names import read_catalog
from statusync.session.only import partial, saved_subset, select
from statusync.session.write import WriteSession, report_failures, write_session
from statusync.workspace import Workspace

if TYPE_CHECKING:
    from statusync.runner.accounts import AccountClient


def run(
    ws: Workspace,
    console: Console,
    *,
    planfile: Path | None,
    yes: bool,
    force: bool,
    parallelism: int | None,
    lock_timeout: float,
    push: bool = False,
    only: Subset | None = None,
) -> int:
    with write_session(ws, console, lock_timeout, push=push, command="apply") as session:
        # session.ws, not ws: with --push, it is read again from the newest upstream commit.
        # A file whose bytes the state recorded is taken from it, as plan takes it: apply sends
        # what the reviewed plan showed (validate fails on a state edited to say otherwise).
        specs = session.ws.specs(trust=session.state)
        session.managed.update(s.integration_id for s in specs)  # keep their catalog entries
        if planfile is not None:  # a saved plan keeps the --only filter it was made with
            from statusync.files.planfile import read_planfile

            only = saved_subset(planfile, read_planfile(planfile)[0].only, only)
        chosen, scoped = select(only, specs, session.state)
        plan = partial(make_plan(chosen, scoped, session.ws.settings.on_removed), only)
        if planfile is not None:
            _check_saved(session.ws, planfile, plan, session.state, specs)
        warnings = session.ws.state_warnings(session.state, specs)
        sending = {c.account for c in plan.changes if c.action.sends}
        clients = {}
        # A create replaces what is live: read it first, unless the run is refused anyway (no
        # --yes off a terminal), which then shows the offline plan and makes no request.
        if plan.count(Action.CREATE) and (yes or console.interactive):
            clients = session.clients(sending)
            plan = _with_live_before(session, plan, clients, parallelism)
        breach = safety_breach(plan, session.ws.settings.safety)
        render_text(
            plan,
            console.out,
            color=console.color,
            breach=breach,  # even under --force
            warnings=warnings,
            catalog=read_catalog(session.ws, console, {c.integration_id for c in plan.changes})
            if plan.changes
            else NO_NAMES,
        )
        # Written out before any request: a CI log, which merges stdout and stderr, shows the
        # plan before the progress of its requests (stdout, a pipe there, held it to the end),
        # and a plan that cannot be written (a reader that stopped early, a full disk) sends
        # nothing.
        console.out.flush()
        if not plan.changes:
            return ERROR if session.stopped_accounts() else OK
        if breach and not force:
            raise StatusyncError(f"refusing to apply: {breach}")
        clients = clients or (session.clients(sending) if sending else {})
        session.confirm(yes, "apply")
        outcomes = session.send(plan, clients, parallelism=parallelism, label="Applying")
        code = _conclude(outcomes, console)  # before --push records the state, at the end
        return ERROR if session.stopped_accounts() else code


def _with_live_before(
    session: WriteSession, plan: Plan, clients: dict[str, AccountClient], parallelism: int | None
) -> Plan:
    """`plan` with the live mapping each create replaces as its "before" (core.creates); the
    creates already live are recorded without a request. A mapping that cannot be read stops
    the run before anything is sent: the create would overwrite something unseen. A read
    refused with its account's credentials stops that account only: its changes stay in the
    plan, unread, and are not sent."""
    from statusync.runner.live_read import read_creates  # for creates only, with what it reads

    console = session.console
    with console.progress(plan.count(Action.CREATE), "Reading live mappings") as tick:
        reads = read_creates(
            plan, clients, parallelism=parallelism, report=lambda r: tick(r.describe(), r.ok)
        )
    stopped = session.accounts.stops
    failed = [r for r in reads if not r.ok and not stopped.stopped(r.change.account)]
    if failed:
        raise StatusyncError(
            "cannot read the live mapping that these creates would replace; nothing was sent:\n"
            + "\n".join(f"  {r.describe()}" for r in failed)
        )
    # A read refused with its stopped account's credentials read nothing: its create stays as it
    # is, not taken for one that Sendcloud lacks (a 404).
    live = with_live(plan, {r.change.integration_id: r.mapping for r in reads if r.ok})
    for integration_id in live.not_found:
        console.note(
            f"note: integration {integration_id} was not found in Sendcloud (404): "
            "its create will fail unless the integration id is corrected"
        )
    if live.already_live:
        session.record(live.already_live)
        console.note(
            f"Recorded {plural(len(live.already_live), 'integration')} whose live "
            "mapping already equals the file in the state, without a request."
        )
    return live.plan


def _check_saved(ws: Workspace, planfile: Path, plan: Plan, state: State, specs: list[LoadedSpec]) -> None:
    """Refuse a saved plan that is stale, or that is not the plan its files and state give."""
    from statusync.files.planfile import interrupted_since, read_planfile, stale_reasons

    saved_plan, saved = read_planfile(planfile)
    journal = read_journal(journal_path(ws.state_path))
    current = replace(ws.fingerprints(state, specs), journal=journal.mark if journal else "")
    reasons = stale_reasons(saved, current)
    # A run that died left its journal, which `state` has folded in: the state file's serial
    # is the same, but what it says is not. Named, so that no one looks for a hand edit.
    interrupted = (
        f"{journal.describe()} changed the state since this plan was made"
        if journal is not None and interrupted_since(saved, current)
        else None
    )
    if reasons:
        raise StatusyncError(
            f"the saved plan {planfile} is stale: "
            + "; ".join(reasons + ([interrupted] if interrupted else []))
            + ". Make a new plan with 'statusync plan --out FILE'"
        )
    if saved_plan != plan and interrupted:
        raise StatusyncError(
            f"the saved plan {planfile} no longer matches the state: {interrupted}, and the "
            "saved plan must match the state it was made from. Run 'statusync plan' again "
            "(with --out FILE to save it) and apply the new plan"
        )
    # Same files, settings and state give the same plan; anything else was edited.
    if saved_plan != plan:
        raise StatusyncError(
            f"the saved plan {planfile} does not match the plan its files and state give "
            "(it was edited, or the state was changed by hand); make a new plan with "
            "'statusync plan --out FILE'"
        )


def _conclude(outcomes: list[ChangeResult], console: Console) -> int:
    done = {a: sum(1 for o in outcomes if o.ok and o.change.action is a) for a in Action}
    failed = sum(1 for o in outcomes if not o.ok and not o.skipped)
    skipped = sum(1 for o in outcomes if o.skipped)
    unknown = sum(1 for o in outcomes if o.uncertain)
    settled = f"{done[Action.UNCERTAIN]} settled, " if done[Action.UNCERTAIN] else ""
    maybe = f" ({unknown} of them may have been applied)" if unknown else ""
    # Complete unless an account was stopped before all of its changes were sent.
    console.out.write(
        f"\nApply {'incomplete' if skipped else 'complete'}: {done[Action.CREATE]} created, "
        f"{done[Action.UPDATE]} updated, "
        f"{done[Action.RESET]} reset, {done[Action.FORGET]} forgotten, {settled}"
        f"{failed} failed{maybe}"
        + (f", {skipped} not sent (their account was stopped)" if skipped else "")
        + ".\n"
    )
    return report_failures(outcomes, console, "they stay in the plan and the next apply retries them")
