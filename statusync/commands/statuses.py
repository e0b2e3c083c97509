"""`statusync statuses`: each managed integration's shop statuses, from the status catalog
(offline), read live (`--remote`), or read live and recorded in the catalog (`--refresh`)."""

from __future__ import annotations

import json
from typing import Any

from statusync.console import Console
from statusync.core.catalog import ShopStatuses, StatusCatalog
from statusync.core.model import LoadedSpec
from statusync.core.status_check import id_order
from statusync.core.subset import Subset
from statusync.errors import ERROR, OK, AccountRefused, AccountSkipped, StatusyncError, StopRun
from statusync.files.catalog_file import catalog_path, load_catalog
from statusync.runner.bounded import per_account, run_bounded
from statusync.runner.status_read import StatusReads
from statusync.session.accounts import Accounts, account_clients
from statusync.session.only import checking, select
from statusync.text import printable, quote
from statusync.workspace import Workspace

FORMAT_VERSION = 1


def run(
    ws: Workspace,
    console: Console,
    *,
    remote: bool,
    refresh: bool,
    output_format: str,
    parallelism: int | None,
    only: Subset | None = None,
) -> int:
    every = ws.specs()
    state = ws.state()
    specs = sorted(select(only, every, state)[0], key=lambda s: s.file)
    checking(console, only, len(specs), len(every))
    errors: dict[int, str] = {}
    of_stopped: set[int] = set()  # integrations of the accounts stopped
    accounts: Accounts | None = None
    if remote or refresh:
        reads = StatusReads(ws.settings.language)
        try:
            errors, of_stopped, accounts = _read(ws, console, specs, reads, parallelism)
        finally:
            if refresh:
                keep = {s.integration_id for s in every} | set(state.entries)
                if note := reads.save(ws.state_path, keep):
                    console.note(f"warning: {note}")
        shown = StatusCatalog(reads.shops)
    else:
        shown = load_catalog(catalog_path(ws.state_path))
    source = "live" if remote or refresh else "catalog"
    if output_format == "json":
        console.out.write(json.dumps(_document(specs, shown, errors, source), indent=2) + "\n")
    else:
        _text(console, specs, shown, errors, source)
    for integration_id, error in sorted(errors.items()):
        if integration_id not in of_stopped:  # those are named once, with their account, below
            console.err.write(
                f"error: statuses of integration {integration_id} not read: {printable(error)}\n"
            )
    stopped = accounts is not None and accounts.report(console)
    return ERROR if errors or stopped else OK


def _read(
    ws: Workspace, console: Console, specs: list[LoadedSpec], reads: StatusReads, parallelism: int | None
) -> tuple[dict[int, str], set[int], Accounts]:
    """Read every integration's statuses into `reads`: what could not be read and why, which
    of those belong to an account that was stopped, and the run's accounts.

    An account whose credentials are refused or not set stops alone, its integrations carrying
    why; the others are read (and recorded with --refresh). Only a host that takes no
    connection, which every account would meet, ends the reads."""
    with account_clients(ws, {s.account for s in specs}, console) as (clients, accounts):
        # (id, why not read, whether its account was stopped: why is then the account's)
        def read(loaded: LoadedSpec) -> tuple[int, str | None, bool]:
            spec = loaded.spec
            try:
                reads.read(clients[spec.account], spec.integration_id)
            except StopRun:
                raise  # no connection: every other read meets it too
            except (AccountRefused, AccountSkipped):
                return spec.integration_id, None, True
            except StatusyncError as exc:
                return spec.integration_id, str(exc), False
            return spec.integration_id, None, False

        def described(result: tuple[int, str | None, bool]) -> str:
            why = "not read, its account was stopped" if result[2] else result[1]
            return f"integration {result[0]}: {why or 'read'}"

        with console.progress(len(specs), "Reading shop statuses") as tick:
            results = run_bounded(
                specs,
                read,
                # A lane per account: each has its own rate limit, so their reads go side by side.
                per_account(parallelism, clients, "GET", lambda loaded: loaded.account),
                lambda result: tick(described(result), result[1] is None and not result[2]),
            )
    account_of = {s.integration_id: s.account for s in specs}
    errors: dict[int, str] = {}
    of_stopped: set[int] = set()
    for integration_id, error, stopped in results:
        if stopped:
            account = account_of[integration_id]
            error = f"account {printable(account)!r} stopped: {accounts.stops.reason(account)}"
            of_stopped.add(integration_id)
        if error is not None:
            errors[integration_id] = error
    return errors, of_stopped, accounts


def _document(
    specs: list[LoadedSpec], catalog: StatusCatalog, errors: dict[int, str], source: str
) -> dict[str, Any]:
    integrations = []
    for loaded in specs:
        integration_id = loaded.integration_id
        shop = catalog.shops.get(integration_id)
        integrations.append(
            {
                "integration_id": integration_id,
                "file": loaded.file,
                "account": loaded.account,
                "read_at": shop.read_at if shop else None,
                "language": shop.language if shop else None,
                # null: never read (offline) or not read now (--remote, --refresh: see "error").
                "statuses": [
                    {"external_id": e, "name": s.name, "deleted": s.deleted} for e, s in _ordered(shop)
                ]
                if shop
                else None,
                "error": errors.get(integration_id),
            }
        )
    return {"format_version": FORMAT_VERSION, "source": source, "integrations": integrations}


def _text(
    console: Console, specs: list[LoadedSpec], catalog: StatusCatalog, errors: dict[int, str], source: str
) -> None:
    out = console.out
    if not specs:
        out.write("No managed integrations.\n")
        return
    for loaded in specs:
        integration_id = loaded.integration_id
        shop = catalog.shops.get(integration_id)
        name = f", {printable(loaded.name)}" if loaded.name else ""
        head = f"{printable(loaded.file)} (integration {integration_id}{name})"
        if shop is None:
            why = (
                f"not read: {printable(errors[integration_id])}"
                if integration_id in errors
                else "never read: run 'statusync statuses --refresh'"
            )
            out.write(f"{head}: {why}\n\n")
            continue
        # Both from the committed catalog when offline: a hand edit may hold anything.
        when = "read now" if source == "live" else f"read {printable(shop.read_at)}"
        out.write(f"{head}, {when}, in {printable(shop.language)}:\n")
        if not shop.statuses:
            out.write("  (the shop has no statuses)\n")
        width = max((len(quote(e)) for e in shop.statuses), default=0)
        for external_id, status in _ordered(shop):
            deleted = console.paint("  (deleted)", fg="red") if status.deleted else ""
            out.write(f"  {quote(external_id).ljust(width)}  {printable(status.name)}{deleted}\n")
        out.write("\n")


def _ordered(shop: ShopStatuses | None) -> list[tuple[str, Any]]:
    """As a shop lists them (statusync.core.status_check.id_order)."""
    if shop is None:
        return []
    return sorted(shop.statuses.items(), key=lambda item: id_order(item[0]))
