"""The workflows users copy, the composite action and the pre-commit hooks: what they run, with
which permissions and secrets, and the supply-chain rules .ci/run's linters cannot see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PATHS = ["mappings/**", "statusync.yaml", ".statusync/**"]
SENDING = ("apply", "drift", "reconcile")  # the commands that talk to Sendcloud
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2: `on` is a string key


def workflow(name: str) -> Any:
    return load(WORKFLOWS / f"statusync-{name}.yml")


def action_args(job: dict[str, Any]) -> list[str]:
    """The statusync command line of each step that uses this repository's action."""
    return [" ".join(step["with"]["args"].split()) for step in job["steps"]
            if step.get("uses") == "./"]


def all_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + [ROOT / "action.yml"]


def steps_of(document: Any) -> Iterator[dict[str, Any]]:
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])
    yield from document.get("runs", {}).get("steps", [])


def test_plan_runs_on_pull_requests_without_secrets_or_write_access_to_code() -> None:
    plan = workflow("plan")
    assert plan["on"] == {"pull_request": {"paths": PATHS}}
    assert plan["permissions"] == {}
    assert plan["concurrency"] == {
        "group": "statusync-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True}
    job = plan["jobs"]["plan"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert action_args(job) == [
        "validate",
        "plan --format markdown --detailed-exitcode",
        "github plan-comment --body '${{ steps.plan.outputs.output-file }}' "
        "--plan-exit-code '${{ steps.plan.outputs.exit-code }}'"]
    assert "secrets." not in (WORKFLOWS / "statusync-plan.yml").read_text()


def test_the_plan_comment_step_runs_when_validate_or_plan_failed() -> None:
    # Otherwise a push that breaks validation leaves the previous push's plan on show. The plan
    # step stays skipped after a failed validate: its outputs are then empty, which the
    # comment reads as "no plan".
    validate, plan, comment = [step for step in workflow("plan")["jobs"]["plan"]["steps"]
                               if step.get("uses") == "./"]
    assert "if" not in validate and "if" not in plan
    assert comment["if"] == "${{ !cancelled() }}"


def test_apply_runs_on_push_to_main_one_at_a_time_and_pushes_the_state() -> None:
    apply = workflow("apply")
    assert apply["on"] == {"push": {"branches": ["main"], "paths": PATHS},
                           "workflow_dispatch": None}
    job = apply["jobs"]["apply"]
    assert job["concurrency"] == {"group": "statusync-state", "cancel-in-progress": False}
    assert job["permissions"] == {"contents": "write"}
    assert action_args(job) == ["apply --yes --push"]
    assert "github.event.repository.default_branch" in job["if"]


def test_drift_reports_in_one_issue_or_heals_in_the_state_group() -> None:
    drift = workflow("drift")
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    report, heal = drift["jobs"]["drift"], drift["jobs"]["reconcile"]
    assert report["if"] == "vars.STATUSYNC_SELF_HEAL != 'true'"
    assert heal["if"] == "vars.STATUSYNC_SELF_HEAL == 'true'"
    issue = ("github drift-issue --report '${{ steps.drift.outputs.output-file }}' "
             "--drift-exit-code ${{ steps.drift.outputs.exit-code }}")
    assert action_args(report) == ["drift --format markdown", issue]
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    assert action_args(heal) == ["reconcile --yes --push", "drift --format markdown", issue]
    assert heal["permissions"] == {"contents": "write", "issues": "write"}
    assert heal["concurrency"] == {"group": "statusync-state", "cancel-in-progress": False}
    # Drift (2) must not fail the step, or the issue would never hear of it.
    for job in (report, heal):
        assert all(step["with"].get("allow-exit-codes") == "2" for step in job["steps"]
                   if step.get("uses") == "./" and step["with"]["args"].split()[0] in SENDING)


@pytest.mark.parametrize("path", all_files(), ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_a_commit_with_its_version(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    for line in lines:
        if line.split("uses:")[1].strip() != "./":
            assert PINNED.match(line), line
    assert "pull_request_target" not in path.read_text()


@pytest.mark.parametrize("path", all_files(), ids=lambda p: p.name)
def test_no_expression_inside_a_run_script(path: Path) -> None:
    for step in steps_of(load(path)):
        assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_least_privilege_per_job_and_credentials_only_where_pushed(path: Path) -> None:
    document = load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        args = action_args(job)
        pushes = any("--push" in a for a in args)
        sends = any(a.split()[0] in SENDING for a in args)
        assert "permissions" in job, name
        assert (job["permissions"].get("contents") == "write") == pushes, name
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["persist-credentials"] is pushes, name
        # Secrets only in the jobs that send to Sendcloud (and the push token where it pushes).
        text = YAML(typ="safe").load(path.read_text())["jobs"][name]
        assert ("secrets." in repr(text)) == sends, name


def test_the_action_has_its_inputs_and_installs_itself_by_default() -> None:
    action = load(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"args", "version", "python-version"}
    assert action["inputs"]["args"]["required"] is True
    assert action["inputs"]["version"]["default"] == ""
    assert set(action["outputs"]) == {"exit-code", "output-file"}
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install statusync")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"


def test_the_pre_commit_hooks() -> None:
    hooks = {hook["id"]: hook for hook in load(ROOT / ".pre-commit-hooks.yaml")}
    assert set(hooks) == {"statusync-validate", "statusync-fmt"}
    for hook_id, command in [("statusync-validate", "statusync validate"),
                             ("statusync-fmt", "statusync fmt")]:
        hook = hooks[hook_id]
        assert (hook["entry"], hook["language"], hook["pass_filenames"]) == (command, "python",
                                                                              False)
        files = re.compile(hook["files"])
        for path in ("mappings/a.yaml", "mappings/eu/b.yml", "statusync.yaml"):
            assert files.search(path), path
        for path in ("README.md", "other/mappings/a.yaml", ".statusync/state.json"):
            assert not files.search(path), path
