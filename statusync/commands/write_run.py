"""The one path every command that writes the state takes (apply, reconcile, import):
lock → state → clients → confirm → send → report.

The lock is held from reading the state to the last write, so that a second run waits and
then plans on this one's results instead of interleaving with it.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator

from statusync.console import Console, plural
from statusync.core.plan import Change, Plan
from statusync.core.state import State
from statusync.core.text import printable
from statusync.errors import ERROR, OK, StatusyncError
from statusync.files.lock import state_lock
from statusync.runner.apply import Outcome, apply_plan
from statusync.runner.recorder import StateWriter
from statusync.workspace import Workspace

if TYPE_CHECKING:  # httpx is imported only once a command talks to the API
    from statusync.sendcloud.client import SendcloudClient


class WriteRun:
    """A run that holds the state lock: the state it read, and what it records."""

    def __init__(self, ws: Workspace, console: Console, state: State, stack: ExitStack) -> None:
        self.ws = ws
        self.console = console
        self.state = state
        self._stack = stack
        self._writer: StateWriter | None = None

    def clients(self, accounts: Iterable[str]) -> dict[str, SendcloudClient]:
        """One client per account, closed when the run ends; credentials are checked for every
        account before the first request is made."""
        return self.ws.clients(accounts, self._stack)

    @property
    def writer(self) -> StateWriter:
        if self._writer is None:
            self._writer = StateWriter(self.ws.state_path, self.state)
        return self._writer

    def record(self, changes: Iterable[Change]) -> None:
        """Record changes that need no request (already live, or files just imported)."""
        self.writer.record(changes)

    def confirm(self, yes: bool, verb: str) -> None:
        """Go on only with --yes, or when someone at a terminal says so."""
        if yes:
            return
        if not self.console.interactive:
            raise StatusyncError(f"refusing to {verb} without confirmation: stdin is not a "
                                 "terminal; review the plan and pass --yes")
        if not self.console.confirm(f"{verb.capitalize()} these changes?"):
            raise StatusyncError(f"{verb} cancelled; nothing was changed")

    def send(self, plan: Plan, clients: dict[str, SendcloudClient], *, parallelism: int,
             label: str) -> list[Outcome]:
        """Every change of `plan`, each success recorded at once, with progress on stderr."""
        with self.console.progress(len(plan.changes), label) as tick:
            return apply_plan(plan, clients, self.writer, parallelism=parallelism,
                              report=lambda o: tick(o.describe(), o.ok))


@contextmanager
def write_run(ws: Workspace, console: Console, lock_timeout: float) -> Iterator[WriteRun]:
    """Hold the state lock (saying so when another run has it), read the state, and close
    the API clients when the run ends."""
    def waiting() -> None:
        console.note(f"Waiting for another statusync run to release {ws.state_path} ...")

    with state_lock(ws.state_path, lock_timeout, on_wait=waiting), ExitStack() as stack:
        yield WriteRun(ws, console, ws.state(), stack)


def report_failures(outcomes: list[Outcome], console: Console, retry_note: str) -> int:
    """Each failed change with the API's detail on stderr; ERROR if any failed, else OK."""
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        c = outcome.change
        console.err.write(f"error: {c.action.value} {c.integration_id} ({printable(c.file)}) "
                          f"failed: {outcome.error}\n")
    if failed:
        console.err.write(f"{plural(len(failed), 'integration')} failed; {retry_note}.\n")
    return ERROR if failed else OK
