from dataclasses import replace
from typing import Literal

import pytest

from statusync.core.plan import Action, make_plan
from statusync.core.safety import safety_breach
from statusync.core.state import Removed
from statusync.files.settings import SafetySettings
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)
B = mapping("1", "2", "9", None)
NULLS = mapping(None, None, None, None)


def test_new_file_is_a_create_with_every_category() -> None:
    plan = make_plan([loaded(1, A)], state_of())
    (change,) = plan.changes
    assert change.action is Action.CREATE and change.before is None and change.after == A
    assert [d[0] for d in change.differences()] == ["READY_TO_SEND", "IN_TRANSIT", "DELIVERED", "CANCEL"]


def test_changed_mapping_is_an_update_showing_only_changed_categories() -> None:
    plan = make_plan([loaded(1, B)], state_of((1, A)))
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert change.differences() == [("DELIVERED", "3", "9")]


def test_unchanged_integrations_are_counted_not_listed() -> None:
    plan = make_plan([loaded(1, A), loaded(2, A)], state_of((1, A), (2, A)))
    assert plan.changes == () and plan.unchanged == 2
    assert plan.summary() == {
        "create": 0,
        "update": 0,
        "reset": 0,
        "forget": 0,
        "uncertain": 0,
        "unchanged": 2,
    }


def test_removed_file_is_forgotten_by_default() -> None:
    plan = make_plan([], state_of((1, A)))
    (change,) = plan.changes
    assert change.action is Action.FORGET and change.after is None and not change.action.sends
    assert change.differences() == []


def test_removed_file_is_reset_to_all_null_when_configured() -> None:
    plan = make_plan([], state_of((1, A)), on_removed="reset")
    (change,) = plan.changes
    assert change.action is Action.RESET and change.after == NULLS and change.action.sends
    assert change.differences() == [
        ("READY_TO_SEND", "1", None),
        ("IN_TRANSIT", "2", None),
        ("DELIVERED", "3", None),
    ]


@pytest.mark.parametrize("on_removed", ["forget", "reset"])
def test_a_removed_integration_is_not_managed_and_a_file_for_it_again_is_a_create(
    on_removed: Literal["forget", "reset"],
) -> None:
    # The tombstone a reset or a forget leaves is for merging states, never a claim about live.
    tombstone = Removed("mappings/1.yaml", True, "2026-01-02T00:00:00Z")
    state = replace(state_of((2, A)), removed={1: tombstone})
    quiet = make_plan([loaded(2, A)], state, on_removed)
    assert quiet.changes == () and quiet.managed == 1
    (change,) = make_plan([loaded(1, A), loaded(2, A)], state, on_removed).changes
    assert (change.integration_id, change.action, change.before) == (1, Action.CREATE, None)


def test_json_data_follows_the_contract() -> None:
    data = make_plan([loaded(1, B), loaded(3, A)], state_of((1, A), (2, A))).data()
    assert data["format_version"] == 1
    assert data["summary"] == {
        "create": 1,
        "update": 1,
        "forget": 1,
        "reset": 0,
        "uncertain": 0,
        "unchanged": 0,
    }
    assert data["changes"][0] == {
        "integration_id": 3,
        "action": "create",
        "file": "mappings/3.yaml",
        "before": None,
        "after": A,
    }
    assert {c["action"] for c in data["changes"]} == {"create", "update", "forget"}


@pytest.mark.parametrize(
    "managed, risky, creates, percent, min_managed, refused",
    [
        (10, 3, 0, 30, 10, False),  # exactly at the threshold is allowed
        (10, 4, 0, 30, 10, True),  # above it is refused
        (9, 9, 0, 30, 10, False),  # too few managed integrations for the rule to apply
        (10, 0, 50, 30, 10, False),  # creates do not count
        (20, 7, 0, 30, 10, True),
        (20, 20, 0, 100, 0, False),
    ],
)
def test_safety_threshold(
    managed: int, risky: int, creates: int, percent: float, min_managed: int, refused: bool
) -> None:
    state = state_of(*[(i, A) for i in range(1, managed + 1)])
    desired = [loaded(i, B if i <= risky else A) for i in range(1, managed + 1)]
    desired += [loaded(1000 + i, A) for i in range(creates)]
    plan = make_plan(desired, state)
    breach = safety_breach(plan, SafetySettings(max_change_percent=percent, min_managed=min_managed))
    assert (breach is not None) == refused
    if refused:
        assert f"{risky} of {managed}" in breach and "--force" in breach


def test_forgets_and_resets_count_towards_safety() -> None:
    state = state_of(*[(i, A) for i in range(1, 11)])
    plan = make_plan([loaded(i, A) for i in range(1, 7)], state, on_removed="reset")
    assert safety_breach(plan, SafetySettings()) is not None
