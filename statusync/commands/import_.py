"""`statusync import` and `statusync validate --remote`: the commands that read the live API to
write mapping files, or to check them against the shops."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Sequence, TextIO

from statusync.files import yamldoc
from statusync.sendcloud.client import ApiError, Integration, SendcloudClient
from statusync.runner.apply import StateWriter
from statusync.commands.basic import OK, hold_state_lock
from statusync.errors import InvalidInput, StatusyncError
from statusync.files.atomic import atomic_write
from statusync.files.imported import ImportedFile, imported_file, refusals
from statusync.core.model import LoadedSpec, MappingDict
from statusync.runner.bounded import run_bounded
from statusync.console import reporter
from statusync.core.text import printable
from statusync.core.status_check import Finding, integration_refusal, located, refusal_finding, status_findings
from statusync.workspace import Workspace


@dataclass(frozen=True)
class Live:
    """One integration as read from the API: its shop name and mapping, or why it could not be read."""

    integration_id: int
    shop_name: str | None = None
    mapping: MappingDict | None = None
    error: ApiError | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"integration {self.integration_id}: not read: {self.error}"
        shop = printable(self.shop_name or "no shop name")
        return f"integration {self.integration_id} ({shop}): read"


def import_(ws: Workspace, out: TextIO, err: TextIO, *, integration_ids: Sequence[int], all_: bool,
            force: bool, account: str, parallelism: int, lock_timeout: float,
            progress_bar: bool) -> int:
    """Write a mapping file per integration and record it; stdout lists exactly the files written,
    so that it can be piped to `git add`, and everything else goes to stderr."""
    with hold_state_lock(ws, lock_timeout, err):
        state = ws.state()
        # Local files are validated first: any of them may already manage an integration asked for.
        specs = ws.specs() if ws.mappings_dir.exists() else []
        managed = {s.spec.integration_id: s.file for s in specs}
        with ExitStack() as stack:
            client = ws.clients([account], stack)[account]
            wanted: list[int | Integration] = (
                list(client.list_integrations()) if all_ else list(dict.fromkeys(integration_ids)))
            with reporter(len(wanted), err, bar=progress_bar, label="Reading") as tick:
                lives = run_bounded(wanted, lambda item: _read(client, item), parallelism,
                                    lambda live: tick(live.describe(), live.error is None))
        files, skipped, reasons = _sort_out(ws, lives, account, all_)
        if all_:
            # A rerun of --all picks up new shops and leaves those already managed alone; with
            # --force it rewrites the files it wrote itself, never a file renamed since.
            kept = {f.spec.integration_id for f in files if f.spec.integration_id in managed
                    and (not force or managed[f.spec.integration_id] != f.file)}
            skipped += [f"integration {i}: already managed by {managed[i]}" for i in sorted(kept)]
            files = [f for f in files if f.spec.integration_id not in kept]
        reasons += refusals(files, managed, force)
        if reasons:
            # All or nothing: a rerun with the problem fixed then needs no --force.
            raise StatusyncError("cannot import; nothing was written:\n"
                                 + "\n".join(f"  {reason}" for reason in reasons))
        ws.mappings_dir.mkdir(parents=True, exist_ok=True)
        for item in files:
            atomic_write(item.path, item.data)
            out.write(f"{item.file}\n")
            out.flush()
        # One state write for all (at 10,000 integrations each write is a 4 MB file). A run
        # killed before it leaves files the state does not know: the next plan shows them as
        # creates, and applying those re-sends what is live already, which is harmless.
        if files:
            StateWriter(ws.state_path, state).record([item.change() for item in files])
    for note in skipped:
        err.write(f"note: skipped {note}\n")
    err.write(f"Import complete: {len(files)} imported, {len(skipped)} skipped.\n")
    return OK


def validate_remote(ws: Workspace, out: TextIO, err: TextIO, *, parallelism: int,
                    progress_bar: bool) -> int:
    """The local checks, then every external id against its shop's statuses, deleted ones included."""
    specs = ws.specs()  # invalid files end the run here, before any request
    with ExitStack() as stack:
        clients = ws.clients({s.spec.account for s in specs}, stack)

        def check(loaded: LoadedSpec) -> tuple[LoadedSpec, list[Finding]]:
            spec = loaded.spec
            try:
                statuses = clients[spec.account].list_shop_statuses(spec.integration_id,
                                                                    show_deleted=True)
            except ApiError as exc:
                refusal = integration_refusal(spec.integration_id, exc)
                if refusal is None:  # credentials, rate limit, server: no file is to blame
                    raise
                return loaded, [refusal_finding(refusal)]
            return loaded, status_findings(spec.mapping.as_dict(), statuses)

        with reporter(len(specs), err, bar=progress_bar, label="Checking") as tick:
            results = run_bounded(specs, check, parallelism,
                                  lambda result: tick(_checked(*result), not result[1]))
    problems = [problem for loaded, findings in results if findings
                for problem in located(loaded.file, _text(ws, loaded), findings)]
    if problems:
        raise InvalidInput(problems)
    count = len(specs)
    out.write(f"{count} mapping file{'' if count == 1 else 's'} valid "
              "(checked against the shops' statuses).\n")
    return OK


def _read(client: SendcloudClient, item: int | Integration) -> Live:
    """An integration asked for by id (read first) or listed by --all, with its live mapping."""
    integration_id = item if isinstance(item, int) else item.id
    try:
        integration = client.get_integration(item) if isinstance(item, int) else item
        mapping = client.get_mapping(integration_id).as_mapping()
    except ApiError as exc:
        return Live(integration_id, error=exc)
    return Live(integration_id, integration.shop_name, mapping)


def _sort_out(ws: Workspace, lives: list[Live], account: str, all_: bool
              ) -> tuple[list[ImportedFile], list[str], list[str]]:
    """The files to write, the integrations skipped (only --all skips), and what stops the import."""
    files: list[ImportedFile] = []
    skipped: list[str] = []
    reasons: list[str] = []
    for live in sorted(lives, key=lambda live: live.integration_id):
        if live.error is not None:
            refusal = integration_refusal(live.integration_id, live.error)
            # --all reads every integration of the account, and only PrestaShop V2 ones have a
            # mapping; an integration asked for by id is expected to have one.
            if all_ and refusal is not None:
                skipped.append(refusal)
            else:
                reasons.append(refusal or str(live.error))
            continue
        assert live.mapping is not None
        try:
            files.append(imported_file(ws.mappings_dir, ws.root, live.integration_id,
                                       live.shop_name, account, live.mapping))
        except StatusyncError as exc:
            reasons.append(str(exc))
    return sorted(files, key=lambda item: item.file), skipped, reasons


def _checked(loaded: LoadedSpec, findings: list[Finding]) -> str:
    if not findings:
        return f"{loaded.file}: ok"
    return f"{loaded.file}: {len(findings)} problem{'' if len(findings) == 1 else 's'}"


def _text(ws: Workspace, loaded: LoadedSpec) -> str:
    return yamldoc.decode((ws.root / loaded.file).read_bytes(), loaded.file)
