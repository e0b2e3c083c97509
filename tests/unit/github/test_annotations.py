"""Workflow commands as GitHub's toolkit writes them, and the composite action's parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from statusync.action import parse_allowed, parse_args
from statusync.errors import Problem
from statusync.github.annotations import (
    escape_data,
    escape_property,
    problem_annotation,
    workflow_command,
)
from statusync.github.runner import event_pull_request, run_url, workspace_path

ON_ACTIONS = {"GITHUB_ACTIONS": "true"}


@pytest.mark.parametrize(
    "text, data, prop",
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),  # an escape in the text stays text
    ],
)
def test_escaping_is_githubs(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_a_problem_with_line_and_column() -> None:
    problem = Problem(
        "mappings/eu/acme, de.yaml", 5, 3, "unknown status category 'DELIVRED' (did you mean 'DELIVERED'?)"
    )
    assert problem_annotation(problem, ON_ACTIONS, Path.cwd()) == (
        "::error file=mappings/eu/acme%2C de.yaml,line=5,col=3::"
        "unknown status category 'DELIVRED' (did you mean 'DELIVERED'?)"
    )


def test_a_problem_with_a_line_but_no_column_points_at_its_start() -> None:
    annotation = problem_annotation(Problem("a.yaml", 7, None, "m"), ON_ACTIONS, Path.cwd())
    assert annotation == "::error file=a.yaml,line=7,col=1::m"


def test_a_problem_of_a_whole_file_has_no_line() -> None:
    problem = Problem("statusync.yaml", None, None, "cannot read: 50% done\nsecond line")
    assert problem_annotation(problem, ON_ACTIONS, Path.cwd()) == (
        "::error file=statusync.yaml::cannot read: 50%25 done%0Asecond line"
    )


def test_a_command_without_properties() -> None:
    assert workflow_command("notice", "a: b") == "::notice::a: b"


def test_files_are_named_relative_to_the_checked_out_repository(tmp_path: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(tmp_path)}
    assert workspace_path("mappings/a.yaml", env, tmp_path / "shops") == "shops/mappings/a.yaml"
    assert workspace_path("../elsewhere.yaml", env, tmp_path) == "../elsewhere.yaml"
    assert workspace_path("mappings/a.yaml", {}, tmp_path / "shops") == "mappings/a.yaml"


def test_the_run_url_and_the_pull_request_of_the_event(tmp_path: Path) -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/maps", "GITHUB_RUN_ID": "7"}
    assert run_url(env) == "https://github.com/acme/maps/actions/runs/7"
    assert run_url({}) is None
    event = tmp_path / "event.json"
    for payload, number in [
        ('{"pull_request": {"number": 12}}', 12),
        ('{"ref": "x"}', None),
        ("not json", None),
        ('{"pull_request": {"number": true}}', None),
    ]:
        event.write_text(payload)
        assert event_pull_request({"GITHUB_EVENT_PATH": str(event)}) == number
    assert event_pull_request({}) is None


@pytest.mark.parametrize(
    "text, args",
    [
        ("plan --format markdown", ["plan", "--format", "markdown"]),
        ("validate --only 'mappings/eu shops/**'", ["validate", "--only", "mappings/eu shops/**"]),
        ("plan $(touch pwned) `id` ; rm -rf /", ["plan", "$(touch", "pwned)", "`id`", ";", "rm", "-rf", "/"]),
    ],
)
def test_action_args_are_split_like_a_shell_but_never_expanded(text: str, args: list[str]) -> None:
    assert parse_args(text) == args


@pytest.mark.parametrize("text", ["", "   ", "plan 'unclosed"])
def test_bad_action_args_fail_the_step_clearly(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        parse_args(text)
    assert stop.value.code == 1
    assert capsys.readouterr().err.startswith("::error title=statusync action::")


def test_allowed_exit_codes_always_include_0() -> None:
    assert parse_allowed("0 2") == {0, 2}
    assert parse_allowed("2") == {0, 2}
    assert parse_allowed("0,2") == {0, 2}
    assert parse_allowed("") == {0}
    with pytest.raises(SystemExit):
        parse_allowed("two")
