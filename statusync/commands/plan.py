"""`statusync plan`: what apply would change, offline and without credentials."""

from __future__ import annotations

from pathlib import Path

from statusync.console import Console
from statusync.core.plan import make_plan
from statusync.core.safety import safety_breach
from statusync.errors import CHANGES, OK
from statusync.files.planfile import write_planfile
from statusync.render.plan import render
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, output_format: str, detailed: bool,
        planfile: Path | None) -> int:
    state = ws.state()
    specs = ws.specs(trust=state)
    plan = make_plan(specs, state, ws.settings.on_removed)
    if planfile is not None:  # first: a reader that stops early (`| head`) must not lose it
        write_planfile(planfile, plan, ws.fingerprints(state, specs))
        console.note(f"Saved the plan to {planfile}; apply it with: statusync apply {planfile}")
    render(plan, output_format, console.out, color=console.color,
           breach=safety_breach(plan, ws.settings.safety))
    return CHANGES if detailed and plan.changes else OK
