"""Run a plan through the API: one POST per sending change, its intent in the journal before it
leaves and its answer after."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from statusync.core.journal import Result
from statusync.core.model import MappingDict
from statusync.core.plan import Action, Change, Plan
from statusync.errors import (
    AccountSkipped,
    ApiError,
    HostUnreachable,
    JournalUnwritable,
    NotFound,
    NotSent,
    StatusyncError,
    StopRun,
)
from statusync.runner.bounded import Lanes, Paced, RunStopped, Workers, per_account, run_bounded
from statusync.runner.recorder import Recorder
from statusync.sendcloud.pacing import MOST_WORKERS
from statusync.text import printable


class MappingWriter(Protocol):
    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None: ...

    def integration_exists(self, integration_id: int) -> bool: ...


@dataclass(frozen=True)
class Checked:
    """What a check made in a change's worker right before its write says of it."""

    refused: str | None = None  # not sent, for this reason
    note: str | None = None  # sent, and this is to be said of it


# Called in the worker right before a change's write: e.g. it reads the shop's statuses and
# refuses a mapping they lack (statusync.runner.status_read.StatusCheck). It may raise what a
# request raises (NotSent when the run stops, StopRun): the write then meets the same fate.
Check = Callable[["Change"], Checked]


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    error: str | None = None  # None: the API accepted it (or, for forget, nothing was needed)
    note: str | None = None  # how it went, when not the usual way
    uncertain: bool = False  # failed, but may have been applied: the next plan says uncertain
    not_sent: bool = False  # the run was stopped before its request left
    skipped: bool = False  # not sent: its account was stopped (runner.accounts)

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        c = self.change
        what = f"{c.action.value} {c.integration_id} ({printable(c.file)})"
        if self.skipped:
            return f"{what}: not sent, its account was stopped"
        if self.not_sent:
            return f"{what}: not sent, the run is stopping"
        if not self.ok:
            return f"{what}: FAILED: {printable(self.error or '')}{self.maybe_note()}"
        return f"{what}: {self.note or _DONE[c.action]}"

    def maybe_note(self) -> str:
        """For a failure that may have been applied all the same, what becomes of it."""
        return (
            "; it may have been applied all the same: the next plan lists it as uncertain, "
            "and the next apply sends it again"
            if self.uncertain
            else ""
        )


class RunEnded(StatusyncError):
    """An error that every further request would meet too (StopRun: rejected credentials, a host
    that takes no connection) ended the run: no change was started after it, the changes under
    way finished, and `outcomes` are those of every change that finished. `cause` says why."""

    def __init__(self, outcomes: list[ChangeResult], cause: StopRun) -> None:
        super().__init__(str(cause))
        self.outcomes = outcomes
        self.cause = cause


_DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.RESET: "reset",
    Action.FORGET: "forgotten",
    Action.UNCERTAIN: "settled",
}


def apply_plan(
    plan: Plan,
    writers: Mapping[str, MappingWriter],
    recorder: Recorder,
    *,
    parallelism: int | None = None,
    report: Callable[[ChangeResult], None] = lambda _: None,
    check: Check | None = None,
) -> list[ChangeResult]:
    """Apply every change; a failure is reported and the others go on.

    `parallelism` caps the requests under way (None: as many as the accounts' paces need). A
    stop raises RunStopped carrying the outcomes of everything that finished; a StopRun error
    raises RunEnded, which carries them too. `check`, when given, runs in each sending change's
    worker right before its write, on the same account's lane: a change it refuses is not sent.
    """
    outcomes: list[ChangeResult] = []
    forgotten = [c for c in plan.changes if c.action is Action.FORGET]
    if forgotten:
        recorder.record(forgotten)
        for change in forgotten:
            outcomes.append(ChangeResult(change))
            report(outcomes[-1])
    sending = [c for c in plan.changes if c.action.sends]
    finished: list[ChangeResult] = []  # as they come in: a StopRun ends the run without its results
    ended: list[ChangeResult] = []  # of the changes that met the StopRun (appends are atomic)

    def done(outcome: ChangeResult) -> None:
        finished.append(outcome)
        report(outcome)

    def checked_before(change: Change) -> Checked | ChangeResult:
        """`check` of `change`, or its outcome when it is not to be sent (no intent was made)."""
        assert check is not None
        try:
            checked = check(change)
        except AccountSkipped as exc:
            return ChangeResult(change, str(exc), not_sent=True, skipped=True)
        except NotSent as exc:
            return ChangeResult(change, str(exc), not_sent=True)
        except StopRun as exc:  # the write would meet it too (no connection): the run ends
            ended.append(ChangeResult(change, str(exc), not_sent=True))
            raise
        if checked.refused is not None:
            return ChangeResult(change, checked.refused)
        return checked

    def send(change: Change) -> ChangeResult:
        assert change.after is not None
        intent: list[int] = []  # the intent's number, once the request is about to leave

        def answer(result: Result) -> None:
            # For a write that did not go through, an answer the journal cannot take is as good
            # as one it took: the next run settles an unanswered intent all the same, and the
            # next intent meets the journal's error and stops this run.
            if intent:
                try:
                    recorder.answered(intent[0], result)
                except JournalUnwritable:
                    if result == "ok":
                        raise

        def accepted(outcome: ChangeResult) -> ChangeResult:
            try:
                answer("ok")
            except JournalUnwritable as exc:
                # Accepted, but the journal took no answer: its intent, on the disk, makes it
                # uncertain for the next run, which settles it.
                ended.append(ChangeResult(change, str(exc), uncertain=True))
                raise
            return outcome

        note = None
        if check is not None:
            checked = checked_before(change)
            if isinstance(checked, ChangeResult):
                return checked
            note = None if checked.note is None else f"{_DONE[change.action]}; {checked.note}"
        try:
            writers[change.account].upsert_mapping(
                change.integration_id, change.after, on_send=lambda: intent.append(recorder.sending(change))
            )
        except AccountSkipped as exc:
            answer("refused")  # no intent was made: nothing is written
            return ChangeResult(change, str(exc), not_sent=True, skipped=True)
        except NotSent as exc:
            answer("unknown" if exc.maybe_applied else "refused")
            return ChangeResult(change, str(exc), uncertain=exc.maybe_applied, not_sent=not exc.maybe_applied)
        except StopRun as exc:
            # E.g. rejected credentials, a host that takes no connection, a journal that cannot
            # record the intent: the other integrations would fail the same way. An earlier
            # attempt may have arrived all the same (a timeout before the host went away): then
            # the write's outcome is unknown.
            maybe = isinstance(exc, ApiError) and exc.maybe_applied
            unsent = isinstance(exc, HostUnreachable | JournalUnwritable) and not maybe
            ended.append(ChangeResult(change, str(exc), uncertain=maybe, not_sent=unsent))
            answer("unknown" if maybe else "refused")
            raise
        except NotFound as exc:
            if change.action is not Action.RESET or not _gone(change, writers[change.account]):
                # A 404 after an attempt that may have arrived (a 5xx, a dropped connection)
                # does not undo that attempt: the write stays unknown until one settles it.
                maybe = isinstance(exc, ApiError) and exc.maybe_applied
                answer("unknown" if maybe else "refused")
                return ChangeResult(change, str(exc), uncertain=maybe)
            # Nothing is left to unmap: the reset is done, and the integration leaves the state.
            return accepted(ChangeResult(change, note="not found in Sendcloud, nothing to unmap; forgotten"))
        except StatusyncError as exc:
            maybe = isinstance(exc, ApiError) and exc.maybe_applied
            answer("unknown" if maybe else "refused")
            return ChangeResult(change, str(exc), uncertain=maybe)
        return accepted(ChangeResult(change, note=note))

    accounts = {c.account: writers[c.account] for c in sending}
    workers = _lanes(parallelism, accounts, reading=check is not None)
    try:
        outcomes += run_bounded(sending, send, workers, done)
    except RunStopped as stopped:
        raise RunStopped(outcomes + stopped.results) from None
    except StopRun as exc:
        for outcome in ended:
            report(outcome)
        raise RunEnded(outcomes + finished + ended, exc) from None
    return outcomes


def _lanes(parallelism: int | None, accounts: Mapping[str, object], *, reading: bool) -> Lanes[Change]:
    """A lane per account, with as many workers as its POST pace needs; with a read before each
    write, as many as keep both on the wire at the POST rate (statusync.sendcloud.pacing's
    Little's law: in flight = rate x latency), since each change then holds its worker for a
    read and a write. The buckets, not this count, keep each kind of request to its own rate."""
    posts: Lanes[Change] = per_account(parallelism, accounts, "POST", lambda c: c.account)
    if not reading:
        return posts
    workers = {
        name: reading_workers(client) if isinstance(client, Paced) else posts.workers[name]
        for name, client in accounts.items()
    }
    return Lanes(posts.account, workers, posts.most)


def reading_workers(client: Paced) -> Workers:
    """The workers of an account whose every write comes after a read: those its POST pace
    needs, and those its GET pace needs for as many reads as writes. Reads come at the writes'
    rate, not at their own limit (ten times higher at Sendcloud): sized at the GET limit, the
    surplus would only wait for the POST bucket, and hundreds of threads crowding two cores
    bunch the requests' arrivals into 429s."""
    post, get = client.pace("POST"), client.pace("GET")

    def limit() -> int:
        share = min(1.0, post.rate() / get.rate())
        return max(1, min(MOST_WORKERS, post.workers() + math.ceil(get.workers() * share)))

    return Workers(limit, MOST_WORKERS)


def _gone(change: Change, api: MappingWriter) -> bool:
    """Whether the account's list of integrations, read fine, lacks the integration."""
    try:
        return not api.integration_exists(change.integration_id)
    except StopRun:
        raise
    except StatusyncError:
        return False  # the list itself failed: nothing is known, the reset stays to do
