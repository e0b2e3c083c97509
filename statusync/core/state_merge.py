"""The three-way merge of two states that grew apart from a common one, integration by integration.

Two branches that each recorded different integrations (two shops imported on two branches, two
CI jobs racing to push) must merge without a conflict: the state is data, not text. An
integration's record is its last applied entry, its uncertain write, if any, and its tombstone
when it left the state (a reset the API accepted, or a forget: State.removed). Every part is
dated, and the merge keeps, per integration, the side whose newest event is the newer: the
newest accepted write wins, a reset included. With `base` the common ancestor:

- changed on one side only (added, updated, settled, reset or forgotten) → that side, unless
  that side holds an older record than the base: a merge that undoes a state commit (a `git
  revert` of a range that includes one) would otherwise make the state forget a write that is
  live, and the next plan would not show it. The base's newer record is kept, and reported;
- the same on both sides → that;
- changed differently on both sides → the side with the newer record (`applied_at`, `sent_at`
  of an uncertain write, `at` of a tombstone), reported. A tombstone that wins claims nothing:
  the integration is not managed, and a file for it is planned as a create, which sends it;
- changed differently on both sides, and which is newer cannot be told: both of the same second
  (times have whole seconds), one side removed the integration without a tombstone (a state
  written by a statusync before tombstones, or edited by hand) while the other recorded a write,
  or a time the order rests on is ahead of the merging machine's clock by more than CLOCK_SKEW
  (a clock gone wrong, or a date written in by hand: `2099-01-01` would win every merge, and a
  base dated so would make every real write after it look like a revert).
  The integration is then *uncertain* (no last-applied mapping, the write of one side as the
  one of unknown outcome), so that the next plan lists it and the next apply sends its file.
  Two tombstones of one second claim nothing either way: ours is kept.

The merged state gets a serial above both sides, so that a plan saved on either side before the
merge no longer matches it (`State.fingerprint` is `lineage:serial`).

Pure: the callers read and write the files (`statusync merge-state`, `--push`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from statusync.core.state import Entry, Pending, Removed, State

_OLDEST = datetime.min.replace(tzinfo=UTC)
# How far ahead of the merging machine's clock a record's time may be and still be believed:
# runners' clocks differ by seconds; a day is far beyond that, and far short of a date invented.
CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True)
class Record:
    """One integration in one state: what was last applied, a write of unknown outcome, and the
    tombstone of its removal."""

    entry: Entry | None = None
    pending: Pending | None = None
    removed: Removed | None = None

    @classmethod
    def of(cls, state: State, integration_id: int) -> Record:
        return cls(
            state.entries.get(integration_id),
            state.uncertain.get(integration_id),
            state.removed.get(integration_id),
        )

    @property
    def exists(self) -> bool:
        """Whether it claims a mapping that live may hold (a tombstone claims none)."""
        return self.entry is not None or self.pending is not None

    @property
    def known(self) -> bool:
        """Whether the state holds anything dated for the integration."""
        return self.exists or self.removed is not None

    @property
    def file(self) -> str:
        latest = self.pending or self.entry or self.removed
        return latest.file if latest is not None else ""

    @property
    def times(self) -> list[str]:
        """The times of its events, as written."""
        return [
            *([self.entry.applied_at] if self.entry else []),
            *([self.pending.sent_at] if self.pending else []),
            *([self.removed.at] if self.removed else []),
        ]

    @property
    def when(self) -> datetime:
        """Its newest event; an unreadable time counts as the oldest."""
        return max(map(_time, self.times), default=_OLDEST)

    @property
    def newest(self) -> str:
        """The time of its newest event, as written (it has one: `known`)."""
        return max(self.times, key=_time)

    def describe(self) -> str:
        if self.pending is not None:
            return f"sent at {self.pending.sent_at}, outcome unknown"
        if self.entry is not None:
            return f"applied at {self.entry.applied_at}"
        return _removal(self.removed) if self.removed else "removed"

    def same_write(self, other: Record) -> bool:
        """The same thing recorded, at another time (two runs sent the same mapping)."""
        return _untimed(self) == _untimed(other)

    def write(self) -> Pending:
        """Its newest claim, as a write of unknown outcome (for a merge that cannot decide)."""
        if self.pending is not None:
            return self.pending
        assert self.entry is not None
        e = self.entry
        return Pending(e.file, e.sha256, e.account, e.name, dict(e.mapping), e.applied_at)


@dataclass(frozen=True)
class BothChanged:
    """One integration that the two sides changed differently, and which side was kept."""

    integration_id: int
    kept: str  # the label of the side whose record was kept
    other: str  # the label of the other side
    kept_record: Record
    other_record: Record

    def describe(self) -> str:
        i, kept, other = self.integration_id, self.kept_record, self.other_record
        if not kept.exists and kept.removed is not None:
            return (
                f"integration {i} was {_removed_on(kept.removed, self.kept)} and changed "
                f"earlier on {self.other} ({other.describe()}); kept the newer removal: "
                "statusync no longer manages it, and a file for it is planned as a create"
            )
        if not other.exists and other.removed is not None:
            return (
                f"integration {i} was {_removed_on(other.removed, self.other)} and changed "
                f"later on {self.kept}; kept the record from {self.kept} "
                f"({kept.describe()})"
            )
        return (
            f"integration {i} changed on both sides; kept the newer record "
            f"from {self.kept} ({kept.describe()}; {self.other}: {other.describe()})"
        )


@dataclass(frozen=True)
class Undecided:
    """One integration that the two sides changed differently, in an order the merge cannot
    tell: left uncertain."""

    integration_id: int
    labels: tuple[str, str]
    records: tuple[Record, Record]
    why: str = ""  # when not told by the records: a time ahead of the clock
    since_base: bool = False  # the second side is the common ancestor: one side changed

    def describe(self) -> str:
        (ours, theirs), (o, t) = self.labels, self.records
        why = self.why or (
            "both of the same second"
            if o.known and t.known
            else f"the removal on {ours if not o.known else theirs} has no date"
        )
        changed = (
            f"changed on {ours} since the common ancestor" if self.since_base else "changed on both sides"
        )
        return (
            f"integration {self.integration_id} {changed} and which is newer "
            f"cannot be told ({ours}: {o.describe()}; {theirs}: {t.describe()}; {why}); "
            "marked it uncertain: the next apply sends its file"
        )


@dataclass(frozen=True)
class KeptNewer:
    """One integration that a side took back to an older record than the common ancestor's."""

    integration_id: int
    side: str  # the label of the side that went back
    kept_record: Record
    older_record: Record

    def describe(self) -> str:
        return (
            f"integration {self.integration_id}: {self.side} holds an older record "
            f"({self.older_record.describe()}) than the common ancestor "
            f"({self.kept_record.describe()}), as when a state commit is reverted; kept the "
            "newer one, so that the next plan shows what is live"
        )


@dataclass(frozen=True)
class MergedState:
    state: State
    both_changed: tuple[BothChanged, ...] = ()
    kept_newer: tuple[KeptNewer, ...] = ()
    undecided: tuple[Undecided, ...] = ()

    def notes(self) -> list[str]:
        """What the merge decided that a person should know, one line each."""
        return (
            [b.describe() for b in self.both_changed]
            + [u.describe() for u in self.undecided]
            + [k.describe() for k in self.kept_newer]
        )


def merge_states(
    base: State,
    ours: State,
    theirs: State,
    *,
    labels: tuple[str, str] = ("ours", "theirs"),
    now: datetime | None = None,
) -> MergedState:
    """Merge `ours` and `theirs`, both grown from `base`; `labels` name the sides in reports.
    `now`: the merging machine's time, against which a record dated ahead (beyond CLOCK_SKEW)
    decides no order; None believes every time."""
    believed = None if now is None else now + CLOCK_SKEW

    def ahead(*pairs: tuple[str, Record]) -> str:
        """Why the order of these records cannot be told: the first dated ahead of the clock."""
        for label, record in pairs:
            if believed is not None and record.known and record.when > believed:
                return f"{label} is dated {record.newest}, ahead of this machine's clock"
        return ""

    entries: dict[int, Entry] = {}
    uncertain: dict[int, Pending] = {}
    removed: dict[int, Removed] = {}
    both: list[BothChanged] = []
    newer: list[KeptNewer] = []
    undecided: list[Undecided] = []
    for integration_id in sorted(_ids(base) | _ids(ours) | _ids(theirs)):
        b, o, t = (Record.of(s, integration_id) for s in (base, ours, theirs))
        if o == t:
            chosen = o
        elif t == b or o == b:
            side, label = (o, labels[0]) if t == b else (t, labels[1])
            chosen = side
            if side.known and b.known and side.when < b.when:
                if why := ahead(("the common ancestor", b)):
                    chosen = _uncertain(side, b)
                    undecided.append(
                        Undecided(
                            integration_id, (label, "the common ancestor"), (side, b), why, since_base=True
                        )
                    )
                else:
                    chosen = b
                    newer.append(KeptNewer(integration_id, label, b, side))
            elif not side.known and not b.exists:
                chosen = b  # a side lost a tombstone (hand edit, revert): it claims nothing
        elif o.exists and t.exists and o.same_write(t):
            # Two runs sent the same: no conflict. A tie goes to theirs here, as there is then
            # nothing new to commit on top of theirs.
            chosen = o if o.when > t.when else t
        elif not o.exists and not t.exists:
            # Removed on both sides (one may have no tombstone): nothing is claimed either way.
            chosen = o if o.known and (not t.known or o.when >= t.when) else t
        elif o.known and t.known and (why := ahead((labels[0], o), (labels[1], t))):
            chosen = _uncertain(o, t)
            undecided.append(Undecided(integration_id, labels, (o, t), why))
        elif o.known and t.known and o.when != t.when:
            kept_ours = o.when > t.when
            chosen, other = (o, t) if kept_ours else (t, o)
            kept, other_label = labels if kept_ours else labels[::-1]
            both.append(BothChanged(integration_id, kept, other_label, chosen, other))
        else:
            chosen = _uncertain(o, t)
            undecided.append(Undecided(integration_id, labels, (o, t)))
        if chosen.entry is not None:
            entries[integration_id] = chosen.entry
        if chosen.pending is not None:
            uncertain[integration_id] = chosen.pending
        if chosen.removed is not None and chosen.entry is None:
            removed[integration_id] = chosen.removed
    merged = State(
        serial=max(ours.serial, theirs.serial) + 1,
        lineage=ours.lineage or theirs.lineage,
        entries=entries,
        uncertain=uncertain,
        removed=removed,
    )
    return MergedState(merged, tuple(both), tuple(newer), tuple(undecided))


def _uncertain(o: Record, t: Record) -> Record:
    """The record of an integration whose newest write cannot be told: no last-applied mapping,
    and the newest claim of either side as the write of unknown outcome, so that plan lists it
    and apply sends its file. A tombstone is kept, so that the integration stays dated for the
    next merge. Ties are broken by content, never by side: both sides merging get one result."""
    claims = [r for r in (t, o) if r.exists]
    write = max(claims, key=lambda r: (r.when, repr(r))).write()
    tombstones = [r.removed for r in (t, o) if r.removed is not None]
    return Record(None, write, max(tombstones, key=lambda r: (_time(r.at), repr(r))) if tombstones else None)


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
    return set(state.entries) | set(state.uncertain) | set(state.removed)


def _untimed(record: Record) -> Record:
    return Record(
        record.entry and replace(record.entry, applied_at=""),
        record.pending and replace(record.pending, sent_at=""),
        record.removed and replace(record.removed, at=""),
    )


def _removal(removed: Removed) -> str:
    return f"{'reset' if removed.reset else 'forgotten'} at {removed.at}"


def _removed_on(removed: Removed, side: str) -> str:
    return f"{'reset' if removed.reset else 'forgotten'} on {side} at {removed.at}"


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return _OLDEST
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
