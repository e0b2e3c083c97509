"""`statusync accounts`: the accounts a run would touch, offline: those with a mapping file (their
drift is read) and those with a pending change, a forget or an uncertain write included (apply
has something to do for them). As JSON, a list of names for a CI matrix of one job per account
(`fromJSON` in GitHub Actions)."""

from __future__ import annotations

import json

from statusync.console import Console
from statusync.core.plan import make_plan
from statusync.errors import OK
from statusync.workspace import Workspace


def run(ws: Workspace, console: Console, *, output_format: str) -> int:
    state = ws.state()
    specs = ws.specs(trust=state)
    plan = make_plan(specs, state, ws.settings.on_removed)
    names = sorted({s.account for s in specs} | {c.account for c in plan.changes})
    if output_format == "json":
        console.out.write(json.dumps(names) + "\n")
    else:
        console.out.write("".join(f"{name}\n" for name in names))
    return OK
