"""`statusync plan`: what apply would change, offline and without credentials."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from statusync.console import Console
from statusync.core.plan import make_plan
from statusync.core.safety import safety_breach
from statusync.core.subset import Subset
from statusync.errors import CHANGES, OK
from statusync.github.summary import append_summary
from statusync.render.plan import render, render_markdown
from statusync.render.style import NO_NAMES
from statusync.session.only import partial, select
from statusync.workspace import Workspace


def run(
    ws: Workspace,
    console: Console,
    *,
    output_format: str,
    detailed: bool,
    planfile: Path | None,
    only: Subset | None = None,
) -> int:
    state = ws.state()
    specs = ws.specs(trust=state)
    # With --only, the plan and its safety base cover the subset; the fingerprints below still
    # cover every file, since one outside the subset may take over an id inside it.
    chosen, scoped = select(only, specs, state)
    plan = partial(make_plan(chosen, scoped, ws.settings.on_removed), only)
    if planfile is not None:  # first: a reader that stops early (`| head`) must not lose it
        from statusync.files.journal import journal_mark  # a saved plan's rules: only for --out
        from statusync.files.planfile import write_planfile

        prints = replace(ws.fingerprints(state, specs), journal=journal_mark(ws.state_path))
        write_planfile(planfile, plan, prints)
        console.note(f"Saved the plan to {planfile}; apply it with: statusync apply {planfile}")
    breach = safety_breach(plan, ws.settings.safety)
    warnings = ws.state_warnings(state, specs)
    catalog = NO_NAMES
    if plan.changes:  # names and the ids' warnings only for a plan that shows ids: a fast no-op
        from statusync.session.names import announce, language_note, read_catalog, status_warnings

        catalog = read_catalog(ws, console, {c.integration_id for c in plan.changes}, say_language=False)
        if (note := language_note(ws, catalog)) is not None:
            warnings.append(note)
        unknown = status_warnings(
            ws, catalog, ((c.file, c.integration_id, c.after) for c in plan.changes if c.after)
        )
        warnings += [str(problem) for problem in unknown]
        announce(unknown, ws, console)
    render(
        plan,
        output_format,
        console.out,
        color=console.color,
        breach=breach,
        warnings=warnings,
        catalog=catalog,
    )
    # On GitHub Actions the run's page shows the plan too, whichever format stdout got.
    append_summary(
        lambda out: render_markdown(plan, out, breach=breach, warnings=warnings, catalog=catalog),
        ws.env,
        console,
    )
    return CHANGES if detailed and plan.changes else OK
