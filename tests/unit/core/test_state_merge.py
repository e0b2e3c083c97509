"""The three-way merge of states: per integration, one side's change wins, both sides' changes
keep the newer record (a dated removal included), changes whose order cannot be told leave the
integration uncertain, and the merged state makes every plan saved before it stale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statusync.core.state import Entry, Pending, Removed, State
from statusync.core.state_merge import Record, merge_states, recorded_since
from tests.support.builders import mapping

T1, T2 = "2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z"


def entry(rts: str | None = "1", at: str = T1, file: str = "mappings/a.yaml") -> Entry:
    return Entry(file, f"sha-{rts}-{file}", "default", None, mapping(rts, "2", "3", None), at)


def pending(rts: str | None = "1", at: str = T1) -> Pending:
    return Pending("mappings/a.yaml", f"sha-{rts}", "default", None, mapping(rts, "2", "3", None), at)


def state(
    entries: dict[int, Entry],
    serial: int = 3,
    lineage: str = "L",
    uncertain: dict[int, Pending] | None = None,
    removed: dict[int, Removed] | None = None,
) -> State:
    # A record replaces its tombstone, as in every state statusync writes.
    return State(
        serial=serial,
        lineage=lineage,
        entries=entries,
        uncertain=uncertain or {},
        removed={i: r for i, r in (removed or {}).items() if i not in entries},
    )


A, B, C = entry("1"), entry("5", T2), entry("6", T1)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "merged"),
    [
        pytest.param({}, {1: A}, {}, {1: A}, id="added on ours"),
        pytest.param({}, {}, {1: A}, {1: A}, id="added on theirs"),
        pytest.param({}, {1: A}, {2: B}, {1: A, 2: B}, id="two branches import different shops"),
        pytest.param({1: A}, {1: B}, {1: A}, {1: B}, id="updated on ours"),
        pytest.param({1: A}, {1: A}, {1: B}, {1: B}, id="updated on theirs"),
        pytest.param({1: A}, {1: B}, {1: B}, {1: B}, id="the same change on both sides"),
        pytest.param({1: A}, {}, {1: A}, {}, id="removed on ours, unchanged on theirs"),
        pytest.param({1: A}, {1: A}, {}, {}, id="removed on theirs, unchanged on ours"),
        pytest.param({1: A}, {}, {}, {}, id="removed on both sides"),
        pytest.param({1: A}, {1: B}, {1: C}, {1: B}, id="changed on both: ours is newer"),
        pytest.param({1: A}, {1: C}, {1: B}, {1: B}, id="changed on both: theirs is newer"),
        pytest.param({1: A}, {}, {1: B}, {}, id="removed undated on ours, changed on theirs"),
        pytest.param({}, {1: B}, {1: C}, {1: B}, id="added differently on both sides"),
    ],
)
def test_merge_per_integration(
    base: dict[int, Entry], ours: dict[int, Entry], theirs: dict[int, Entry], merged: dict[int, Entry]
) -> None:
    result = merge_states(state(base), state(ours), state(theirs))
    assert dict(result.state.entries) == merged


def test_a_conflict_is_reported_with_the_side_it_kept() -> None:
    result = merge_states(state({1: A, 2: A}), state({1: C, 2: A}), state({1: B, 2: B}))
    assert [b.integration_id for b in result.both_changed] == [1]
    assert result.both_changed[0].describe() == (
        f"integration 1 changed on both sides; kept the newer record from theirs "
        f"(applied at {T2}; ours: applied at {T1})"
    )


def test_a_removal_without_a_date_against_a_change_leaves_the_integration_uncertain() -> None:
    # A state written before tombstones (or edited by hand) says nothing of when it was removed.
    result = merge_states(state({7: A}), state({}), state({7: B}), labels=("this run", "origin/main"))
    assert result.state.entries == {} and result.state.removed == {}
    assert result.state.uncertain == {7: Pending(B.file, B.sha256, B.account, B.name, B.mapping, T2)}
    assert result.notes() == [
        f"integration 7 changed on both sides and which is newer cannot be told (this run: "
        f"removed; origin/main: applied at {T2}; the removal on this run has no date); marked it "
        "uncertain: the next apply sends its file"
    ]


RESET_T2, FORGOT_T2 = Removed("mappings/a.yaml", True, T2), Removed("mappings/a.yaml", False, T2)


@pytest.mark.parametrize("tombstone", [RESET_T2, FORGOT_T2], ids=["reset", "forgotten"])
def test_a_removal_newer_than_the_other_sides_write_wins(tombstone: Removed) -> None:
    result = merge_states(state({1: A}), state({}, removed={1: tombstone}), state({1: C}))
    assert result.state.entries == {} and result.state.uncertain == {}
    assert result.state.removed == {1: tombstone}
    verb = "reset" if tombstone.reset else "forgotten"
    assert result.notes() == [
        f"integration 1 was {verb} on ours at {T2} and changed earlier on theirs (applied at "
        f"{T1}); kept the newer removal: statusync no longer manages it, and a file for it is "
        "planned as a create"
    ]


def test_a_write_newer_than_the_other_sides_removal_wins() -> None:
    later = entry("6", "2026-01-03T00:00:00Z")
    result = merge_states(state({1: A}), state({}, removed={1: RESET_T2}), state({1: later}))
    assert result.state.entries == {1: later} and result.state.removed == {}
    assert result.notes() == [
        f"integration 1 was reset on ours at {T2} and changed later on theirs; kept the record "
        "from theirs (applied at 2026-01-03T00:00:00Z)"
    ]


def test_a_removal_and_a_write_of_the_same_second_leave_the_integration_uncertain() -> None:
    result = merge_states(state({1: A}), state({}, removed={1: RESET_T2}), state({1: B}))
    assert result.state.entries == {}
    assert result.state.uncertain[1].mapping == B.mapping
    assert result.state.removed == {1: RESET_T2}  # still dated for the next merge
    assert "both of the same second" in result.notes()[0]


def test_an_undecided_merge_is_the_same_whichever_side_merges() -> None:
    # An uncertain write and a forget on one side, a reset of the same second on the other: the
    # integration is left uncertain, and the tombstone kept does not depend on the side.
    ours = state({}, uncertain={4: pending("1")}, removed={4: Removed("mappings/a.yaml", False, T1)})
    theirs = state({}, removed={4: Removed("mappings/a.yaml", True, T1)})
    one, two = merge_states(state({}), ours, theirs), merge_states(state({}), theirs, ours)
    assert one.state.uncertain == two.state.uncertain == {4: pending("1")}
    assert one.state.removed == two.state.removed


def test_a_tombstone_is_kept_when_one_side_only_removed_it_or_lost_it() -> None:
    assert merge_states(state({1: A}), state({}, removed={1: RESET_T2}), state({1: A})).state.removed == {
        1: RESET_T2
    }
    dropped = merge_states(state({}, removed={1: RESET_T2}), state({}), state({}, removed={1: RESET_T2}))
    assert dropped.state.removed == {1: RESET_T2} and dropped.notes() == []


def test_an_uncertain_write_merges_with_its_integration() -> None:
    # Ours sent 5 and died not knowing whether it went through; theirs settled it later.
    unsure = state({1: A}, uncertain={1: pending("5", T2)})
    later = entry("6", "2026-01-03T00:00:00Z")
    assert merge_states(state({1: A}), unsure, state({1: A})).state.uncertain == {1: pending("5", T2)}
    settled = merge_states(state({1: A}), unsure, state({1: later}))
    assert settled.state.entries == {1: later} and settled.state.uncertain == {}
    # An earlier write on the other side does not settle a newer uncertain one.
    kept = merge_states(state({1: A}), unsure, state({1: C}))
    assert kept.state.entries == {1: A} and kept.state.uncertain == {1: pending("5", T2)}
    assert kept.both_changed[0].describe() == (
        f"integration 1 changed on both sides; kept the newer record from ours (sent at {T2}, "
        f"outcome unknown; theirs: applied at {T1})"
    )


def test_the_same_mapping_recorded_twice_is_no_conflict() -> None:
    again = Entry(B.file, B.sha256, B.account, B.name, B.mapping, "2026-03-01T00:00:00Z")
    result = merge_states(state({1: A}), state({1: B}), state({1: again}))
    assert result.state.entries[1] == again and result.both_changed == ()


def test_different_records_of_the_same_second_are_uncertain_and_unreadable_times_oldest() -> None:
    tie = entry("9", T2)
    merged = merge_states(state({}), state({1: B}), state({1: tie}))
    assert merged.state.entries == {} and merged.state.uncertain[1].mapping == tie.mapping
    assert [u.integration_id for u in merged.undecided] == [1]
    odd = entry("9", "yesterday")
    assert merge_states(state({}), state({1: odd}), state({1: C})).state.entries[1] == C


def test_the_merged_state_makes_plans_saved_on_either_side_stale() -> None:
    ours, theirs = state({1: A}, serial=4, lineage="L"), state({2: B}, serial=9, lineage="L")
    merged = merge_states(state({}, serial=2), ours, theirs).state
    assert merged.serial == 10 and merged.lineage == "L"
    assert merged.fingerprint not in {ours.fingerprint, theirs.fingerprint}


def test_a_state_new_on_our_side_takes_the_lineage_of_theirs() -> None:
    merged = merge_states(State(), State(), state({2: B}, lineage="T")).state
    assert merged.lineage == "T" and merged.serial == 4


def test_recorded_since_names_what_a_run_wrote() -> None:
    base = state({1: A, 2: A, 3: A})
    after = state({1: A, 2: B, 4: C})  # 2 updated, 3 removed, 4 added
    assert [i for i, _ in recorded_since(base, after)] == [2, 3, 4]
    assert dict(recorded_since(base, after))[3] == Record(A)  # a removal names the last record
    unsure = state({1: A}, uncertain={1: pending("5")})
    assert recorded_since(state({1: A}), unsure) == [(1, Record(A, pending("5")))]


# Small domains, so that the generated sides often touch the same integrations.
entries = st.builds(
    entry,
    st.sampled_from(["1", "2", None]),
    st.sampled_from([T1, T2, "2026-01-03T10:00:00Z"]),
    st.sampled_from(["mappings/a.yaml", "mappings/b.yaml"]),
)
pendings = st.builds(pending, st.sampled_from(["1", "5"]), st.sampled_from([T1, T2, "2026-01-03T10:00:00Z"]))
tombstones = st.builds(
    Removed,
    st.sampled_from(["mappings/a.yaml", "mappings/b.yaml"]),
    st.booleans(),
    st.sampled_from([T1, T2, "2026-01-03T10:00:00Z"]),
)
states = st.builds(
    state,
    st.dictionaries(st.integers(1, 6), entries, max_size=6),
    st.integers(0, 50),
    st.sampled_from(["L", "M", ""]),
    st.dictionaries(st.integers(1, 6), pendings, max_size=2),
    st.dictionaries(st.integers(1, 6), tombstones, max_size=3),
)


def records(state: State) -> tuple[object, ...]:
    return dict(state.entries), dict(state.uncertain), dict(state.removed)


def forward(base: State, x: State) -> tuple[object, ...]:
    """The records of `x`, except where x holds an older record than `base`, or lost a
    tombstone of it: base's then."""
    entries, uncertain, removed = dict(x.entries), dict(x.uncertain), dict(x.removed)
    for i in set(base.entries) | set(base.uncertain) | set(base.removed):
        older, newer = Record.of(x, i), Record.of(base, i)
        if (older.known and older.when < newer.when) or (not older.known and not newer.exists):
            for records_of_x in (entries, uncertain, removed):
                records_of_x.pop(i, None)
            if newer.entry is not None:
                entries[i] = newer.entry
            if newer.pending is not None:
                uncertain[i] = newer.pending
            if newer.removed is not None:
                removed[i] = newer.removed
    return entries, uncertain, removed


@given(states, states)
def test_a_side_unchanged_since_the_base_gives_the_other_side_moving_forward(base: State, x: State) -> None:
    assert records(merge_states(base, x, base).state) == forward(base, x)
    assert records(merge_states(base, base, x).state) == forward(base, x)
    assert merge_states(base, x, base).both_changed == ()


def test_a_reverted_state_commit_does_not_make_the_state_forget_a_live_write() -> None:
    # git revert of a range with a state commit in it: the base holds the newer record (what
    # the API accepted last), theirs the older one the revert would bring back.
    result = merge_states(state({1: B}), state({1: B}), state({1: A}))
    assert result.state.entries[1] == B
    assert result.notes() == [
        f"integration 1: theirs holds an older record (applied at {T1}) than the common "
        f"ancestor (applied at {T2}), as when a state commit is reverted; kept the newer one, "
        "so that the next plan shows what is live"
    ]


NOW = datetime(2026, 1, 3, 10, 0, tzinfo=UTC)  # a day after T2
FUTURE = "2099-01-01T00:00:00Z"


def test_a_base_dated_ahead_of_the_clock_does_not_undo_the_real_write_after_it() -> None:
    # A state commit dated 2099 (a clock gone wrong, or a hand edit) would otherwise be the
    # "newer" record against every real apply after it, which the merge would take for a revert.
    planted = entry("EVIL", FUTURE)
    result = merge_states(state({1: planted}), state({1: B}), state({1: planted}), now=NOW)
    assert result.state.entries == {} and result.state.uncertain[1] == Record(planted).write()
    assert result.kept_newer == ()
    assert result.notes() == [
        f"integration 1 changed on ours since the common ancestor and which is newer cannot be "
        f"told (ours: applied at "
        f"{T2}; the common ancestor: applied at {FUTURE}; the common ancestor is dated {FUTURE}, "
        "ahead of this machine's clock); marked it uncertain: the next apply sends its file"
    ]


def test_a_side_dated_ahead_of_the_clock_does_not_win_a_conflict() -> None:
    result = merge_states(state({1: A}), state({1: entry("7", FUTURE)}), state({1: B}), now=NOW)
    assert sorted(result.state.uncertain) == [1] and result.both_changed == ()
    [note] = result.notes()
    assert f"ours is dated {FUTURE}, ahead of this machine's clock" in note


def test_a_clock_a_few_hours_ahead_is_believed() -> None:
    soon = "2026-01-03T20:00:00Z"  # ten hours ahead of NOW, within CLOCK_SKEW
    result = merge_states(state({1: A}), state({1: entry("7", soon)}), state({1: B}), now=NOW)
    assert result.state.entries[1] == entry("7", soon) and result.undecided == ()
    reverted = merge_states(
        state({1: entry("7", soon)}), state({1: entry("7", soon)}), state({1: A}), now=NOW
    )
    assert reverted.state.entries[1] == entry("7", soon) and len(reverted.kept_newer) == 1


@given(states, states)
def test_merging_a_state_with_itself_gives_it_back(base: State, x: State) -> None:
    assert records(merge_states(base, x, x).state) == records(x)


@settings(max_examples=60)  # small domains: 60 cover the cases, in a third of the time
@given(states, states, states)
def test_the_merge_is_symmetric_but_for_ties(base: State, ours: State, theirs: State) -> None:
    one = merge_states(base, ours, theirs)
    two = merge_states(base, theirs, ours)
    ids = set(ours.entries) | set(ours.uncertain) | set(theirs.entries) | set(theirs.uncertain)
    # Where both sides hold a record of the same time, the merge keeps ours, or leaves the
    # integration uncertain with the write of theirs: the only asymmetry.
    ties = {
        i
        for i in ids
        if Record.of(ours, i).exists
        and Record.of(theirs, i).exists
        and Record.of(ours, i).when == Record.of(theirs, i).when
    }

    def untied(state: State) -> dict[int, Record]:
        return {i: Record.of(state, i) for i in ids - ties if Record.of(state, i).exists}

    assert untied(one.state) == untied(two.state)
    assert {b.integration_id for b in one.both_changed} == {b.integration_id for b in two.both_changed}
    assert one.state.serial == two.state.serial > max(ours.serial, theirs.serial)


@settings(max_examples=60)
@given(states, states, states)
def test_every_merged_record_comes_from_one_side(base: State, ours: State, theirs: State) -> None:
    merged = merge_states(base, ours, theirs)
    undecided = {u.integration_id for u in merged.undecided}
    for i in set(merged.state.entries) | set(merged.state.uncertain):
        record = Record.of(merged.state, i)
        if i in undecided:  # uncertain: a side's write, of unknown outcome, nothing applied
            assert record.entry is None
            assert record.pending in [
                r.write() for r in (Record.of(ours, i), Record.of(theirs, i)) if r.exists
            ]
            continue
        # ... or from the base, when a side went back to an older record than the base's.
        assert record in (Record.of(ours, i), Record.of(theirs, i), Record.of(base, i))
    for both in merged.both_changed:
        # Reported conflicts are ids both sides changed, differently.
        i = both.integration_id
        assert Record.of(base, i) not in (Record.of(ours, i), Record.of(theirs, i))
