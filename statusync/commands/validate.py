"""`statusync validate`: every mapping file and statusync.yaml checked offline; with --remote,
every external id also checked against its shop's statuses, deleted ones included."""

from __future__ import annotations

from statusync.console import Console, plural
from statusync.core.model import LoadedSpec
from statusync.core.state import State
from statusync.core.state_check import hand_edits
from statusync.core.status_check import (
    Finding,
    integration_refusal,
    refusal_finding,
    status_findings,
)
from statusync.core.subset import Subset
from statusync.errors import ERROR, OK, AccountRefused, AccountSkipped, ApiError, InvalidInput, StatusyncError
from statusync.files import yamldoc
from statusync.files.journal import journal_path
from statusync.files.mappings import located, located_again, shown_path
from statusync.runner.bounded import per_account, run_bounded
from statusync.runner.status_read import StatusReads
from statusync.session.accounts import account_clients
from statusync.session.names import announce, read_catalog, status_warnings
from statusync.session.only import described, select
from statusync.text import labelled
from statusync.workspace import Workspace


def run(
    ws: Workspace, console: Console, *, remote: bool, parallelism: int | None, only: Subset | None = None
) -> int:
    # Every file is checked locally whatever --only says: duplicate ids and the files that
    # id:/account: patterns select can only be told from all of them, and plan and apply
    # refuse an invalid file anywhere. --only narrows the remote check and the count.
    every = ws.specs()  # invalid files end the run here, before any request
    state = ws.state()
    _check_state(ws, state, every)
    specs = every if only is None else select(only, every, state)[0]
    subset = "" if only is None else f"; {len(specs)} in {described(only.texts)}"
    if not remote:
        _warn_offline(ws, console, specs)
        console.out.write(f"{plural(len(every), 'mapping file')} valid{subset}.\n")
        return OK
    reads = StatusReads(ws.settings.language)  # recorded in the status catalog, however the run ends
    try:
        results, stopped = _check_remote(ws, console, specs, reads, parallelism)
    finally:
        _record(ws, console, reads, every)
    problems = [
        problem
        for loaded, findings in results
        if findings
        for problem in located(loaded.file, _text(ws, loaded), findings)
    ]
    if problems:
        raise InvalidInput(problems)
    if stopped:
        unchecked = sum(1 for _, findings in results if findings is None)
        console.out.write(
            f"{plural(len(every), 'mapping file')} valid; {len(specs) - unchecked} of {len(specs)} "
            "checked against the shops' statuses, the others' accounts were stopped.\n"
        )
        return ERROR
    if only is not None:
        console.out.write(
            f"{plural(len(every), 'mapping file')} valid; {len(specs)} in "
            f"{described(only.texts)} checked against the shops' statuses.\n"
        )
        return OK
    console.out.write(f"{plural(len(specs), 'mapping file')} valid (checked against the shops' statuses).\n")
    return OK


# Per file its findings; None: not checked, its account was stopped (named once, at the end).
_Results = list[tuple[LoadedSpec, list[Finding] | None]]


def _check_remote(
    ws: Workspace, console: Console, specs: list[LoadedSpec], reads: StatusReads, parallelism: int | None
) -> tuple[_Results, bool]:
    """Each file checked against its shop's statuses, and whether an account was stopped."""
    with account_clients(ws, {s.account for s in specs}, console) as (clients, accounts):

        def check(loaded: LoadedSpec) -> tuple[LoadedSpec, list[Finding] | None]:
            spec = loaded.spec
            try:
                statuses = reads.read(clients[spec.account], spec.integration_id)
            except (AccountSkipped, AccountRefused):
                return loaded, None
            except ApiError as exc:
                refusal = integration_refusal(spec.integration_id, exc)
                if refusal is None:  # credentials, rate limit, server: no file is to blame
                    raise
                return loaded, [refusal_finding(refusal)]
            return loaded, status_findings(spec.mapping.as_dict(), statuses)

        with console.progress(len(specs), "Checking") as tick:
            results = run_bounded(
                specs,
                check,
                per_account(parallelism, clients, "GET", lambda loaded: loaded.account),
                lambda result: tick(_checked(*result), result[1] == []),
            )
    return results, accounts.report(console)


def _record(ws: Workspace, console: Console, reads: StatusReads, every: list[LoadedSpec]) -> None:
    """The statuses read, into the status catalog; what has a file or is in the state stays."""
    try:
        keep = {s.integration_id for s in every} | set(ws.state().entries)
        note = reads.save(ws.state_path, keep)
    except StatusyncError as exc:
        note = f"the shops' statuses read were not recorded: {exc}"
    if note:
        console.note(f"warning: {note}")


def _checked(loaded: LoadedSpec, findings: list[Finding] | None) -> str:
    if findings is None:
        return f"{loaded.file}: not checked, its account was stopped"
    if not findings:
        return f"{loaded.file}: ok"
    return f"{loaded.file}: {plural(len(findings), 'problem')}"


def _text(ws: Workspace, loaded: LoadedSpec) -> str:
    return yamldoc.decode((ws.root / loaded.file).read_bytes(), loaded.file)


def _check_state(ws: Workspace, state: State, every: list[LoadedSpec]) -> None:
    """Fail on a state edited by hand to say otherwise than a file whose bytes it recorded
    (statusync.core.state_check): plan and apply would take the state's word for that file."""
    shown = shown_path(ws.state_path, ws.root)
    journal = journal_path(ws.state_path)
    if journal.exists():  # folded into the state, and maybe what says otherwise
        shown += f" (with the journal {shown_path(journal, ws.root)} of an interrupted run)"
    edits = hand_edits(state, every, shown)
    by_file: dict[str, list[Finding]] = {}
    for file, finding in edits:
        by_file.setdefault(file, []).append(finding)
    problems = [p for file, findings in by_file.items() for p in located_again(ws.root, file, findings)]
    if problems:
        raise InvalidInput(problems)


def _warn_offline(ws: Workspace, console: Console, specs: list[LoadedSpec]) -> None:
    """Warn (the exit code stays 0) of each mapped id the statuses last read of its integration
    do not have, or have as deleted; --remote checks live instead."""
    catalog = read_catalog(ws, console, {s.integration_id for s in specs})
    if not catalog.shops:
        return
    warnings = status_warnings(
        ws, catalog, ((s.file, s.integration_id, s.spec.mapping.as_dict()) for s in specs)
    )
    for warning in warnings:
        console.note(labelled("warning: ", str(warning)))
    announce(warnings, ws, console)
