"""The clients of a run, one per account, each stopped on its own (statusync.runner.accounts),
and the summary that names every account a run stopped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from statusync.console import Console
from statusync.errors import StatusyncError
from statusync.runner.accounts import AccountClient, AccountStops, PacedAccountClient
from statusync.text import labelled
from statusync.workspace import Workspace, credentials_for


@dataclass
class Accounts:
    """The accounts of one run: their clients, and which of them were stopped."""

    stops: AccountStops = field(default_factory=AccountStops)
    reported: bool = False  # the stopped accounts were named: a run names them once

    def clients(self, ws: Workspace, accounts: Iterable[str], stack: ExitStack) -> dict[str, AccountClient]:
        """A client per account, closed with `stack`. An account whose credentials are not set
        is stopped before its first request, and the others go on; when no account of the run
        has them, nothing could be done at all, and that is the error, before any request."""
        wanted = sorted(set(accounts))
        missing: dict[str, str] = {}
        for account in wanted:
            try:
                credentials_for(ws.settings, account, ws.env)
            except StatusyncError as exc:
                missing[account] = str(exc)
        if wanted and len(missing) == len(wanted):
            raise StatusyncError("\n".join(missing.values()))
        real = ws.clients([a for a in wanted if a not in missing], stack)
        clients: dict[str, AccountClient] = {
            account: PacedAccountClient(account, client, self.stops) for account, client in real.items()
        }
        for account, reason in missing.items():
            clients[account] = AccountClient(account, None, self.stops, unconfigured=reason)
        return clients

    def report(self, console: Console) -> bool:
        """Name each stopped account on stderr, why, and what it left (once a run); whether
        any was."""
        lines = self.stops.summary()
        if lines and not self.reported:
            self.reported = True
            for line in lines:
                console.err.write(labelled("error: ", line) + "\n")
        return bool(lines)


@contextmanager
def account_clients(
    ws: Workspace, accounts: Iterable[str], console: Console
) -> Iterator[tuple[dict[str, AccountClient], Accounts]]:
    """`Accounts.clients` for a block of work that writes nothing (drift, validate --remote),
    closed at its end. Should the block end with an error (a stop, a host that takes no
    connection), the accounts stopped until then are named before it: the command's own
    summary, which names them otherwise, is not reached."""
    run = Accounts()
    with ExitStack() as stack:
        try:
            yield run.clients(ws, accounts, stack), run
        except BaseException:
            run.report(console)
            raise
