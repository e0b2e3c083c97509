"""`statusync validate`: every mapping file and statusync.yaml checked offline; with --remote,
every external id also checked against its shop's statuses, deleted ones included."""

from __future__ import annotations

from statusync.console import Console, plural
from statusync.core.model import LoadedSpec
from statusync.core.status_check import (
    Finding,
    integration_refusal,
    refusal_finding,
    status_findings,
)
from statusync.core.subset import Subset
from statusync.errors import OK, ApiError, InvalidInput
from statusync.files import yamldoc
from statusync.files.mappings import located
from statusync.runner.bounded import per_account, run_bounded
from statusync.session.only import described, select
from statusync.workspace import Workspace


def run(
    ws: Workspace, console: Console, *, remote: bool, parallelism: int | None, only: Subset | None = None
) -> int:
    # Every file is checked locally whatever --only says: duplicate ids and the files that
    # id:/account: patterns select can only be told from all of them, and plan and apply
    # refuse an invalid file anywhere. --only narrows the remote check and the count.
    every = ws.specs()  # invalid files end the run here, before any request
    # The state is read only for --only (id:/account: may name an integration whose file is gone).
    specs = every if only is None else select(only, every, ws.state())[0]
    subset = "" if only is None else f"; {len(specs)} in {described(only.texts)}"
    if not remote:
        console.out.write(f"{plural(len(every), 'mapping file')} valid{subset}.\n")
        return OK
    with ws.client_session({s.spec.account for s in specs}) as clients:

        def check(loaded: LoadedSpec) -> tuple[LoadedSpec, list[Finding]]:
            spec = loaded.spec
            try:
                statuses = clients[spec.account].list_shop_statuses(spec.integration_id, show_deleted=True)
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
                per_account(parallelism, clients, "GET", lambda loaded: loaded.spec.account),
                lambda result: tick(_checked(*result), not result[1]),
            )
    problems = [
        problem
        for loaded, findings in results
        if findings
        for problem in located(loaded.file, _text(ws, loaded), findings)
    ]
    if problems:
        raise InvalidInput(problems)
    if only is not None:
        console.out.write(
            f"{plural(len(every), 'mapping file')} valid; {len(specs)} in "
            f"{described(only.texts)} checked against the shops' statuses.\n"
        )
        return OK
    console.out.write(f"{plural(len(specs), 'mapping file')} valid (checked against the shops' statuses).\n")
    return OK


def _checked(loaded: LoadedSpec, findings: list[Finding]) -> str:
    if not findings:
        return f"{loaded.file}: ok"
    return f"{loaded.file}: {plural(len(findings), 'problem')}"


def _text(ws: Workspace, loaded: LoadedSpec) -> str:
    return yamldoc.decode((ws.root / loaded.file).read_bytes(), loaded.file)
