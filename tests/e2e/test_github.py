"""The GitHub half, step by step as the workflows run it: each step goes through the composite
action's own runner (statusync.github.action), with the plan or drift report handed on through
the step outputs, against a fake of GitHub's REST API and the sandbox as Sendcloud."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statusync.github import action
from statusync.github.comment import plan_hash
from statusync.github.drift_issue import LABEL
from statusync.sandbox import SandboxServer
from tests.support.fake_github import TOKEN, FakeGitHubServer
from tests.support.project import Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


@pytest.fixture
def github(project: Project) -> Iterator[FakeGitHubServer]:
    server = FakeGitHubServer()
    yield server
    server.stop()


class Steps:
    """The steps of one job: each gets the runner's environment afresh, as on GitHub."""

    def __init__(self, project: Project, github: FakeGitHubServer,
                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.project, self.github, self.monkeypatch, self.capsys = (project, github, monkeypatch,
                                                                    capsys)
        self.count = 0

    def run(self, args: str, allow: str = "0") -> tuple[int, dict[str, str], str]:
        """One `uses: ./` step: (the step's exit code, its outputs, its stderr)."""
        self.count += 1
        runner_temp = self.project.root.parent / f"runner-temp-{self.project.root.name}"
        runner_temp.mkdir(exist_ok=True)
        outputs = runner_temp / f"output-{self.count}"
        outputs.touch()
        for name, value in {**self.github.env(), "GITHUB_ACTIONS": "true",
                            "GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(runner_temp),
                            "GITHUB_STEP_SUMMARY": str(runner_temp / f"summary-{self.count}")
                            }.items():
            self.monkeypatch.setenv(name, value)
        code = action.run(action.parse_args(args), action.parse_allowed(allow), os.environ,
                          runner_temp)
        err = self.capsys.readouterr().err
        assert TOKEN not in err
        return code, dict(line.split("=", 1) for line in outputs.read_text().splitlines()), err


@pytest.fixture
def steps(project: Project, github: FakeGitHubServer, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Steps:
    return Steps(project, github, monkeypatch, capsys)


def plan_job(steps: Steps, pr: int) -> str:
    """statusync-plan.yml's steps: validate, plan, comment. Returns the comment step's stderr."""
    assert steps.run("validate")[0] == 0
    code, plan, _ = steps.run("plan --format markdown --detailed-exitcode", allow="0 2")
    assert code == 0 and plan["exit-code"] in ("0", "2")
    code, _, err = steps.run(f"github plan-comment --pr {pr} --body '{plan['output-file']}' "
                             f"--plan-exit-code {plan['exit-code']}")
    assert code == 0, err
    return err


def test_one_plan_comment_across_three_pushes_updated_in_place(
        project: Project, github: FakeGitHubServer, steps: Steps) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    for i in range(3):  # other people's comments before it, over more than one page
        fake.add_comment(pr, f"looks good {i}")

    project.mapping(1)
    assert "Commented the plan" in plan_job(steps, pr)
    [comment] = [c for c in fake.comments_on(pr) if "statusync-plan" in c["body"]]
    assert comment["body"].startswith("<!-- statusync-plan sha256:")
    assert "create" in comment["body"] and "shop-1.yaml" in comment["body"]

    project.mapping(2)  # second push: the plan changes, the same comment follows it
    assert "Updated the plan comment" in plan_job(steps, pr)
    first_edit = comment["body"]
    assert "shop-2.yaml" in first_edit
    fake.log.clear()

    shop_2 = project.root / "mappings/shop-2.yaml"  # third push: a comment, the same plan
    shop_2.write_text("# reviewed by ops\n" + shop_2.read_text())
    assert "already shows this plan" in plan_job(steps, pr)
    assert fake.writes() == [] and comment["body"] == first_edit

    (project.root / "mappings/shop-1.yaml").unlink()  # the changes are dropped: it says so
    (project.root / "mappings/shop-2.yaml").unlink()
    assert "Updated the plan comment" in plan_job(steps, pr)
    assert "No changes" in comment["body"]
    assert len(fake.comments_on(pr)) == 4
    assert sum("statusync-plan" in c["body"] for c in fake.comments_on(pr)) == 1


def test_a_plan_without_changes_makes_no_new_comment(
        project: Project, github: FakeGitHubServer, steps: Steps) -> None:
    pr = github.fake.add_pull_request()
    assert "nothing to comment" in plan_job(steps, pr)
    assert github.fake.comments_on(pr) == [] and github.fake.writes() == []


def test_the_marker_holds_the_hash_of_the_plan(
        project: Project, github: FakeGitHubServer, steps: Steps) -> None:
    pr = github.fake.add_pull_request()
    project.mapping(1)
    plan_job(steps, pr)
    [comment] = github.fake.comments_on(pr)
    marker, plan = comment["body"].split("\n", 1)
    assert marker == f"<!-- statusync-plan sha256:{plan_hash(plan)} -->"


def test_a_fork_pull_request_gets_a_notice_and_no_failure(
        project: Project, github: FakeGitHubServer, steps: Steps) -> None:
    github.fake.read_only = True  # what a pull request from a fork gets
    pr = github.fake.add_pull_request()
    project.mapping(1)
    err = plan_job(steps, pr)
    assert err.startswith("$ statusync github plan-comment")
    assert "::notice title=statusync::Could not comment on pull request" in err
    assert "403" in err and "job summary" in err
    assert github.fake.comments_on(pr) == []


def test_the_pull_request_number_comes_from_the_event(
        project: Project, github: FakeGitHubServer, steps: Steps,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pr = github.fake.add_pull_request()
    event = tmp_path / "event.json"
    event.write_text(f'{{"action": "synchronize", "pull_request": {{"number": {pr}}}}}')
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    project.mapping(1)
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    code, _, err = steps.run(f"github plan-comment --body {body}")
    assert code == 0 and "Commented the plan" in err
    assert len(github.fake.comments_on(pr)) == 1


def test_a_write_refused_for_another_reason_fails(
        project: Project, github: FakeGitHubServer, steps: Steps,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    monkeypatch.setattr(github.fake, "handle",
                        lambda *a: (422, {"message": "Body is too long"}, {}))
    code, outputs, err = steps.run(f"github plan-comment --pr 1 --body {body}")
    assert code == 1 and outputs["exit-code"] == "1"
    assert "error: GitHub API: GET /repos/acme/mappings/issues/1/comments answered 422: " \
           "Body is too long" in err
    assert "Traceback" not in err


def test_a_pull_request_that_cannot_be_read_fails(
        project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path) -> None:
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    code, _, err = steps.run(f"github plan-comment --pr 99 --body {body}")  # no such number
    assert code == 1 and "GET /repos/acme/mappings/issues/99/comments answered 404" in err


def test_no_token_is_a_clear_error(project: Project, tmp_path: Path,
                                   cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    body = tmp_path / "plan.md"
    body.write_text("plan")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/mappings")
    result = cli("github", "plan-comment", "--pr", "1", "--body", str(body))
    assert result.code == 1 and "GITHUB_TOKEN is not set" in result.err


def drift_job(steps: Steps) -> tuple[str, str]:
    """statusync-drift.yml's steps: drift, then the issue. (drift's exit code, issue stderr)"""
    code, drift, _ = steps.run("drift --format markdown", allow="0 2")
    assert code == 0
    code, _, err = steps.run(f"github drift-issue --report {drift['output-file']} "
                             f"--drift-exit-code {drift['exit-code']}")
    assert code == 0, err
    return drift["exit-code"], err


def test_the_drift_issue_is_opened_once_updated_and_closed(
        project: Project, cli: Cli, sandbox: Start, github: FakeGitHubServer,
        steps: Steps) -> None:
    fake = github.fake
    for i in (1, 2):
        project.mapping(i)
    server = sandbox()
    assert cli("apply", "--yes").code == 0

    code, err = drift_job(steps)
    assert code == "0" and "No drift, and no drift issue open." in err
    assert fake.writes() == [] and fake.issues == {}

    server.store.edit_mapping(1, {"DELIVERED": "1"})  # an edit in Sendcloud's panel
    code, err = drift_job(steps)
    assert code == "2" and "opened an issue" in err
    [issue] = fake.open_issues(LABEL)
    assert fake.labels[LABEL]["description"]  # the label was created, with a description
    assert "shop-1.yaml" in issue["body"] and "actions/runs/4242" in issue["body"]

    server.store.edit_mapping(2, {"DELIVERED": "1"})  # drift lasts and grows: same issue
    code, err = drift_job(steps)
    assert code == "2" and "updated the open drift issue" in err
    assert fake.open_issues(LABEL) == [issue] and "shop-2.yaml" in issue["body"]

    assert cli("reconcile", "--yes").code == 0  # put right: the issue closes with a comment
    code, err = drift_job(steps)
    assert code == "0" and "closed the drift issue" in err
    assert issue["state"] == "closed" and fake.open_issues(LABEL) == []
    [closing] = fake.comments_on(issue["number"])
    assert "in sync" in closing["body"]
    assert len(fake.issues) == 1

    fake.log.clear()
    assert drift_job(steps)[0] == "0" and fake.writes() == []


def test_a_failed_drift_run_leaves_the_issue_alone(
        project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path) -> None:
    report = tmp_path / "drift.md"
    report.write_text("partial")
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 1")
    assert code == 0 and "left as it is" in err
    assert github.fake.log == []


def test_a_drift_issue_refused_names_the_permission_it_needs(
        project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path) -> None:
    github.fake.read_only = True  # a job without `issues: write`
    report = tmp_path / "drift.md"
    report.write_text("drift")
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 2")
    assert code == 1
    assert "Resource not accessible by integration" in err
    assert "give the job the `issues: write` permission" in err
    assert "Traceback" not in err
