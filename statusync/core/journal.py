"""The intent journal as values: what a run records as it goes, and how those records fold into
the state.

A run appends one record per event instead of rewriting the whole state per success:

    Sent      a write is about to leave (durable before the request does): its intent
    Answered  what became of it: "ok" (accepted), "refused" (certainly not applied) or "unknown"
              (it failed in a way that may have reached the API all the same)
    Noted     a change recorded without a request: live is known (reconcile, import) or the
              integration is forgotten

Folding replays them over the state the run started from. A Sent without an Answered, or
answered "unknown", leaves the integration *uncertain* (State.uncertain). An accepted reset, and
a forget, leave a dated tombstone (State.removed). Pure: the file on disk is
statusync.files.journal's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from statusync.core.state import Entry, Pending, Removed, State

Result = Literal["ok", "refused", "unknown"]


@dataclass(frozen=True)
class Sent:
    seq: int  # numbers the run's writes, so that an answer finds its intent
    integration_id: int
    removes: bool  # a reset: once accepted, the integration leaves the state
    write: Pending


@dataclass(frozen=True)
class Answered:
    seq: int
    result: Result
    at: str  # when the answer came: the entry's applied_at


@dataclass(frozen=True)
class Noted:
    integration_id: int
    entry: Entry | None  # None: the integration leaves the state
    at: str


Record = Sent | Answered | Noted


class Fold:
    """Records applied one by one to a state, O(1) each; `state()` gives the result.

    `trusted`: the records were made on this very state, so they apply in order. A journal
    replayed onto a state that changed since it began (a checkout brought a newer state.json)
    is not: a record then applies only if it is not older than the state's own entry for the
    integration, the later write winning as in the merge of two states.
    """

    def __init__(self, state: State, *, trusted: bool = True) -> None:
        self._base = state
        self._trusted = trusted
        self._entries = dict(state.entries)
        self._uncertain = dict(state.uncertain)
        self._removed = dict(state.removed)
        # Intents without an answer yet, with what the integration was uncertain of before, so
        # that a refusal puts that back (an earlier unknown write is still unknown).
        self._open: dict[int, tuple[Sent, Pending | None]] = {}

    def add(self, record: Record) -> None:
        if isinstance(record, Sent):
            self._sent(record)
        elif isinstance(record, Answered):
            self._answered(record)
        else:
            if not self._current(record.integration_id, record.at):
                return
            self._set(record.integration_id, record.entry, record.at)

    def _sent(self, record: Sent) -> None:
        integration_id = record.integration_id
        self._open[record.seq] = (record, self._uncertain.get(integration_id))
        if self._current(integration_id, record.write.sent_at):
            self._uncertain[integration_id] = record.write

    def _answered(self, record: Answered) -> None:
        opened = self._open.pop(record.seq, None)
        if opened is None:
            return  # its intent was folded into the state already
        sent, before = opened
        integration_id = sent.integration_id
        if record.result == "unknown":
            return  # the intent stays uncertain
        if record.result == "refused":
            if self._uncertain.get(integration_id) == sent.write:
                if before is None:
                    del self._uncertain[integration_id]
                else:
                    self._uncertain[integration_id] = before
            return
        if not self._current(integration_id, record.at):
            return
        w = sent.write
        if sent.removes:
            self._set(integration_id, None, record.at, reset=w.file)
        else:
            self._set(
                integration_id,
                Entry(w.file, w.sha256, w.account, w.name, dict(w.mapping), record.at),
                record.at,
            )

    def _set(self, integration_id: int, entry: Entry | None, at: str, *, reset: str | None = None) -> None:
        """Live is known now: `entry`, or nothing statusync manages. The integration then leaves
        the state with a tombstone dated `at`: reset (`reset` is the file it was reset for), or
        forgotten, when the state held anything for it."""
        before = self._entries.pop(integration_id, None) or self._uncertain.get(integration_id)
        self._uncertain.pop(integration_id, None)
        if entry is not None:
            self._entries[integration_id] = entry
            self._removed.pop(integration_id, None)
        elif reset is not None:
            self._removed[integration_id] = Removed(reset, True, at)
        elif before is not None:
            self._removed[integration_id] = Removed(before.file, False, at)

    def _current(self, integration_id: int, at: str) -> bool:
        """Whether a record made at `at` is news for the integration (always, when trusted)."""
        if self._trusted:
            return True
        entry = self._entries.get(integration_id)
        removed = self._removed.get(integration_id)
        # ISO 8601 UTC times of one format compare as strings.
        latest = entry.applied_at if entry else removed.at if removed else None
        return latest is None or latest <= at

    def in_flight(self) -> list[Sent]:
        """The intents not answered yet, oldest first."""
        return [sent for sent, _ in self._open.values()]

    def ids(self) -> set[int]:
        """The integrations `state()` would hold, applied or uncertain, without making it."""
        return self._entries.keys() | self._uncertain.keys()

    def state(self) -> State:
        return replace(
            self._base,
            entries=dict(sorted(self._entries.items())),
            uncertain=dict(sorted(self._uncertain.items())),
            removed=dict(sorted(self._removed.items())),
        )


def fold(state: State, records: Iterable[Record], *, trusted: bool = True) -> State:
    folded = Fold(state, trusted=trusted)
    for record in records:
        folded.add(record)
    return folded.state()
