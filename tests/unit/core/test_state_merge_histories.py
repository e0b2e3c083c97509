"""The merge of two branches' states against what is live: random histories of writes, resets and
forgets on both sides of a common ancestor, recorded as apply records them (the journal folded
into the state), played against a model of Sendcloud, then merged by the merge driver.

Whatever the order and timing of the two histories, the merged state claims, for each
integration, only the mapping of the newest accepted write, or leaves the integration uncertain
(the next apply sends its file). And it forgets nothing it can tell: when one side's newest event
is newer than anything the other did, the merged state says what that event left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from statusync.core.journal import Answered, Noted, Record, Result, Sent, fold
from statusync.core.model import MappingDict
from statusync.core.state import Pending, State
from statusync.core.state_merge import Record as Held
from statusync.files.state_file import dump_state, merge_bytes
from tests.support.builders import mapping

IDS = (1, 2)
NULL = mapping(None, None, None, None)
Kind = Literal["write", "reset", "forget"]
Outcome = Literal["ok", "refused", "unknown", "died"]  # died: no answer was ever recorded


@dataclass(frozen=True)
class Event:
    """One thing a run did to one integration, at a whole second."""

    kind: Kind
    integration_id: int
    second: int
    rts: str = "1"  # write: the READY_TO_SEND it sends
    outcome: Outcome = "ok"  # write, reset: what became of the request

    @property
    def at(self) -> str:
        return f"2026-04-01T10:00:{self.second:02d}Z"

    @property
    def sent(self) -> MappingDict | None:
        """The mapping its request asked for; None for a forget, which sends nothing."""
        if self.kind == "forget":
            return None
        return NULL if self.kind == "reset" else mapping(self.rts, "2", "3", None)


def records(events: list[Event], first_seq: int) -> list[Record]:
    """What apply's recorder appends for `events`, in order."""
    out: list[Record] = []
    for seq, event in enumerate(events, start=first_seq):
        if event.kind == "forget":
            out.append(Noted(event.integration_id, None, event.at))
            continue
        assert event.sent is not None
        file = f"mappings/shop-{event.integration_id}.yaml"
        out.append(
            Sent(
                seq,
                event.integration_id,
                event.kind == "reset",
                Pending(file, f"sha-{event.rts}", "default", None, event.sent, event.at),
            )
        )
        if event.outcome != "died":
            result: Result = event.outcome
            out.append(Answered(seq, result, event.at))
    return out


def history(first: int, last: int, size: int) -> st.SearchStrategy[list[Event]]:
    """Up to `size` events between the seconds `first` and `last`, in the order of their time."""
    event = st.builds(
        Event,
        st.sampled_from(["write", "write", "reset", "forget"]),
        st.sampled_from(IDS),
        st.integers(first, last),
        st.sampled_from(["1", "5", "7"]),
        st.sampled_from(["ok", "ok", "ok", "refused", "unknown", "died"]),
    )
    return st.lists(event, max_size=size).map(lambda events: sorted(events, key=lambda e: e.second))


@dataclass(frozen=True)
class Write:
    """A request that may have changed live: its time, its order on its branch, its mapping."""

    second: int
    branch: str
    order: int
    mapping: MappingDict
    certain: bool  # accepted for sure; otherwise it may or may not have landed


def writes(integration_id: int, branches: dict[str, list[Event]]) -> list[Write]:
    return [
        Write(e.second, branch, n, e.sent, e.outcome == "ok")
        for branch, events in branches.items()
        for n, e in enumerate(events)
        if e.integration_id == integration_id and e.sent is not None and e.outcome != "refused"
    ]


def lives(candidates: list[Write]) -> Iterator[MappingDict | None]:
    """Every mapping live may hold, one per way the writes of unknown outcome went (None: one
    the merge cannot know, as two branches wrote different mappings in the same second)."""
    unsure = [w for w in candidates if not w.certain]
    for landed in product((False, True), repeat=len(unsure)):
        arrived = [w for w in candidates if w.certain]
        arrived += [w for w, ok in zip(unsure, landed, strict=True) if ok]
        if not arrived:
            yield NULL  # nothing statusync sent arrived: as every shop starts, unmapped
            continue
        newest = max(w.second for w in arrived)
        last_per_branch: dict[str, Write] = {}
        for w in sorted((w for w in arrived if w.second == newest), key=lambda w: w.order):
            last_per_branch[w.branch] = w
        found = {tuple(w.mapping.items()) for w in last_per_branch.values()}
        yield last_per_branch.popitem()[1].mapping if len(found) == 1 else None


def merged_after(
    base: list[Event], ours: list[Event], theirs: list[Event]
) -> tuple[State, State, State, State]:
    start = fold(State(lineage="L", serial=1), records(base, 1))
    one = fold(start, records(ours, 100))
    two = fold(start, records(theirs, 200))
    merged = merge_bytes(
        dump_state(start), dump_state(one), dump_state(two), where=("base", "ours", "theirs")
    )
    return start, one, two, merged.state


# The common history ends before either branch begins; the branches share seconds 10-13, so
# that they often write in the same second.
bases, branches = history(0, 9, 3), history(10, 13, 4)


@settings(max_examples=300, deadline=None)
@given(bases, branches, branches)
def test_the_merged_state_claims_only_the_newest_accepted_write_or_is_uncertain(
    base: list[Event], ours: list[Event], theirs: list[Event]
) -> None:
    *_, merged = merged_after(base, ours, theirs)
    for integration_id in IDS:
        held = Held.of(merged, integration_id)
        assert held.entry is None or held.removed is None  # a record replaces its tombstone
        if held.entry is None or held.pending is not None:
            continue  # claims nothing, or is uncertain: the next apply sends the file
        every = writes(integration_id, {"base": base, "ours": ours, "theirs": theirs})
        assert all(live == held.entry.mapping for live in lives(every)), (
            f"integration {integration_id}: the state claims {held.entry.mapping}, live may "
            f"hold {list(lives(every))}"
        )


def last_change(start: State, events: list[Event], first_seq: int, integration_id: int) -> int:
    """The second of a branch's last event that changed what its state holds for the integration
    (a refused write or a forget of nothing changes nothing); -1 when none did."""
    second, state = -1, start
    for n, event in enumerate(events):
        after = fold(start, records(events[: n + 1], first_seq))
        if Held.of(after, integration_id) != Held.of(state, integration_id):
            second = event.second
        state = after
    return second


@settings(max_examples=150, deadline=None)
@given(bases, branches, branches)
def test_the_side_that_changed_an_integration_last_is_what_the_merged_state_says(
    base: list[Event], ours: list[Event], theirs: list[Event]
) -> None:
    start, one, two, merged = merged_after(base, ours, theirs)
    for integration_id in IDS:
        last = {
            "ours": last_change(start, ours, 100, integration_id),
            "theirs": last_change(start, theirs, 200, integration_id),
        }
        if last["ours"] == last["theirs"]:
            continue  # the same second, or neither changed it: covered by the test above
        side, state = ("ours", one) if last["ours"] > last["theirs"] else ("theirs", two)
        assert Held.of(merged, integration_id) == Held.of(state, integration_id), side
