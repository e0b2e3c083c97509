"""The write session: the one path every command that writes the state takes (apply, reconcile,
import): lock → state → clients → confirm → send (each write after a read of its shop's statuses) →
report.

The lock is held from reading the state to the last write, so that a second run waits and
then plans on this one's results instead of interleaving with it. Results go to the journal as
they come in (statusync.runner.recorder); the state file is written once, when the run ends,
however it ends, short of SIGKILL (the next run then folds the journal in). The shops' statuses
the run read go to the status catalog while the state is written: a cache of reads, which a run
killed midway may lose without harm.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from statusync.console import Console, plural
from statusync.core.plan import Change, Plan
from statusync.core.state import State
from statusync.core.status_check import Finding
from statusync.errors import ERROR, OK, StatusyncError
from statusync.files.atomic import remove_temp_files
from statusync.files.journal import journal_path
from statusync.files.lock import state_lock
from statusync.files.mappings import located_again
from statusync.files.state_file import check_writable
from statusync.runner.apply import ChangeResult, RunEnded, apply_plan
from statusync.runner.bounded import RunStopped
from statusync.runner.recorder import Recorder
from statusync.runner.status_read import StatusCheck, StatusReads
from statusync.runner.stopping import before_hard_exit, uninterrupted
from statusync.session.accounts import Accounts
from statusync.text import labelled, printable
from statusync.workspace import Workspace

if TYPE_CHECKING:
    from statusync.runner.accounts import AccountClient

# How many accepted changes an error naming them lists before "and N more".
_NAMED = 20


class WriteSession:
    """A run that holds the state lock: the state it read, and what it records. As a context,
    it writes the state file once at its end (`Recorder.finish`), also when it ends with an
    error, and on a second Ctrl-C before the process exits."""

    def __init__(
        self, ws: Workspace, console: Console, state: State, stack: ExitStack, command: str = ""
    ) -> None:
        self.ws = ws
        self.console = console
        self.state = state
        self._stack = stack
        self.recorder = Recorder(ws.state_path, state, command)
        self._outcomes: list[ChangeResult] = []  # of every send: named if the state cannot be written
        # With --push: the files committed beside the state, and the commit's message (None:
        # the message of a state record, statusync.session.push.RECORD_MESSAGE).
        self.written: list[Path] = []
        self.message: str | None = None
        self.accounts = Accounts()  # which accounts the run stopped, and why
        # The shops' statuses the run read, for the catalog; integrations with a mapping file
        # (`managed`) keep their catalog entries even when not in the state (yet).
        self.reads = StatusReads(ws.settings.language)
        self.managed: set[int] = set()

    def commit_also(self, paths: Iterable[Path], message: str) -> None:
        """With --push, commit `paths` (files the run wrote) with the state, under `message`."""
        self.written.extend(paths)
        self.message = message

    def clients(self, accounts: Iterable[str]) -> dict[str, AccountClient]:
        """One client per account, closed when the run ends, each stopped on its own by a
        refusal of its credentials (statusync.session.accounts)."""
        return self.accounts.clients(self.ws, accounts, self._stack)

    def stopped_accounts(self) -> bool:
        """Name each account the run stopped on stderr; whether any was (the run then failed)."""
        return self.accounts.report(self.console)

    def __enter__(self) -> WriteSession:
        # A state write killed halfway leaves its temporary file: no run leaves it for long.
        remove_temp_files(self.ws.state_path)
        self._stack.enter_context(before_hard_exit(self.recorder.finish_at_once))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        # A first Ctrl-C or SIGTERM here waits for the state to be written, and interrupts then:
        # cut short, the end would leave what the run did in the journal only, which a CI job
        # does not commit.
        with uninterrupted():
            self._end(error)

    def _end(self, error: BaseException | None) -> None:
        if error is not None:
            # Cut short (a stop, a host that takes no connection, a full disk): the command's
            # summary, which names the accounts the run stopped, is not reached.
            self.stopped_accounts()
        self._write_down(error)

    def _write_down(self, error: BaseException | None) -> None:
        # The statuses read go to the catalog while the state is written: two files written and
        # synced to disk one after the other took 0.1 s at 10,000 shops, after the last answer.
        # The catalog is a cache of reads under its own lock, which a run killed midway may lose
        # without harm, so neither waits for the other.
        keep = self.recorder.ids() | self.managed
        catalog = _InThread(lambda: self._record_statuses(keep))
        try:
            if error is None:
                try:
                    self.recorder.finish()
                except StatusyncError as exc:
                    raise StatusyncError(self._not_recorded(str(exc))) from None
                return
            try:
                self.recorder.finish()
            except StatusyncError as exc:  # the run's own error is the one to exit with
                self.console.note(labelled("error: ", self._not_recorded(str(exc))))
        finally:
            note = catalog.result()
            if note:
                self.console.note(labelled("warning: ", note))

    def _record_statuses(self, keep: set[int]) -> str | None:
        """The statuses read, into the catalog beside the state; the integrations not in `keep`
        (they left the state, and have no file) leave it. A catalog that cannot be written costs
        names, not the run: a note, not an error."""
        try:
            return self.reads.save(self.ws.state_path, keep)
        except StatusyncError as exc:
            return f"the shops' statuses read were not recorded: {exc}"

    def _not_recorded(self, problem: str) -> str:
        """`problem` (the state could not be written at the end) with what went live all the
        same, and where it is kept: the run's report may not say it, and a user must know."""
        accepted = sorted(
            (o.change for o in self._outcomes if o.ok and o.change.action.sends),
            key=lambda c: (c.file, c.integration_id),
        )  # not in completion order
        text = f"{problem}; the state was not written"
        if accepted:
            shown = ", ".join(
                f"{c.action.value} {c.integration_id} ({printable(c.file)})" for c in accepted[:_NAMED]
            )
            more = f" and {len(accepted) - _NAMED} more" if len(accepted) > _NAMED else ""
            text += f", though the API accepted {len(accepted)} change(s): {shown}{more}"
        journal = journal_path(self.ws.state_path)
        if journal.exists():
            text += (
                f". What was accepted is kept in the journal {journal}, which every command "
                "reads with the state; fix the cause, and the next apply, reconcile or import "
                "writes it into the state"
            )
        return text

    def _status_check(self, clients: dict[str, AccountClient]) -> StatusCheck:
        def locate(file: str, findings: list[Finding]) -> list[str]:
            return [str(p) for p in located_again(self.ws.root, file, findings)]

        return StatusCheck(clients, self.reads, locate)

    def record(self, changes: Iterable[Change]) -> None:
        """Record changes that need no request (already live, or files just imported)."""
        self.recorder.record(changes)

    def confirm(self, yes: bool, verb: str) -> None:
        """Go on only with --yes, or when someone at a terminal says so."""
        if yes:
            return
        if not self.console.interactive:
            raise StatusyncError(
                f"refusing to {verb} without confirmation: stdin is not a "
                "terminal; review the plan and pass --yes"
            )
        if not self.console.confirm(f"{verb.capitalize()} these changes?"):
            raise StatusyncError(f"{verb} cancelled; nothing was changed")

    def send(
        self, plan: Plan, clients: dict[str, AccountClient], *, parallelism: int | None, label: str
    ) -> list[ChangeResult]:
        """Every change of `plan`, each success recorded at once, with progress on stderr. On a
        stop (RunStopped) it says what was done and what was not before passing it on.

        Right before each write, in its worker, the statuses of the integration it writes to are
        read (recorded in the catalog at the end), with the account's GET pace beside its POST
        pace rather than in a phase of their own: a change whose mapping names an id its shop
        lacks or has deleted is not sent (the API would refuse it, or orders would never reach
        that status), the others are."""
        self.recorder.make_ahead()
        try:
            with self.console.progress(len(plan.changes), label) as tick:
                outcomes = apply_plan(
                    plan,
                    clients,
                    self.recorder,
                    parallelism=parallelism,
                    report=lambda o: tick(o.describe(), o.ok),
                    check=self._status_check(clients),
                )
            self._outcomes += outcomes
            return outcomes
        except RunStopped as stopped:
            self._outcomes += stopped.results
            self.console.err.write(f"\n{stop_summary(len(plan.changes), stopped.results)}\n")
            raise
        except RunEnded as ended:  # every further request would have failed alike
            self._outcomes += ended.outcomes
            self.console.err.write(f"\n{stop_summary(len(plan.changes), ended.outcomes)}\n")
            raise ended.cause from None


@contextmanager
def write_session(
    ws: Workspace, console: Console, lock_timeout: float, *, push: bool = False, command: str = ""
) -> Iterator[WriteSession]:
    """Hold the state lock (saying so when another run has it), read the state, and close
    the API clients when the run ends.

    With `push`, the checkout is first brought to its upstream's newest commit (the run then
    works on `WriteSession.ws`, read again from it), and what the run recorded is committed and
    pushed when it ends: also when it ends with an error, since what the API accepted before
    must be recorded all the same. `command` names the run in its journal, for a later command
    to say what an interrupted run changed.
    """

    def waiting() -> None:
        console.note(f"Waiting for another statusync run to release {ws.state_path} ...")

    # Before the lock (which needs the directory too, with a vaguer error) and any request:
    # a run that cannot record what it sends must not send.
    check_writable(ws.state_path)
    with state_lock(ws.state_path, lock_timeout, on_wait=waiting), ExitStack() as stack:
        if not push:
            with WriteSession(ws, console, ws.state(), stack, command) as session:
                yield session
            return
        from statusync.session.push import RECORD_MESSAGE, Push  # git: only with --push

        pusher, synced = Push.sync(ws, console)
        session = WriteSession(synced, console, synced.state(), stack, command)
        try:
            with session:  # the state is written before it is committed
                yield session
        except (Exception, RunStopped):  # a stop (Ctrl-C, SIGTERM) records what it did too
            try:
                pusher.record(
                    synced, console, session.written, session.message or RECORD_MESSAGE, after_error=True
                )
            except StatusyncError as exc:  # the run's own error is the one to exit with
                console.note(labelled("error: ", str(exc)))
            raise
        pusher.record(synced, console, session.written, session.message or RECORD_MESSAGE)


class _InThread:
    """`work()` in a thread of its own, started at once; `result()` waits for it and gives what
    it returned, or raises what it raised."""

    def __init__(self, work: Callable[[], str | None]) -> None:
        self._outcome: list[str | None] = []
        self._error: list[BaseException] = []

        def run() -> None:
            try:
                self._outcome.append(work())
            except BaseException as exc:  # noqa: BLE001  # raised in the thread that waits for it
                self._error.append(exc)

        self._thread = threading.Thread(target=run, name="statusync-catalog")
        self._thread.start()

    def result(self) -> str | None:
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._outcome[0]


def stop_summary(total: int, outcomes: list[ChangeResult]) -> str:
    """What a stopped run did of its `total` changes, and what it did not."""
    done = sum(1 for o in outcomes if o.ok)
    unknown = sum(1 for o in outcomes if o.uncertain)
    failed = sum(1 for o in outcomes if not o.ok and not o.uncertain and not o.not_sent)
    parts = [f"Stopped: {done} of {total} done and recorded"]
    if unknown:
        parts.append(f"{unknown} with an unknown outcome (listed as uncertain by the next plan)")
    if failed:
        parts.append(f"{failed} failed")
    parts.append(f"{total - done - unknown - failed} not sent")
    return "; ".join(parts) + "."


def report_failures(outcomes: list[ChangeResult], console: Console, retry_note: str) -> int:
    """Each failed change with the API's detail on stderr; ERROR if any failed, else OK. The
    changes not sent because their account was stopped are counted, not listed: the summary of
    stopped accounts (WriteSession.stopped_accounts) names their account once."""
    failed = [o for o in outcomes if not o.ok]
    errors = [o for o in failed if not o.skipped]
    for outcome in errors:
        c = outcome.change
        console.err.write(
            f"error: {c.action.value} {c.integration_id} ({printable(c.file)}) "
            f"failed: {printable(outcome.error or '')}{outcome.maybe_note()}\n"
        )
    counts = [f"{plural(len(errors), 'integration')} failed"] if errors else []
    if skipped := len(failed) - len(errors):
        counts.append(f"{plural(skipped, 'integration')} not sent (their account was stopped)")
    if counts:
        console.err.write(f"{'; '.join(counts)}; {retry_note}.\n")
    return ERROR if failed else OK
