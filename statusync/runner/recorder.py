"""Recording a run's results as they come in, from many workers at once: each in the journal
(one appended line, whatever the size of the state), the state itself written once, at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from statusync.core.journal import Answered, Fold, Noted, Record, Result, Sent
from statusync.core.plan import Action, Change
from statusync.core.state import Entry, Pending, State
from statusync.errors import JournalUnwritable
from statusync.files.journal import JournalWriter, journal_path
from statusync.files.state_file import EntryTexts, save_state
from statusync.runner.stopping import uninterrupted


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# How long a hard exit waits for a worker that is appending to the journal right then.
_EXIT_WAIT = 1.0


class Recorder:
    """A write run's record: the journal on disk, and the state it folds into in memory.

    `sending` makes a write's intent durable before its request leaves; `answered` appends what
    became of it; `record` notes what needs no request. A run killed at any moment leaves a
    journal from which the next run knows what the API accepted and which writes were on the
    wire (uncertain). `finish` writes the state file once and removes the journal.
    """

    def __init__(self, state_path: Path, state: State, command: str = "") -> None:
        """`command`: the run's, which its journal names should the run not finish."""
        self.state_path = state_path
        self._journal = JournalWriter(journal_path(state_path), state.fingerprint, command)
        self._fold = Fold(state)
        self._next_seq = self._journal.next_seq
        # A journal left by a run that died is folded in by this run's end, even if it records
        # nothing itself (`state` has it folded in already: statusync.files.state_file).
        self._dirty = self._journal.existed
        self._lock = threading.Lock()
        self._loaded = state  # as loaded: the fold copies what it changes
        self._made: EntryTexts | None = None

    def make_ahead(self) -> None:
        """Make the text of each entry of the state, on a thread of its own, for the state's
        write at the end: a run that waits on the API has the time, and its end then writes
        anew only what changed (files.state_file.EntryTexts). Once per run."""
        if self._made is not None:
            return
        made = self._made = EntryTexts()

        def make() -> None:
            try:
                made.make(self._loaded.entries)
            except Exception:  # noqa: BLE001 - an entry without its text is written as before
                return

        threading.Thread(target=make, name="statusync-state-text", daemon=True).start()

    def sending(self, change: Change) -> int:
        """The intent of `change`'s request, on the disk when this returns; its sequence number
        is for `answered`."""
        assert change.after is not None
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            self._add(
                Sent(
                    seq,
                    change.integration_id,
                    change.action is Action.RESET,
                    Pending(
                        change.file, change.sha256, change.account, change.name, dict(change.after), now_iso()
                    ),
                )
            )
        try:
            self._journal.sync()
        except JournalUnwritable:
            # Not on the disk, so not sent: the state written at the end must not call it
            # uncertain (the journal, should the run die first, does; the next apply settles it).
            with self._lock:
                self._fold.add(Answered(seq, "refused", now_iso()))
            raise
        return seq

    def answered(self, seq: int, result: Result) -> None:
        """What became of the request of intent `seq`. Not flushed to the disk: lost in a power
        cut, the intent looks unanswered and the next apply settles it by sending it again."""
        with self._lock:
            self._add(Answered(seq, result, now_iso()))

    def record(self, changes: Iterable[Change]) -> None:
        """Changes that need no request: forgotten integrations, or ones whose live mapping is
        known (reconcile found it in sync, import read it)."""
        at = now_iso()
        with self._lock:
            for change in changes:
                entry = (
                    None
                    if change.action in (Action.FORGET, Action.RESET)
                    else Entry(
                        change.file, change.sha256, change.account, change.name, dict(change.after or {}), at
                    )
                )
                self._add(Noted(change.integration_id, entry, at))

    def _add(self, record: Record) -> None:
        self._journal.write(record)  # first: an error leaves the fold as the disk has it
        self._fold.add(record)
        self._dirty = True

    def ids(self) -> set[int]:
        """The integrations the state holds now, applied or uncertain."""
        with self._lock:
            return self._fold.ids()

    def finish(self) -> State | None:
        """Write the state file (once, atomically) and remove the journal; the state written, or
        None when there was nothing to write."""
        with self._lock:
            return self._finish()

    def finish_at_once(self) -> str | None:
        """`finish` for a process that exits now (a second Ctrl-C): what is still on the wire is
        written as uncertain. A line saying so, or None when there was nothing to write."""
        if not self._lock.acquire(timeout=_EXIT_WAIT):
            return f"The journal {self._journal.path} is kept; the next run folds it in."
        try:
            in_flight = len(self._fold.in_flight())
            if self._finish() is None:
                return None
        finally:
            self._lock.release()
        note = f"What the API accepted is recorded in {self.state_path}"
        if in_flight:
            note += (
                f"; {in_flight} write(s) under way have an unknown outcome: the next plan "
                "lists them as uncertain and the next apply settles them"
            )
        return note + "."

    def _finish(self) -> State | None:
        if not self._dirty:
            self._journal.close()
            return None
        with uninterrupted():  # what the run did goes into the state, not only the journal
            written = save_state(self.state_path, self._fold.state(), self._made)
            self._journal.remove()
            self._dirty = False
            self._fold = Fold(written)
        return written
