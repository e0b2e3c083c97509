"""One function per command: each takes plain arguments and returns the exit code."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import ContextManager, TextIO

import click

from statusync.runner.apply import Outcome, StateWriter, apply_plan
from statusync.errors import StatusyncError
from statusync.files.lock import state_lock
from statusync.core.plan import Action, make_plan, safety_breach
from statusync.files.planfile import read_planfile, stale_reasons, write_planfile
from statusync.console import reporter
from statusync.render.plan import render, render_text
from statusync.core.text import printable
from statusync.workspace import Workspace

OK, ERROR, CHANGES = 0, 1, 2


def validate(ws: Workspace, out: TextIO) -> int:
    specs = ws.specs()
    out.write(f"{len(specs)} mapping file{'' if len(specs) == 1 else 's'} valid.\n")
    return OK


def plan(ws: Workspace, out: TextIO, *, fmt: str, color: bool, detailed: bool,
         planfile: Path | None) -> int:
    state = ws.state()
    specs = ws.specs(trust=state)
    the_plan = make_plan(specs, state, ws.settings.on_removed)
    if planfile is not None:  # first: a reader that stops early (`| head`) must not lose it
        write_planfile(planfile, the_plan, ws.fingerprints(state, specs))
        click.echo(f"Saved the plan to {planfile}; apply it with: statusync apply {planfile}",
                   file=sys.stderr)
    render(the_plan, fmt, out, color=color, breach=safety_breach(the_plan, ws.settings.safety))
    return CHANGES if detailed and the_plan.changes else OK


def apply(ws: Workspace, out: TextIO, err: TextIO, *, planfile: Path | None, yes: bool,
          force: bool, parallelism: int, color: bool, lock_timeout: float,
          interactive: bool, progress_bar: bool) -> int:
    # The lock is held from planning to the last write, so a second run plans on our results.
    with hold_state_lock(ws, lock_timeout, err):
        state = ws.state()
        specs = ws.specs()
        the_plan = make_plan(specs, state, ws.settings.on_removed)
        if planfile is not None:
            saved_plan, saved = read_planfile(planfile)
            reasons = stale_reasons(saved, ws.fingerprints(state, specs))
            if reasons:
                raise StatusyncError(
                    f"the saved plan {planfile} is stale: " + "; ".join(reasons)
                    + ". Make a new plan with 'statusync plan --out FILE'")
            # Same files, settings and state give the same plan; anything else was edited.
            if saved_plan != the_plan:
                raise StatusyncError(
                    f"the saved plan {planfile} does not match the plan its files and state give "
                    "(it was edited, or the state was changed by hand); make a new plan with "
                    "'statusync plan --out FILE'")
        breach = safety_breach(the_plan, ws.settings.safety)
        render_text(the_plan, out, color=color, breach=breach)  # shown even under --force
        if not the_plan.changes:
            return OK
        if breach and not force:
            raise StatusyncError(f"refusing to apply: {breach}")
        with ExitStack() as stack:
            # Credentials are checked for every account before the first request is made.
            sending = {c.account for c in the_plan.changes if c.action.sends}
            writers = ws.clients(sending, stack) if sending else {}
            if not yes:
                confirm(interactive)
            writer = StateWriter(ws.state_path, state)
            with reporter(len(the_plan.changes), err, bar=progress_bar,
                          label="Applying") as tick:
                outcomes = apply_plan(the_plan, writers, writer, parallelism=parallelism,
                                      report=lambda o: tick(o.describe(), o.ok))
    return conclude(outcomes, out, err)


def hold_state_lock(ws: Workspace, timeout: float, err: TextIO) -> ContextManager[None]:
    """The state lock of a writing run (apply, reconcile, import), saying so when it waits."""
    def waiting() -> None:
        click.echo(f"Waiting for another statusync run to release {ws.state_path} ...", file=err)

    return state_lock(ws.state_path, timeout, on_wait=waiting)


def confirm(interactive: bool, verb: str = "apply") -> None:
    if not interactive:
        raise StatusyncError(f"refusing to {verb} without confirmation: stdin is not a terminal; "
                             "review the plan and pass --yes")
    if not click.confirm(f"{verb.capitalize()} these changes?", default=False):
        raise StatusyncError(f"{verb} cancelled; nothing was changed")


def conclude(outcomes: list[Outcome], out: TextIO, err: TextIO) -> int:
    done = {a: sum(1 for o in outcomes if o.ok and o.change.action is a) for a in Action}
    failed = sum(1 for o in outcomes if not o.ok)
    out.write(f"\nApply complete: {done[Action.CREATE]} created, {done[Action.UPDATE]} updated, "
              f"{done[Action.RESET]} reset, {done[Action.FORGET]} forgotten, {failed} failed.\n")
    return report_failures(outcomes, err, "they stay in the plan and the next apply retries them")


def report_failures(outcomes: list[Outcome], err: TextIO, retry_note: str) -> int:
    """Each failed change with the API's detail on `err`; ERROR if any failed, else OK."""
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        c = outcome.change
        err.write(f"error: {c.action.value} {c.integration_id} ({printable(c.file)}) failed: "
                  f"{outcome.error}\n")
    if failed:
        err.write(f"{len(failed)} integration{'' if len(failed) == 1 else 's'} failed; "
                  f"{retry_note}.\n")
    return ERROR if failed else OK


def fmt(ws: Workspace, out: TextIO, *, check: bool) -> int:
    from statusync.files.canonical import format_files
    from statusync.files.mappings import discover

    changed = format_files(discover(ws.mappings_dir), ws.root, check)
    verb = "would reformat" if check else "reformatted"
    for file in changed:
        out.write(f"{verb} {file}\n")
    if check and changed:
        out.write(f"{len(changed)} file{'' if len(changed) == 1 else 's'} not in canonical form; "
                  "run 'statusync fmt' to fix\n")
        return CHANGES
    return OK


def schema(out: TextIO) -> int:
    from statusync.core.schema import mapping_schema

    json.dump(mapping_schema(), out, indent=2)
    out.write("\n")
    return OK
