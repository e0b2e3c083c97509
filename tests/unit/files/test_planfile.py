from dataclasses import replace
from pathlib import Path

import pytest

from statusync.core.plan import make_plan
from statusync.errors import StatusyncError
from statusync.files.planfile import (
    Fingerprints,
    interrupted_since,
    read_planfile,
    stale_reasons,
    write_planfile,
)
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)
B = mapping("1", "2", "9", None)
PRINTS = Fingerprints("L:3", "s" * 64, {"mappings/1.yaml": "h1", "mappings/2.yaml": "h2"})


def test_saved_plan_reads_back_identically(tmp_path: Path) -> None:
    plan = make_plan([loaded(1, B, name="One"), loaded(2, A)], state_of((1, A), (9, A)), on_removed="reset")
    path = tmp_path / "plan.json"
    write_planfile(path, plan, PRINTS)
    again, prints = read_planfile(path)
    assert again == plan
    assert prints == PRINTS


@pytest.mark.parametrize(
    "current, reason",
    [
        (Fingerprints("L:4", PRINTS.settings, PRINTS.files), "the state was written since"),
        (Fingerprints("L:3", "t" * 64, PRINTS.files), "statusync.yaml changed"),
        (
            Fingerprints("L:3", PRINTS.settings, {**PRINTS.files, "mappings/1.yaml": "x"}),
            "mappings/1.yaml changed",
        ),
        (Fingerprints("L:3", PRINTS.settings, {"mappings/1.yaml": "h1"}), "mappings/2.yaml was removed"),
        (
            Fingerprints("L:3", PRINTS.settings, {**PRINTS.files, "mappings/3.yaml": "h"}),
            "mappings/3.yaml was added",
        ),
    ],
)
def test_any_change_since_the_plan_makes_it_stale(current: Fingerprints, reason: str) -> None:
    assert reason in " ".join(stale_reasons(PRINTS, current))


def test_unchanged_inputs_are_not_stale() -> None:
    assert stale_reasons(PRINTS, Fingerprints("L:3", PRINTS.settings, dict(PRINTS.files))) == []


@pytest.mark.parametrize(
    "content",
    [
        '{"kind": "other"}',
        "not json",
        '{"kind": "statusync-plan", "version": 9, "fingerprints": {}, "managed": 0, "unchanged": 0, '
        '"changes": []}',
    ],
)
def test_something_else_is_not_taken_for_a_plan(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(StatusyncError, match="plan"):
        read_planfile(path)


def test_missing_planfile(tmp_path: Path) -> None:
    with pytest.raises(StatusyncError, match="cannot read the plan file"):
        read_planfile(tmp_path / "nope.json")


def test_a_plan_from_another_state_says_so() -> None:
    reasons = stale_reasons(PRINTS, Fingerprints("other:3", PRINTS.settings, PRINTS.files))
    assert reasons == ["it was made from another state file (another project or a reset state)"]


def test_the_mark_of_the_journal_beside_the_state_is_saved_with_the_plan(tmp_path: Path) -> None:
    plan = make_plan([loaded(1, B)], state_of((1, A)))
    path = tmp_path / "plan.json"
    write_planfile(path, plan, replace(PRINTS, journal="0123456789abcdef"))
    assert read_planfile(path)[1].journal == "0123456789abcdef"
    write_planfile(path, plan, PRINTS)  # no journal: the plan file is as it always was
    assert "journal" not in path.read_text() and read_planfile(path)[1].journal == ""


@pytest.mark.parametrize(
    ("saved", "current", "interrupted"),
    [
        ("", "", False),
        ("", "m1", True),  # a run died after the plan was made
        ("m1", "m1", False),  # the plan was made with that run's journal folded in already
        ("m1", "m2", True),  # the next run died too
        ("m1", "", False),  # a later run folded the journal in: the state's serial says so
    ],
)
def test_a_journal_left_since_the_plan_was_made_is_told_apart(
    saved: str, current: str, interrupted: bool
) -> None:
    assert interrupted_since(replace(PRINTS, journal=saved), replace(PRINTS, journal=current)) is interrupted
