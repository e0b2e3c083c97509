"""The three-way merge of two states that grew apart from a common one, integration by integration.

Two branches that each recorded different integrations (two shops imported on two branches, two
CI jobs racing to push) must merge without a conflict: the state is data, not text. An
integration's record is its last applied entry and its uncertain write, if any. For each
integration, with `base` the common ancestor:

- changed on one side only (added, updated, settled or removed) → that side, unless that side
  holds an older record than the base: a merge that undoes a state commit (a `git revert` of a
  range that includes one) would otherwise make the state forget a write that is live, and the
  next plan would not show it. The base's newer record is kept, and reported;
- the same on both sides → that;
- changed differently on both sides → the side with the newer record (`applied_at`, or
  `sent_at` of an uncertain write), reported. A removal has no time, so a record beats it: a
  record claims a write the API accepted (or may have), and keeping it costs at most one
  repeated request, while dropping it could hide a mapping that is live.

The merged state gets a serial above both sides, so that a plan saved on either side before the
merge no longer matches it (`State.fingerprint` is `lineage:serial`).

Pure: the callers read and write the files (`statusync merge-state`, `--push`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from statusync.core.state import Entry, Pending, State

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """One integration in one state: what was last applied, and a write of unknown outcome."""

    entry: Entry | None = None
    pending: Pending | None = None

    @classmethod
    def of(cls, state: State, integration_id: int) -> Record:
        return cls(state.entries.get(integration_id), state.uncertain.get(integration_id))

    @property
    def exists(self) -> bool:
        return self.entry is not None or self.pending is not None

    @property
    def file(self) -> str:
        latest = self.pending or self.entry
        return latest.file if latest is not None else ""

    @property
    def when(self) -> datetime:
        """Its newest event; an unreadable time counts as the oldest."""
        times = [_time(self.entry.applied_at) if self.entry else _OLDEST,
                 _time(self.pending.sent_at) if self.pending else _OLDEST]
        return max(times)

    def describe(self) -> str:
        if self.pending is not None:
            return f"sent at {self.pending.sent_at}, outcome unknown"
        return f"applied at {self.entry.applied_at}" if self.entry else "removed"

    def same_write(self, other: Record) -> bool:
        """The same thing recorded, at another time (two runs sent the same mapping)."""
        return _untimed(self) == _untimed(other)


@dataclass(frozen=True)
class BothChanged:
    """One integration that the two sides changed differently, and which side was kept."""

    integration_id: int
    kept: str      # the label of the side whose record was kept
    other: str     # the label of the other side
    kept_record: Record
    other_record: Record  # `exists` False: the other side removed the integration

    def describe(self) -> str:
        if not self.other_record.exists:
            return (f"integration {self.integration_id} was removed on {self.other} and changed "
                    f"on {self.kept}; kept the record from {self.kept} "
                    f"({self.kept_record.describe()})")
        return (f"integration {self.integration_id} changed on both sides; kept the newer record "
                f"from {self.kept} ({self.kept_record.describe()}; {self.other}: "
                f"{self.other_record.describe()})")


@dataclass(frozen=True)
class KeptNewer:
    """One integration that a side took back to an older record than the common ancestor's."""

    integration_id: int
    side: str  # the label of the side that went back
    kept_record: Record
    older_record: Record

    def describe(self) -> str:
        return (f"integration {self.integration_id}: {self.side} holds an older record "
                f"({self.older_record.describe()}) than the common ancestor "
                f"({self.kept_record.describe()}), as when a state commit is reverted; kept the "
                "newer one, so that the next plan shows what is live")


@dataclass(frozen=True)
class MergedState:
    state: State
    both_changed: tuple[BothChanged, ...] = ()
    kept_newer: tuple[KeptNewer, ...] = ()

    def notes(self) -> list[str]:
        """What the merge decided that a person should know, one line each."""
        return ([b.describe() for b in self.both_changed]
                + [k.describe() for k in self.kept_newer])


def merge_states(base: State, ours: State, theirs: State, *,
                 labels: tuple[str, str] = ("ours", "theirs")) -> MergedState:
    """Merge `ours` and `theirs`, both grown from `base`; `labels` name the sides in reports.

    Ties (the same time, which has whole seconds) go to `ours`, the side the merge is made on,
    as git does.
    """
    entries: dict[int, Entry] = {}
    uncertain: dict[int, Pending] = {}
    both: list[BothChanged] = []
    newer: list[KeptNewer] = []
    for integration_id in sorted(_ids(base) | _ids(ours) | _ids(theirs)):
        b, o, t = (Record.of(s, integration_id) for s in (base, ours, theirs))
        if o == t:
            chosen = o
        elif t == b or o == b:
            side, label = (o, labels[0]) if t == b else (t, labels[1])
            chosen = side
            if side.exists and b.exists and side.when < b.when:
                chosen = b
                newer.append(KeptNewer(integration_id, label, b, side))
        elif o.exists and t.exists and o.same_write(t):
            # Two runs sent the same: no conflict. A tie goes to theirs here, as there is then
            # nothing new to commit on top of theirs.
            chosen = o if o.when > t.when else t
        else:
            kept_ours = not t.exists or (o.exists and o.when >= t.when)
            chosen, other = (o, t) if kept_ours else (t, o)
            kept, other_label = labels if kept_ours else labels[::-1]
            both.append(BothChanged(integration_id, kept, other_label, chosen, other))
        if chosen.entry is not None:
            entries[integration_id] = chosen.entry
        if chosen.pending is not None:
            uncertain[integration_id] = chosen.pending
    merged = State(serial=max(ours.serial, theirs.serial) + 1,
                   lineage=ours.lineage or theirs.lineage, entries=entries, uncertain=uncertain)
    return MergedState(merged, tuple(both), tuple(newer))


def recorded_since(base: State, state: State) -> list[tuple[int, Record]]:
    """The integrations whose record `state` changed since `base` (added, updated, settled,
    made uncertain or removed), each with its newest record, or the last one when removed:
    what a run wrote into the state."""
    changed = []
    for integration_id in sorted(_ids(base) | _ids(state)):
        before, after = Record.of(base, integration_id), Record.of(state, integration_id)
        if before != after:
            changed.append((integration_id, after if after.exists else before))
    return changed


def _ids(state: State) -> set[int]:
    return set(state.entries) | set(state.uncertain)


def _untimed(record: Record) -> Record:
    return Record(record.entry and replace(record.entry, applied_at=""),
                  record.pending and replace(record.pending, sent_at=""))


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return _OLDEST
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
