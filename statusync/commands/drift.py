"""`statusync drift`: every managed integration's live mapping against its file (read-only)."""

from __future__ import annotations

from statusync.console import Console
from statusync.core.subset import Subset
from statusync.errors import CHANGES, ERROR, OK
from statusync.github.summary import append_summary
from statusync.render.drift import render, render_markdown, shows_ids
from statusync.render.style import NO_NAMES
from statusync.session.accounts import account_clients
from statusync.session.drift import read_drift
from statusync.session.names import read_catalog
from statusync.session.only import checking, select
from statusync.workspace import Workspace


def run(
    ws: Workspace,
    console: Console,
    *,
    output_format: str,
    parallelism: int | None,
    only: Subset | None = None,
) -> int:
    """Report every managed integration's drift on stdout; it writes nothing, so takes no lock."""
    state = ws.state()
    every = ws.specs()
    specs, _ = select(only, every, state)  # last-applied values are looked up by id: all state
    checking(console, only, len(specs), len(every))
    with account_clients(ws, {s.account for s in specs}, console) as (readers, accounts):
        report = read_drift(specs, state, readers, console, parallelism=parallelism)
    catalog = (
        read_catalog(ws, console, {d.integration_id for d in report.integrations})
        if shows_ids(report)
        else NO_NAMES
    )
    # Whole, also when an account was stopped: its integrations are under the errors.
    render(report, output_format, console.out, color=console.color, catalog=catalog)
    # On GitHub Actions the run's page shows the report too, whichever format stdout got.
    append_summary(lambda out: render_markdown(report, out, catalog=catalog), ws.env, console)
    if accounts.report(console) or report.failures:
        return ERROR
    return CHANGES if report.differs else OK
