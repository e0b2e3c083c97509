"""Uncertain integrations in the plan: an action of their own, counted, and shown in every
format; a saved plan keeps them."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from statusync.core.plan import Action, Plan, make_plan
from statusync.core.safety import safety_breach
from statusync.core.state import Pending, State
from statusync.files.planfile import Fingerprints, read_planfile, write_planfile
from statusync.files.settings import SafetySettings
from statusync.render.plan import render_json, render_markdown, render_text
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)  # last applied
B = mapping("1", "2", "9", None)  # sent by a run that died: maybe live, maybe not


def uncertain(state: State, integration_id: int = 1, sent: dict[str, str | None] = B) -> State:
    return replace(
        state,
        uncertain={
            integration_id: Pending(
                f"mappings/{integration_id}.yaml", "sha", "default", None, sent, "2026-01-01T00:00:00Z"
            )
        },
    )


@pytest.mark.parametrize("desired", [A, B, mapping("5", "5", "5", "5")])
def test_an_uncertain_integration_is_settled_whatever_its_file_says(desired: dict[str, str | None]) -> None:
    plan = make_plan([loaded(1, desired)], uncertain(state_of((1, A))))
    assert [(c.action, c.before, c.sent, c.after) for c in plan.changes] == [
        (Action.UNCERTAIN, A, B, desired)
    ]
    assert plan.summary()["uncertain"] == 1 and plan.unchanged == 0
    assert plan.data()["summary"]["uncertain"] == 1
    assert plan.data()["changes"][0]["sent"] == B


def test_an_uncertain_create_has_no_last_applied_mapping() -> None:
    plan = make_plan([loaded(1, A)], uncertain(state_of()))
    assert [(c.action, c.before, c.sent) for c in plan.changes] == [(Action.UNCERTAIN, None, B)]


@pytest.mark.parametrize(("on_removed", "action"), [("forget", Action.FORGET), ("reset", Action.RESET)])
def test_a_removed_file_is_forgotten_or_reset_even_when_uncertain(on_removed: str, action: Action) -> None:
    plan = make_plan([], uncertain(state_of()), on_removed)  # type: ignore[arg-type]
    assert [(c.integration_id, c.action, c.before) for c in plan.changes] == [(1, action, None)]


def test_settling_does_not_count_against_the_safety_threshold() -> None:
    state = uncertain(state_of(*((i, A) for i in range(1, 11))))
    plan = make_plan([loaded(i, A) for i in range(1, 11)], state)
    assert plan.count(Action.UNCERTAIN) == 1
    assert safety_breach(plan, SafetySettings(max_change_percent=5, min_managed=1)) is None


def plan_with_one() -> Plan:
    return make_plan([loaded(1, A, name="Shop"), loaded(2, B)], uncertain(state_of((1, A))))


def test_text_says_what_live_may_hold_and_that_apply_sends_the_file() -> None:
    out = io.StringIO()
    render_text(plan_with_one(), out)
    text = out.getvalue()
    assert "? uncertain 1  mappings/1.yaml  (Shop)" in text
    assert "+ create    2" in text  # the ids still line up
    assert "last write's outcome is unknown" in text
    assert 'DELIVERED  "3" or "9" -> "3"' in text  # only the category live may differ in
    assert (
        "Plan: 1 to create, 0 to update, 0 to reset, 0 to forget, 1 uncertain to settle, 0 unchanged." in text
    )


def test_json_lists_it_with_the_write_sent() -> None:
    out = io.StringIO()
    render_json(plan_with_one(), out)
    data = json.loads(out.getvalue())
    assert data["changes"][1] == {
        "integration_id": 1,
        "action": "uncertain",
        "file": "mappings/1.yaml",
        "before": A,
        "after": A,
        "sent": B,
        "status_names": {},
    }
    assert "sent" not in data["changes"][0]
    assert data["summary"] == {
        "create": 1,
        "update": 0,
        "forget": 0,
        "reset": 0,
        "uncertain": 1,
        "unchanged": 0,
    }


def test_markdown_lists_it_too() -> None:
    out = io.StringIO()
    render_markdown(plan_with_one(), out)
    md = out.getvalue()
    assert "**1 to create, 0 to update, 0 to reset, 0 to forget, 1 uncertain to settle" in md
    assert '| uncertain | 1 (Shop) | `mappings/1.yaml` | DELIVERED | `"3"` or `"9"` | `"3"` |' in md
    same = make_plan([loaded(1, B)], uncertain(state_of((1, B))))
    out = io.StringIO()
    render_markdown(same, out)
    assert "| *all* | *last write unknown* | *as in the file* |" in out.getvalue()


def test_a_saved_plan_keeps_the_write_sent(tmp_path: Path) -> None:
    plan = plan_with_one()
    write_planfile(tmp_path / "plan.json", plan, Fingerprints("L:1", "", {}))
    again, _ = read_planfile(tmp_path / "plan.json")
    assert again == plan
