"""`statusync plan`: what apply would change, offline and without credentials."""

from __future__ import annotations

from pathlib import Path

from statusync.console import Console
from statusync.core.plan import make_plan
from statusync.core.safety import safety_breach
from statusync.errors import CHANGES, OK
from statusync.files.planfile import write_planfile
from statusync.github.summary import append_summary
from statusync.render.plan import render, render_markdown
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, output_format: str, detailed: bool,
        planfile: Path | None) -> int:
    state = ws.state()
    specs = ws.specs(trust=state)
    plan = make_plan(specs, state, ws.settings.on_removed)
    if planfile is not None:  # first: a reader that stops early (`| head`) must not lose it
        write_planfile(planfile, plan, ws.fingerprints(state, specs))
        console.note(f"Saved the plan to {planfile}; apply it with: statusync apply {planfile}")
    breach = safety_breach(plan, ws.settings.safety)
    render(plan, output_format, console.out, color=console.color, breach=breach)
    # On GitHub Actions the run's page shows the plan too, whichever format stdout got.
    append_summary(lambda out: render_markdown(plan, out, breach=breach), ws.env, console)
    return CHANGES if detailed and plan.changes else OK
