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
    return [" ".join(step["with"]["args"].split()) for step in job["steps"] if step.get("uses") == "./"]


def all_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + [ROOT / "action.yml"]


def steps_of(document: Any) -> Iterator[dict[str, Any]]:
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])
    yield from document.get("runs", {}).get("steps", [])


def test_plan_runs_on_every_pull_request_and_merge_group_without_secrets_or_write_access() -> None:
    plan = workflow("plan")
    # No paths filter: a required check that never runs leaves the pull request pending for ever.
    assert plan["on"] == {"pull_request": None, "merge_group": None}
    assert plan["permissions"] == {}
    # A merge group has no pull request number: its ref keeps its plans apart.
    assert plan["concurrency"] == {
        "group": "statusync-plan-${{ github.event.pull_request.number || github.ref }}",
        "cancel-in-progress": True,
    }
    job = plan["jobs"]["plan"]
    comment = next(step for step in job["steps"] if "plan-comment" in step.get("with", {}).get("args", ""))
    # In a merge group there is no pull request to comment on.
    assert "github.event_name == 'pull_request'" in comment["if"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert action_args(job) == [
        "validate",
        "plan --format markdown --detailed-exitcode",
        "github plan-comment --body '${{ steps.plan.outputs.output-file }}' "
        "--plan-exit-code '${{ steps.plan.outputs.exit-code }}'",
    ]
    assert "secrets." not in (WORKFLOWS / "statusync-plan.yml").read_text()


def test_the_plan_comment_step_runs_when_validate_or_plan_failed() -> None:
    # Otherwise a push that breaks validation leaves the previous push's plan on show. The plan
    # step stays skipped after a failed validate: its outputs are then empty, which the
    # comment reads as "no plan".
    validate, plan, comment = [
        step for step in workflow("plan")["jobs"]["plan"]["steps"] if step.get("uses") == "./"
    ]
    assert "if" not in validate and "if" not in plan
    assert comment["if"] == "${{ !cancelled() && github.event_name == 'pull_request' }}"


def test_apply_runs_on_push_to_main_one_at_a_time_and_pushes_the_state() -> None:
    apply = workflow("apply")
    force = apply["on"]["workflow_dispatch"]["inputs"]["force"]
    assert apply["on"] == {
        "push": {"branches": ["main"], "paths": PATHS},
        "workflow_dispatch": {"inputs": {"force": force}},
    }
    assert (force["type"], force["default"]) == ("boolean", False) and "--force" in force["description"]
    job = apply["jobs"]["apply"]
    assert job["concurrency"] == {"group": "statusync-state", "cancel-in-progress": False}
    assert job["permissions"] == {"contents": "write"}
    # `force` reaches statusync as `--force` or nothing: the action splits args, never expands them.
    assert action_args(job) == ["apply --yes --push ${{ inputs.force && '--force' || '' }}"]
    # Only the default branch, and every push to it: nothing is skipped for what a message says.
    # The full ref: a tag named like the default branch is not it.
    assert job["if"] == "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    assert "head_commit" not in (WORKFLOWS / "statusync-apply.yml").read_text()


def test_drift_reports_in_one_issue_or_heals_in_the_state_group() -> None:
    drift = workflow("drift")
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    # GitHub disables it after 60 quiet days in a public repository: the workflow says so.
    assert "60 days" in (WORKFLOWS / "statusync-drift.yml").read_text()
    report, heal = drift["jobs"]["drift"], drift["jobs"]["reconcile"]
    assert report["if"] == "vars.STATUSYNC_SELF_HEAL != 'true'"
    assert heal["if"] == "vars.STATUSYNC_SELF_HEAL == 'true'"
    issue = (
        "github drift-issue --report '${{ steps.drift.outputs.output-file }}' "
        "--drift-exit-code ${{ steps.drift.outputs.exit-code }}"
    )
    assert action_args(report) == ["drift --format markdown", issue]
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    assert action_args(heal) == ["reconcile --yes --push", "drift --format markdown", issue]
    assert heal["permissions"] == {"contents": "write", "issues": "write"}
    assert heal["concurrency"] == {"group": "statusync-state", "cancel-in-progress": False}
    # Drift (2) must not fail the step, or the issue would never hear of it.
    for job in (report, heal):
        assert all(
            step["with"].get("allow-exit-codes") == "2"
            for step in job["steps"]
            if step.get("uses") == "./" and step["with"]["args"].split()[0] in SENDING
        )


@pytest.mark.parametrize(
    ("name", "jobs"),
    [
        (
            "apply-per-account",
            {
                "apply": "apply --yes --push --only 'account:${{ matrix.account }}' "
                "${{ inputs.force && '--force' || '' }}"
            },
        ),
        (
            "drift-per-account",
            {
                "drift": "drift --format markdown --only 'account:${{ matrix.account }}'",
                "reconcile": "reconcile --yes --push --only 'account:${{ matrix.account }}'",
            },
        ),
    ],
)
def test_the_per_account_variants_run_one_job_per_listed_account(name: str, jobs: dict[str, str]) -> None:
    document = workflow(name)
    plain = workflow(name.split("-")[0])
    assert document["on"] == plain["on"]
    listing = document["jobs"]["accounts"]
    assert action_args(listing) == ["accounts --format json"]
    if name.startswith("apply"):  # the full ref: a tag named like the default branch is not it
        assert listing["if"] == workflow("apply")["jobs"]["apply"]["if"]
    assert "secrets." not in repr(listing) and "environment" not in listing
    # The step output the matrix reads is the file the action wrote, passed through env.
    hand_off = listing["steps"][-1]
    assert hand_off["env"] == {"LISTED": "${{ steps.accounts.outputs.output-file }}"}
    assert listing["outputs"] == {"accounts": f"${{{{ steps.{hand_off['id']}.outputs.accounts }}}}"}
    for job_name, args in jobs.items():
        job = document["jobs"][job_name]
        assert job["needs"] == "accounts"
        assert "needs.accounts.outputs.accounts != '[]'" in job["if"]
        assert job["strategy"] == {
            "fail-fast": False,
            "matrix": {"account": "${{ fromJSON(needs.accounts.outputs.accounts) }}"},
        }
        assert job["environment"] == "sendcloud-${{ matrix.account }}"
        assert action_args(job) == [args]
        group = "statusync-state" if "--push" in args else "statusync-drift"
        assert job["concurrency"] == {
            "group": f"{group}-${{{{ matrix.account }}}}",
            "cancel-in-progress": False,
        }


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
        checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
        assert all(c["with"]["persist-credentials"] is pushes for c in checkouts), name
        # Secrets only in the jobs that send to Sendcloud (and the push token where it pushes),
        # and those get them from the environment `sendcloud`, which only the default branch
        # may use: a workflow edited on a branch cannot read them.
        assert ("secrets." in repr(job)) == sends, name
        if sends:  # one environment, or one per account (the per-account variants)
            per_account = "matrix" in job.get("strategy", {})
            assert job["environment"] == (
                "sendcloud-${{ matrix.account }}" if per_account else "sendcloud"
            ), name


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
    for hook_id, command in [
        ("statusync-validate", "statusync validate"),
        ("statusync-fmt", "statusync fmt"),
    ]:
        hook = hooks[hook_id]
        assert (hook["entry"], hook["language"], hook["pass_filenames"]) == (command, "python", False)
        files = re.compile(hook["files"])
        for path in ("mappings/a.yaml", "mappings/eu/b.yml", "statusync.yaml"):
            assert files.search(path), path
        for path in ("README.md", "other/mappings/a.yaml", ".statusync/state.json"):
            assert not files.search(path), path


def test_releases_build_check_the_tag_and_publish_with_trusted_publishing() -> None:
    release = load(WORKFLOWS / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"} and "environment" not in build
    scripts = "\n".join(step.get("run", "") for step in build["steps"])
    # The files PyPI will serve are built by the setuptools requirements.lock pins, its hash
    # checked: no build tool or backend is fetched unchecked from PyPI at release time.
    installs = [line for line in scripts.splitlines() if "pip install" in line]
    assert installs and all(
        "--require-hashes" in line and "-r requirements.lock" in line for line in installs
    )
    assert "--no-build-isolation" in scripts and "build_sdist" in scripts
    check = next(step for step in build["steps"] if "statusync.__version__" in step.get("run", ""))
    assert check["env"] == {"TAG": "${{ github.ref_name }}"} and '"v$version"' in check["run"]
    # Only the job that uploads gets an OIDC token, in an environment of its own, with no
    # password or token from secrets: PyPI's trusted publishing.
    assert publish["needs"] == "build" and publish["environment"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert [step["uses"].split("@")[0] for step in publish["steps"]] == [
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
    ]
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()
    assert not any(step.get("with", {}).get("password") for step in publish["steps"])


def test_pins_name_the_version_that_exists() -> None:
    """Every `# vX.Y.Z` that tells users which statusync to pin names the package's version."""
    version = re.search(r'__version__ = "(.+)"', (ROOT / "statusync" / "__init__.py").read_text())
    assert version
    for path in [ROOT / "action.yml", *WORKFLOWS.glob("statusync-*.yml")]:
        for pin in re.findall(r"OWNER/statusync@<commit SHA> # (v\S+)`", path.read_text()):
            assert pin == f"v{version.group(1)}", path.name
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"rev: (v\S+)", readme) == [f"v{version.group(1)}"]
    assert f"## [{version.group(1)}]" in (ROOT / "CHANGELOG.md").read_text()
