"""`statusync import`: write mapping files from the live mappings and record them in the state.

What could not be read for a reason that has nothing to do with the integration (the rate limit
still refusing, the server, the network) does not cost the others: every mapping that was read
is written, and those not read are named for a second run.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statusync.console import Console, plural
from statusync.core.model import MappingDict
from statusync.core.status_check import integration_refusal
from statusync.errors import (
    ERROR,
    OK,
    AccountRefused,
    AccountSkipped,
    ApiError,
    HostUnreachable,
    StatusyncError,
    StopRun,
)
from statusync.files.atomic import atomic_write
from statusync.files.imported import ImportedFile, file_for, imported_file, refusals
from statusync.runner.bounded import per_account, run_bounded
from statusync.runner.status_read import StatusReads
from statusync.session.write import write_session
from statusync.text import printable
from statusync.workspace import Workspace

if TYPE_CHECKING:  # httpx is imported only once a command talks to the API
    from statusync.core.model import LoadedSpec
    from statusync.runner.accounts import AccountClient
    from statusync.sendcloud.models import Integration


@dataclass(frozen=True)
class LiveIntegration:
    """One integration as read from the API: its shop name and mapping, or why it could not be read."""

    integration_id: int
    account: str
    shop_name: str | None = None
    mapping: MappingDict | None = None
    error: ApiError | None = None
    # (category, external id) of live entries pointing at a status the shop deleted.
    invalid: tuple[tuple[str, str | None], ...] = ()
    stopped: bool = False  # not read: its account was stopped (named once, at the end)

    def describe(self) -> str:
        if self.stopped:
            return f"integration {self.integration_id}: not read, its account was stopped"
        if isinstance(self.error, StopRun):  # said once, at the end, for all it stopped
            return f"integration {self.integration_id}: not read (the run stopped; see below)"
        if self.error is not None:
            return f"integration {self.integration_id}: not read: {printable(str(self.error))}"
        shop = printable(self.shop_name or "no shop name")
        return f"integration {self.integration_id} ({shop}): read"

    @property
    def transient(self) -> bool:
        """Not read for a reason that is not the integration's: try again later."""
        status = None if self.error is None else self.error.status
        return self.error is not None and (status is None or status == 429 or status >= 500)


def run(
    ws: Workspace,
    console: Console,
    *,
    integration_ids: Sequence[int],
    all_: bool,
    force: bool,
    account: str | None,
    parallelism: int | None,
    lock_timeout: float,
    push: bool = False,
) -> int:
    """Write a mapping file per integration and record it; stdout lists exactly the files written,
    so that it can be piped to `git add`, and everything else goes to stderr.

    `account`: with --integration, the account to read them with (None: default); with --all,
    the one account to read (None: every account of the repository, _accounts_to_read).
    """
    out, err = console.out, console.err
    with write_session(ws, console, lock_timeout, push=push, command="import") as session:
        # session.ws, not ws: with --push, it is read again from the newest upstream commit.
        # Local files are validated first: any of them may already manage an integration asked for.
        specs = session.ws.specs() if session.ws.mappings_dir.exists() else []
        managed = {s.integration_id: s.file for s in specs}
        session.managed.update(managed)  # they keep their entries in the status catalog
        excluded = set(session.ws.settings.exclude)
        if not all_ and not force and (refused := sorted(excluded & set(integration_ids))):
            raise StatusyncError(
                f"not importing {plural(len(refused), 'integration')} excluded in statusync.yaml "
                f"(exclude): {', '.join(map(str, refused))}; nothing was read or written. "
                "Remove it from exclude, or pass --force to import it anyway"
            )
        if all_:
            accounts = [account] if account is not None else _accounts_to_read(session.ws, specs)
            clients = session.clients(accounts)
            wanted = _listed(clients)
        else:
            clients = session.clients([account or "default"])
            wanted = [(account or "default", i) for i in dict.fromkeys(integration_ids)]
        skipped_excluded: list[str] = []
        skipped_managed: list[str] = []
        if all_:  # not even read: the user asked for these shops to be left alone
            skipped_excluded = [
                f"integration {item.id}: excluded in statusync.yaml (exclude)"
                for _, item in wanted
                if not isinstance(item, int) and item.id in excluded
            ]
            wanted = [(a, item) for a, item in wanted if isinstance(item, int) or item.id not in excluded]
            # Not read either: a rerun picks up new shops, and leaves those already managed
            # alone without a request each. With --force it rewrites the files it wrote itself
            # (read those), never a file renamed since.
            kept = {
                item.id
                for _, item in wanted
                if not isinstance(item, int)
                and item.id in managed
                and (
                    not force
                    or managed[item.id]
                    != file_for(session.ws.mappings_dir, session.ws.root, item.id, item.shop_name)
                )
            }
            skipped_managed = [f"integration {i}: already managed by {managed[i]}" for i in sorted(kept)]
            wanted = [(a, item) for a, item in wanted if isinstance(item, int) or item.id not in kept]
        with console.progress(len(wanted), "Reading") as tick:
            lives = run_bounded(
                wanted,
                lambda pair: _read(pair[0], clients[pair[0]], pair[1], session.reads),
                per_account(parallelism, clients, "GET", lambda pair: pair[0]),  # a lane per account
                lambda live: tick(live.describe(), live.error is None and not live.stopped),
            )
        lives = [live for live in lives if not live.stopped]  # their accounts are named below
        unread = sorted((live for live in lives if live.transient), key=lambda live: live.integration_id)
        files, skipped, reasons = _files_to_write(
            session.ws, [live for live in lives if not live.transient], all_
        )
        skipped = skipped_excluded + skipped_managed + skipped
        reasons += refusals(files, managed, force)
        if reasons:
            # All or nothing: a rerun with the problem fixed then needs no --force.
            raise StatusyncError(
                "cannot import; nothing was written:\n" + "\n".join(f"  {reason}" for reason in reasons)
            )
        session.ws.mappings_dir.mkdir(parents=True, exist_ok=True)
        for item in files:
            atomic_write(item.path, item.data)
            out.write(f"{item.file}\n")
            out.flush()
        # One state write for all (at 10,000 integrations each write is a 4 MB file). A run
        # killed before it leaves files the state does not know: the next plan shows them as
        # creates, and applying those re-sends what is live already, which is harmless.
        if files:
            session.record([item.change() for item in files])
            session.commit_also(
                [item.path for item in files], f"statusync: import {plural(len(files), 'integration')}"
            )
        # The report comes before --push commits the files and the state, at the end of the block.
        _warn_invalid(lives, {f.spec.integration_id: f.file for f in files}, console)
        for note in skipped:
            err.write(f"note: skipped {note}\n")
        for ids, reason in _by_reason(unread):
            err.write(f"error: {_naming(ids)} could not be read: {reason}\n")
        not_read = f", {len(unread)} not read" if unread else ""
        stopped = session.stopped_accounts()
        err.write(
            f"Import {'incomplete' if unread or stopped else 'complete'}: {len(files)} imported, "
            f"{len(skipped)} skipped{not_read}.\n"
        )
        if unread:
            # --all again adopts what is not managed yet: those not read, and nothing twice.
            again = ["--all"] if all_ else [f"--integration {live.integration_id}" for live in unread]
            if force:
                again.append("--force")
            if account is not None:
                again.append(f"--account {shlex.quote(account)}")
            if push:
                again.append("--push")
            err.write(f"Import them with: statusync import {' '.join(again)}\n")
            return ERROR
        return ERROR if stopped else OK


def _by_reason(unread: list[LiveIntegration]) -> list[tuple[list[int], str]]:
    """The ids not read, grouped by why (an API that cannot be reached, the same 503 for many),
    so that one reason is one line, not one per integration."""
    groups: dict[str, list[LiveIntegration]] = {}
    for live in unread:
        error = live.error
        assert error is not None
        # The message starts with the request, which names the integration: grouped by what
        # the API (or the network) said, else no two integrations would ever share a line.
        reason = error.detail if error.status is None else f"HTTP {error.status}: {error.detail}"
        groups.setdefault(reason, []).append(live)
    return [
        (
            [live.integration_id for live in lives],
            printable(str(lives[0].error) if len(lives) == 1 else reason),
        )
        for reason, lives in groups.items()
    ]


def _naming(ids: list[int], shown: int = 10) -> str:
    if len(ids) == 1:
        return f"integration {ids[0]}"
    listed = ", ".join(map(str, ids[:shown])) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
    return f"{len(ids)} integrations ({listed})"


def _accounts_to_read(ws: Workspace, specs: list[LoadedSpec]) -> list[str]:
    """The accounts `import --all` reads: every account of statusync.yaml. `default`, which
    exists without being written there, only when statusync.yaml names no other account, its
    variables are set, or a mapping file uses it: a repository of partner accounts alone is
    never asked for keys it does not have."""
    accounts = sorted(ws.settings.accounts)
    if accounts == ["default"]:
        return accounts
    names = dict(ws.settings.accounts["default"].credential_envs())
    if all(name in ws.env for name in names) or any(s.account == "default" for s in specs):
        return accounts
    return [a for a in accounts if a != "default"]


def _listed(clients: dict[str, AccountClient]) -> list[tuple[str, int | Integration]]:
    """Each account's integrations, with the account to read them with; an integration that
    several accounts list is read with the first of them by name. An account whose list is
    refused is stopped (named at the end), and the others are still read."""
    wanted: dict[int, tuple[str, int | Integration]] = {}
    for account in sorted(clients):
        try:
            listed = clients[account].list_integrations()
        except (AccountRefused, AccountSkipped):
            continue
        for integration in listed:
            wanted.setdefault(integration.id, (account, integration))
    return list(wanted.values())


def _read(
    account: str, client: AccountClient, item: int | Integration, reads: StatusReads
) -> LiveIntegration:
    """An integration asked for by id (read first) or listed by --all, with its live mapping,
    and its shop's statuses for the status catalog."""
    integration_id = item if isinstance(item, int) else item.id
    try:
        integration = client.get_integration(item) if isinstance(item, int) else item
        live = client.get_mapping(integration_id)
    except (AccountRefused, AccountSkipped):
        return LiveIntegration(integration_id, account, stopped=True)
    except ApiError as exc:
        if isinstance(exc, StopRun) and not isinstance(exc, HostUnreachable):
            raise  # rejected credentials: every other read would be refused alike
        return LiveIntegration(integration_id, account, error=exc)
    try:
        reads.read(client, integration_id)
    except ApiError as exc:  # names only: the import stands without them (its account's stop too)
        if isinstance(exc, StopRun) and not isinstance(exc, HostUnreachable):
            raise
    return LiveIntegration(
        integration_id,
        account,
        integration.shop_name,
        live.as_mapping(),
        invalid=tuple((e.category, e.external_id) for e in live.invalid_entries()),
    )


def _warn_invalid(lives: list[LiveIntegration], written: dict[int, str], console: Console) -> None:
    """A warning for every imported entry that points at a status the shop deleted: the API
    refuses to upsert it, and every upsert sends all four categories, so a later edit of any
    other category of that shop would fail with a 400 until the file maps it anew."""
    for live in sorted(lives, key=lambda live: live.integration_id):
        if live.integration_id not in written:
            continue
        for category, external_id in live.invalid:
            shown = "null" if external_id is None else printable(repr(external_id))
            console.note(
                f"warning: integration {live.integration_id} "
                f"({printable(live.shop_name or 'no shop name')}), "
                f"{printable(written[live.integration_id])}: {category} maps to external id "
                f"{shown}, a status the shop deleted (is_valid: false); the API refuses it, so "
                f"any later change to this file fails until {category} maps to a status the "
                "shop has ('statusync validate --remote' lists them)"
            )


def _files_to_write(
    ws: Workspace, lives: list[LiveIntegration], all_: bool
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
            files.append(
                imported_file(
                    ws.mappings_dir, ws.root, live.integration_id, live.shop_name, live.account, live.mapping
                )
            )
        except StatusyncError as exc:
            reasons.append(str(exc))
    return sorted(files, key=lambda item: item.file), skipped, reasons
