"""The GitHub half, step by step as the workflows run it: each step goes through the composite
action's own runner (statusync.action), with the plan or drift report handed on through
the step outputs, against a fake of GitHub's REST API and the sandbox as Sendcloud."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from statusync import action
from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.files.catalog_file import catalog_path, save_catalog
from statusync.github.comment import MARKER_PREFIX, plan_hash
from statusync.github.drift_issue import LABEL, TITLE
from statusync.sandbox import SandboxServer
from statusync.text import printable
from tests.support.fake_github import (
    APP_BOT,
    APP_TOKEN,
    BOT,
    MALLORY,
    OPS,
    PAT,
    TOKEN,
    FakeGitHubServer,
)
from tests.support.markdown import shown as shown_in
from tests.support.markdown import table_rows
from tests.support.project import Project, Result

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]


@pytest.fixture
def github(project: Project) -> Iterator[FakeGitHubServer]:
    server = FakeGitHubServer()
    yield server
    server.stop()


class Steps:
    """The steps of one job: each gets the runner's environment afresh, as on GitHub, on top of
    what the test set in `env`."""

    def __init__(
        self,
        project: Project,
        github: FakeGitHubServer,
        env: dict[str, str],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.project, self.github, self.env, self.capsys = project, github, env, capsys
        self.count = 0
        self.token = TOKEN  # the job's GITHUB_TOKEN, unless a test gives the action another

    def run(self, args: str, allow: str = "0") -> tuple[int, dict[str, str], str]:
        """One `uses: ./` step: (the step's exit code, its outputs, its stderr)."""
        self.count += 1
        runner_temp = self.project.root.parent / f"runner-temp-{self.project.root.name}"
        runner_temp.mkdir(exist_ok=True)
        outputs = runner_temp / f"output-{self.count}"
        outputs.touch()
        step = {
            **self.env,
            **self.github.env(self.token),
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_STEP_SUMMARY": str(runner_temp / f"summary-{self.count}"),
        }
        code = action.run(action.parse_args(args), action.parse_allowed(allow), step, runner_temp)
        err = self.capsys.readouterr().err
        assert self.token not in err
        return code, dict(line.split("=", 1) for line in outputs.read_text().splitlines()), err


@pytest.fixture
def steps(
    project: Project, github: FakeGitHubServer, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> Steps:
    return Steps(project, github, env, capsys)


def plan_job(steps: Steps, pr: int) -> str:
    """statusync-plan.yml's steps: validate; plan, unless validate failed; then the comment
    whatever failed before it (`if: !cancelled()`), given the plan step's outputs, which are
    empty when it was skipped. Returns the comment step's stderr."""
    plan = {"output-file": "", "exit-code": ""}
    if steps.run("validate")[0] == 0:
        code, plan, _ = steps.run("plan --format markdown --detailed-exitcode", allow="0 2")
        assert (code == 0) == (plan["exit-code"] in ("0", "2"))
    code, _, err = steps.run(
        f"github plan-comment --pr {pr} --body '{plan['output-file']}' --plan-exit-code '{plan['exit-code']}'"
    )
    assert code == 0, err
    return err


def plan_comments(github: FakeGitHubServer, pr: int) -> list[dict[str, Any]]:
    return [c for c in github.fake.comments_on(pr) if c["body"].startswith(MARKER_PREFIX)]


def test_one_plan_comment_across_three_pushes_updated_in_place(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
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
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    assert "nothing to comment" in plan_job(steps, pr)
    assert github.fake.comments_on(pr) == [] and github.fake.writes() == []


def test_the_marker_holds_the_hash_of_the_plan(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    project.mapping(1)
    plan_job(steps, pr)
    [comment] = github.fake.comments_on(pr)
    marker, plan = comment["body"].split("\n", 1)
    assert marker == f"<!-- statusync-plan sha256:{plan_hash(plan)} -->"


def test_a_fork_pull_request_gets_a_notice_and_no_failure(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    github.fake.read_only = True  # what a pull request from a fork gets
    pr = github.fake.add_pull_request()
    project.mapping(1)
    err = plan_job(steps, pr)
    assert err.startswith("$ statusync github plan-comment")
    assert "::notice title=statusync::Could not comment on pull request" in err
    assert "403" in err and "job summary" in err
    assert github.fake.comments_on(pr) == []


def test_a_comment_refused_names_the_permission_a_job_of_this_repository_needs(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # The same answer as a fork's read-only token: a job of this repository whose workflow
    # leaves out `pull-requests: write`. Either way the step passes, and says how to fix it.
    github.fake.read_only = True
    pr = github.fake.add_pull_request()
    project.mapping(1)
    err = plan_job(steps, pr)
    assert "Could not comment on pull request" in err
    assert "give the job the `pull-requests: write` permission" in err


def test_comments_that_cannot_be_read_name_the_permission_it_needs(
    project: Project, github: FakeGitHubServer, steps: Steps, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A private repository's comments, read by a job whose workflow gives only `contents: read`.
    pr = github.fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    answers = github.fake.handle
    monkeypatch.setattr(
        github.fake,
        "handle",
        lambda method, path, *a: (
            (403, {"message": "Resource not accessible by integration"}, {})
            if path.endswith("/comments")
            else answers(method, path, *a)
        ),
    )
    code, _, err = steps.run(f"github plan-comment --pr {pr} --body {body}")
    assert code == 1
    assert f"GET /repos/acme/mappings/issues/{pr}/comments answered 403" in err
    assert "give the job the `pull-requests: write` permission" in err
    assert "Traceback" not in err


def test_the_pull_request_number_comes_from_the_event(
    project: Project, github: FakeGitHubServer, steps: Steps, env: dict[str, str], tmp_path: Path
) -> None:
    pr = github.fake.add_pull_request()
    event = tmp_path / "event.json"
    event.write_text(f'{{"action": "synchronize", "pull_request": {{"number": {pr}}}}}')
    env["GITHUB_EVENT_PATH"] = str(event)
    project.mapping(1)
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    code, _, err = steps.run(f"github plan-comment --body {body}")
    assert code == 0 and "Commented the plan" in err
    assert len(github.fake.comments_on(pr)) == 1


def test_a_write_refused_for_another_reason_fails(
    project: Project, github: FakeGitHubServer, steps: Steps, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pr = github.fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    reads = github.fake.handle
    monkeypatch.setattr(
        github.fake,
        "handle",
        lambda method, *a: (
            reads(method, *a) if method == "GET" else (422, {"message": "Validation Failed"}, {})
        ),
    )
    code, outputs, err = steps.run(f"github plan-comment --pr {pr} --body {body}")
    assert code == 1 and outputs["exit-code"] == "1"
    assert (
        f"error: GitHub API: POST /repos/acme/mappings/issues/{pr}/comments answered 422: "
        "Validation Failed" in err
    )
    assert "::notice" not in err and "Traceback" not in err


def test_a_pull_request_that_cannot_be_read_fails(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    code, _, err = steps.run(f"github plan-comment --pr 99 --body {body}")  # no such number
    assert code == 1 and "GET /repos/acme/mappings/issues/99/comments answered 404" in err


@pytest.mark.parametrize(
    "command", ["plan-comment --pr 1 --body {body}", "drift-issue --report {body} --drift-exit-code 2"]
)
def test_a_token_github_does_not_take_names_the_fix(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path, command: str
) -> None:
    # An expired or revoked token of one's own given as the action's github-token.
    github.fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    steps.token = "github_pat_expired-never-shown-999"
    code, _, err = steps.run("github " + command.format(body=body))
    assert code == 1
    assert "GET /user answered 401: Bad credentials" in err
    assert "GitHub does not take the token" in err and "github-token input" in err
    assert "Traceback" not in err


def test_no_token_is_a_clear_error(project: Project, tmp_path: Path, cli: Cli, env: dict[str, str]) -> None:
    body = tmp_path / "plan.md"
    body.write_text("plan")
    env["GITHUB_REPOSITORY"] = "acme/mappings"
    result = cli("github", "plan-comment", "--pr", "1", "--body", str(body))
    assert result.code == 1 and "GITHUB_TOKEN is not set" in result.err


def drift_job(steps: Steps) -> tuple[str, str]:
    """statusync-drift.yml's steps: drift, then the issue. (drift's exit code, issue stderr)"""
    code, drift, _ = steps.run("drift --format markdown", allow="0 2")
    assert code == 0
    code, _, err = steps.run(
        f"github drift-issue --report {drift['output-file']} --drift-exit-code {drift['exit-code']}"
    )
    assert code == 0, err
    return drift["exit-code"], err


def test_the_drift_issue_is_opened_once_updated_and_closed(
    project: Project, cli: Cli, sandbox: Start, github: FakeGitHubServer, steps: Steps
) -> None:
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
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    report = tmp_path / "drift.md"
    report.write_text("partial")
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 1")
    assert code == 0 and "left as it is" in err
    assert github.fake.log == []


def test_a_drift_issue_refused_names_the_permission_it_needs(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    github.fake.read_only = True  # a job without `issues: write`
    report = tmp_path / "drift.md"
    report.write_text("drift")
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 2")
    assert code == 1
    assert "Resource not accessible by integration" in err
    assert "give the job the `issues: write` permission" in err
    assert "Traceback" not in err


# --- whose comment and issue they are ---------------------------------------------------------


def the_plan(steps: Steps) -> str:
    """The markdown plan of the project as it is, as the plan step makes it."""
    code, plan, _ = steps.run("plan --format markdown --detailed-exitcode", allow="0 2")
    assert code == 0
    return Path(plan["output-file"]).read_text()


@pytest.mark.parametrize("forger", [MALLORY, {"login": "other-app[bot]", "type": "Bot"}])
def test_a_look_alike_with_the_real_plans_hash_is_ignored(
    project: Project, github: FakeGitHubServer, steps: Steps, forger: dict[str, str]
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    project.mapping(1)
    # The real plan's hash over a plan of the forger's own: the bot used to say "already shows
    # this plan" and post nothing, leaving reviewers to read it.
    forged = f"<!-- statusync-plan sha256:{plan_hash(the_plan(steps))} -->\nNo changes.\n"
    forged_id = fake.add_comment(pr, forged, user=forger)
    err = plan_job(steps, pr)
    assert "Commented the plan on pull request" in err
    assert (
        f"::warning title=statusync::Ignored 1 comment carrying the plan marker by "
        f"{forger['login']}: only one written by github-actions[bot]"
    ) in err
    assert fake.comments[forged_id]["body"] == forged
    [ours] = [c for c in plan_comments(github, pr) if c["id"] != forged_id]
    assert ours["user"] == BOT and "shop-1.yaml" in ours["body"]


def test_a_look_alike_with_another_hash_is_never_edited(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    forged = f"<!-- statusync-plan sha256:{'0' * 64} -->\nNo changes.\n"
    forged_id = fake.add_comment(pr, forged, user=MALLORY)
    project.mapping(1)
    assert "Commented the plan" in plan_job(steps, pr)
    project.mapping(2)
    assert "Updated the plan comment" in plan_job(steps, pr)
    assert fake.comments[forged_id]["body"] == forged
    assert ("PATCH", f"/repos/acme/mappings/issues/comments/{forged_id}") not in fake.log
    [ours] = [c for c in plan_comments(github, pr) if c["id"] != forged_id]
    assert ours["user"] == BOT and "shop-2.yaml" in ours["body"]


def test_our_comment_edited_under_its_marker_is_put_right(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # Anyone with write access may edit the bot's comment: keeping its marker line (the real
    # plan's hash) must not keep the plan they wrote under it on show.
    fake = github.fake
    pr = fake.add_pull_request()
    project.mapping(1)
    assert "Commented the plan" in plan_job(steps, pr)
    [ours] = plan_comments(github, pr)
    shown = fake.comments[ours["id"]]["body"]
    fake.comments[ours["id"]]["body"] = shown.split("\n", 1)[0] + "\nNo changes.\n"
    assert "Updated the plan comment" in plan_job(steps, pr)
    assert fake.comments[ours["id"]]["body"] == shown


def test_with_a_personal_token_the_plan_comment_is_its_users(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    project.mapping(1)
    bots = fake.add_comment(pr, f"<!-- statusync-plan sha256:{'1' * 64} -->\nold", user=BOT)
    steps.token = PAT  # `github-token:` a person's token: GET /user names ops-alice
    assert "Commented the plan" in plan_job(steps, pr)
    project.mapping(2)
    assert "Updated the plan comment" in plan_job(steps, pr)
    assert fake.comments[bots]["body"].endswith("old")
    [ours] = [c for c in plan_comments(github, pr) if c["id"] != bots]
    assert ours["user"] == OPS and "shop-2.yaml" in ours["body"]


def test_an_app_token_writes_as_the_bot_login_given(
    project: Project, github: FakeGitHubServer, steps: Steps, env: dict[str, str]
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    steps.token = APP_TOKEN  # GET /user answers 403 to an App's installation token too
    env["STATUSYNC_BOT_LOGIN"] = "statusync-app[bot]"
    project.mapping(1)
    assert "Commented the plan" in plan_job(steps, pr)
    project.mapping(2)
    assert "Updated the plan comment" in plan_job(steps, pr)
    [ours] = plan_comments(github, pr)
    assert ours["user"] == APP_BOT and "shop-2.yaml" in ours["body"]


@pytest.mark.parametrize("bot_login", [None, ""], ids=["not-set", "empty"])
def test_an_app_token_without_its_bot_login_is_a_clear_error_not_a_comment_each_run(
    project: Project, github: FakeGitHubServer, steps: Steps, env: dict[str, str], bot_login: str | None
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    steps.token = APP_TOKEN
    if bot_login is not None:
        env["STATUSYNC_BOT_LOGIN"] = bot_login
    project.mapping(1)
    (project.root / "plan.md").write_text("### statusync plan\n\n1 to create\n")
    code, _, err = steps.run(f"github plan-comment --pr {pr} --body plan.md --plan-exit-code 2", allow="0")
    assert code == 1
    if bot_login is None:  # posted, then found to be by another: said once, with the fix
        assert "as statusync-app[bot], not as github-actions[bot]" in err
        assert "--bot-login statusync-app[bot]" in err
    else:
        assert "STATUSYNC_BOT_LOGIN is set but empty" in err
        assert plan_comments(github, pr) == []


def test_a_bot_login_that_is_no_bot_is_refused(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    code, _, err = steps.run(f"github plan-comment --pr 1 --body {body} --bot-login mallory")
    assert code == 1 and "is not the login of an App's bot user" in err
    assert github.fake.log == []


def test_a_look_alike_drift_issue_is_never_edited_or_closed(
    project: Project, cli: Cli, sandbox: Start, github: FakeGitHubServer, steps: Steps
) -> None:
    fake = github.fake
    project.mapping(1)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    forged = fake.add_issue(TITLE, "Nothing to see here.", [LABEL], user=MALLORY)

    server.store.edit_mapping(1, {"DELIVERED": "1"})
    code, err = drift_job(steps)
    assert code == "2" and "opened an issue" in err
    ours = next(i for i in fake.open_issues(LABEL) if i["number"] != forged)
    assert ours["user"] == BOT and "shop-1.yaml" in ours["body"]

    assert cli("reconcile", "--yes").code == 0
    code, err = drift_job(steps)
    assert code == "0" and "closed the drift issue" in err
    assert ours["state"] == "closed"
    assert fake.issues[forged]["state"] == "open"
    assert fake.issues[forged]["body"] == "Nothing to see here."
    assert fake.comments_on(forged) == []


def test_a_look_alike_drift_issue_does_not_count_as_the_report(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    fake = github.fake
    forged = fake.add_issue(TITLE, "all fine", [LABEL], user=MALLORY)
    report = tmp_path / "drift.md"
    report.write_text("drift")
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 0")
    assert code == 0 and "No drift, and no drift issue open." in err
    assert fake.writes() == [] and fake.issues[forged]["state"] == "open"


# --- no plan: validation or the plan failed ---------------------------------------------------


def test_a_stale_plan_is_replaced_when_validation_fails(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    project.mapping(1)
    plan_job(steps, pr)
    [comment] = plan_comments(github, pr)
    assert "| create |" in comment["body"]

    project.mapping(1, delivered="012")  # the next push breaks the file: validate fails
    err = plan_job(steps, pr)
    assert "Updated the plan comment on pull request #1 to show that there is no plan." in err
    body = comment["body"]
    assert "| create |" not in body
    assert "**No plan for the latest push:** validation found 1 problem in the files." in body
    assert "- `mappings/shop-1.yaml:5:14`: " in body
    assert "[the job's log](https://github.example/acme/mappings/actions/runs/4242)" in body
    marker, shown = body.split("\n", 1)
    assert marker == f"<!-- statusync-plan sha256:{plan_hash(shown)} -->"

    fake.log.clear()  # the same failure again: nothing to edit
    assert "already shows that there is no plan" in plan_job(steps, pr)
    assert fake.writes() == []

    project.mapping(1)  # fixed: the plan is back
    assert "Updated the plan comment" in plan_job(steps, pr)
    assert "| create |" in comment["body"] and len(plan_comments(github, pr)) == 1


def test_a_plan_that_fails_for_another_reason_says_why(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    project.mapping(1)
    project.write(".statusync/state.json", "{not json")  # validate passes; plan exits 1
    err = plan_job(steps, pr)
    assert "Commented that there is no plan on pull request" in err
    [comment] = plan_comments(github, pr)
    first = comment["body"].splitlines()[4]
    assert first.startswith("> **No plan for the latest push:** ") and "state" in first
    assert "actions/runs/4242" in comment["body"]


def test_no_plan_without_a_cause_found_again_points_at_the_job(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    project.mapping(1)  # the files are fine now: whatever stopped the plan step, its log says
    code, _, err = steps.run(f"github plan-comment --pr {pr} --body '' --plan-exit-code ''")
    assert code == 0 and "Commented that there is no plan" in err
    [comment] = plan_comments(github, pr)
    assert "the plan step failed or did not run" in comment["body"]
    assert "(https://github.example/acme/mappings/actions/runs/4242)" in comment["body"]


# --- rate limits ------------------------------------------------------------------------------


@pytest.fixture
def on_actions(github: FakeGitHubServer, env: dict[str, str]) -> None:
    """`statusync github ...` run through the in-process CLI (its waits recorded, not slept) as a
    step of a job would run it."""
    env.update(github.env(), GITHUB_ACTIONS="true")


@pytest.mark.usefixtures("on_actions")
def test_a_secondary_rate_limit_is_waited_out(
    project: Project, github: FakeGitHubServer, cli: Cli, retry_waits: list[float], tmp_path: Path
) -> None:
    pr = github.fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    github.fake.secondary_limits = 2  # no Retry-After: GitHub asks for at least a minute
    result = cli("github", "plan-comment", "--pr", str(pr), "--body", str(body))
    assert result.code == 0 and "Commented the plan" in result.err
    assert retry_waits == [60.0, 60.0] and len(plan_comments(github, pr)) == 1


@pytest.mark.usefixtures("on_actions")
@pytest.mark.parametrize("retry_after, waits", [(None, [60.0, 60.0]), ("7", [7.0, 7.0])])
def test_a_secondary_rate_limit_that_lasts_fails_the_step_never_a_notice(
    project: Project,
    github: FakeGitHubServer,
    cli: Cli,
    retry_waits: list[float],
    tmp_path: Path,
    retry_after: str | None,
    waits: list[float],
) -> None:
    fake = github.fake
    pr = fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n")
    fake.secondary_limits, fake.retry_after, fake.limited_methods = 100, retry_after, ("POST",)
    result = cli("github", "plan-comment", "--pr", str(pr), "--body", str(body))
    assert result.code == 1
    assert (
        f"error: GitHub API: POST /repos/acme/mappings/issues/{pr}/comments answered 403: "
        "You have exceeded a secondary rate limit"
    ) in result.err
    assert "GitHub's rate limit: try again later" in result.err
    assert "::notice" not in result.err and "fork" not in result.err
    assert retry_waits == waits
    assert fake.writes() == [("POST", f"/repos/acme/mappings/issues/{pr}/comments")] * 3
    assert fake.comments_on(pr) == []


@pytest.mark.usefixtures("on_actions")
def test_a_secondary_rate_limit_on_the_drift_issue_fails_without_blaming_permissions(
    project: Project, github: FakeGitHubServer, cli: Cli, tmp_path: Path
) -> None:
    github.fake.secondary_limits = 100
    report = tmp_path / "drift.md"
    report.write_text("drift")
    result = cli("github", "drift-issue", "--report", str(report), "--drift-exit-code", "2")
    assert result.code == 1 and "secondary rate limit" in result.err
    assert "issues: write" not in result.err


# --- GitHub's limit on a body -----------------------------------------------------------------


def test_a_plan_longer_than_github_takes_is_cut_to_fit(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    pr = github.fake.add_pull_request()
    body = tmp_path / "plan.md"
    body.write_text("### statusync plan\n" + "| create | 1 |\n" * 6000)  # 90,000 characters
    code, _, err = steps.run(f"github plan-comment --pr {pr} --body {body}")
    assert code == 0 and "Commented the plan" in err  # the fake answers 422 above 65,536
    [comment] = plan_comments(github, pr)
    assert len(comment["body"]) <= 65_536
    assert comment["body"].endswith("see the job summary of the run for all of it.*\n")


def test_a_drift_report_longer_than_github_takes_is_cut_to_fit(
    project: Project, github: FakeGitHubServer, steps: Steps, tmp_path: Path
) -> None:
    report = tmp_path / "drift.md"
    report.write_text("## statusync drift\n" + "| shop | differs |\n" * 5000)
    code, _, err = steps.run(f"github drift-issue --report {report} --drift-exit-code 2")
    assert code == 0 and "opened an issue" in err, err
    [issue] = github.fake.open_issues(LABEL)
    assert len(issue["body"]) <= 65_536
    assert "*The report was cut here" in issue["body"] and "actions/runs/4242" in issue["body"]


def test_an_empty_body_for_a_plan_that_was_made_is_a_clear_error(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    code, _, err = steps.run("github plan-comment --pr 1 --body '' --plan-exit-code 2")
    assert code == 1 and "error: --body is empty: give the file holding the plan's markdown" in err
    assert github.fake.log == []


# A shop status name can hold anything a shop owner types: it must not end a table cell, open a
# code span, inject HTML, start a new line or reorder the line for the eye.
HOSTILE_NAME = "Paid | `rm -rf` <img src=x onerror=alert(1)>\n- [x] approve \u202eevil"


def test_the_plan_comment_and_the_drift_issue_show_status_names_escaped(
    project: Project, cli: Cli, sandbox: Start, github: FakeGitHubServer, steps: Steps
) -> None:
    fake = github.fake
    project.mapping(1)
    sandbox()
    assert cli("apply", "--yes").code == 0
    statuses = {"3": KnownStatus(HOSTILE_NAME), "2": KnownStatus("Shipped")}
    save_catalog(
        catalog_path(project.state_file),
        StatusCatalog({1: ShopStatuses("2026-11-30T08:15:00Z", "en-gb", statuses)}),
    )
    project.mapping(1, delivered='"2"')  # a pull request's edit: DELIVERED "3" -> "2"
    shown = f'"3" ({printable(HOSTILE_NAME)})'

    pr = fake.add_pull_request()
    plan_job(steps, pr)
    [comment] = plan_comments(github, pr)
    [row] = table_rows(comment["body"])
    assert [shown_in(cell) for cell in row[3:]] == ["DELIVERED", shown, '"2" (Shipped)']
    assert "\u202e" not in comment["body"]  # shown as the escape \\u202e, never as itself

    assert drift_job(steps)[0] == "2"  # the edit is not applied yet
    [issue] = fake.open_issues(LABEL)
    [row] = table_rows(issue["body"])
    assert [shown_in(cell) for cell in row[2:5]] == ["DELIVERED", '"2" (Shipped)', shown]
    assert "\u202e" not in issue["body"]


def test_a_pull_request_that_edits_the_state_is_warned_about_at_the_top_of_the_comment(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # The state edited along with a mapping file can make the plan show no changes at all:
    # the warning is posted all the same, though such a plan gets no comment otherwise.
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [
        {"filename": "mappings/shop-1.yaml", "status": "modified"},
        {"filename": ".statusync/state.json", "status": "modified"},
        {"filename": "README.md", "status": "modified"},
    ]
    err = plan_job(steps, pr)
    assert "::warning title=statusync::This pull request changes .statusync/state.json:" in err
    assert "Commented the plan" in err
    [comment] = plan_comments(github, pr)
    plan = comment["body"].split("\n", 1)[1]
    assert plan.startswith("> [!WARNING]\n> **This pull request changes `.statusync/state.json`.**")
    assert "`statusync import`" in plan and "revert it" in plan and "review the state's diff" in plan
    assert "No changes" in plan
    github.fake.log.clear()
    assert "already shows this plan" in plan_job(steps, pr)  # the whole body still compared
    assert github.fake.writes() == []


def test_a_pull_request_changing_only_mappings_gets_no_warning(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [
        {"filename": f"mappings/shop-{i}.yaml", "status": "added"} for i in range(1, 4)
    ] + [{"filename": ".statusync/state.json.bak", "status": "added"}]
    for i in range(1, 4):
        project.mapping(i)
    err = plan_job(steps, pr)
    assert "::warning" not in err
    [comment] = plan_comments(github, pr)
    assert comment["body"].split("\n", 1)[1].startswith("### statusync plan")
    assert "This pull request changes" not in comment["body"]
    assert "could not be checked" not in comment["body"]


def test_a_state_file_renamed_away_is_caught_by_its_previous_name(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [
        {
            "filename": "old/statuses.json",
            "previous_filename": ".statusync/statuses.json",
            "status": "renamed",
        }
    ]
    project.mapping(1)
    err = plan_job(steps, pr)
    assert "This pull request changes .statusync/statuses.json:" in err
    [comment] = plan_comments(github, pr)
    assert "**This pull request changes `.statusync/statuses.json`.**" in comment["body"]


def test_the_state_is_found_where_statusync_yaml_puts_it_relative_to_the_repository(
    project: Project, github: FakeGitHubServer, steps: Steps, env: dict[str, str]
) -> None:
    # statusync.yaml in a folder of the repository (the action's working-directory): GitHub
    # names the files from the repository's root.
    project.write("statusync.yaml", "state: ops/state.json\n")
    env["GITHUB_WORKSPACE"] = str(project.root.parent)
    pr = github.fake.add_pull_request()
    folder = project.root.name
    github.fake.changed_files[pr] = [
        {"filename": ".statusync/state.json", "status": "modified"},  # not this workspace's state
        {"filename": f"{folder}/ops/state.json", "status": "removed"},
    ]
    project.mapping(1)
    err = plan_job(steps, pr)
    assert f"This pull request changes {folder}/ops/state.json:" in err
    assert ".statusync/state.json" not in plan_comments(github, pr)[0]["body"]


def test_changed_files_that_cannot_be_listed_are_said_unchecked_and_the_comment_is_written(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    github.fake.files_status = 403
    pr = github.fake.add_pull_request()
    project.mapping(1)
    err = plan_job(steps, pr)
    assert "::warning title=statusync::The pull request's changed files could not be checked" in err
    assert "Commented the plan" in err
    [comment] = plan_comments(github, pr)
    plan = comment["body"].split("\n", 1)[1]
    assert plan.startswith("> [!NOTE]\n> The pull request's changed files could not be checked")
    assert "403" in plan and "shop-1.yaml" in plan


def test_unchecked_files_are_said_in_a_comment_even_for_a_plan_without_changes(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # "No changes" is what an edited state would show: unable to tell, the comment says so.
    github.fake.files_status = 404
    pr = github.fake.add_pull_request()
    err = plan_job(steps, pr)
    assert "changed files could not be checked" in err
    [posted] = github.fake.comments_on(pr)
    assert "could not be checked for an edit to the state" in posted["body"]


@pytest.mark.parametrize(
    "changed, said",
    [
        # The journal of an interrupted run is folded into the state: added by hand, it edits it.
        (".statusync/state.json.journal", "**This pull request changes `.statusync/state.json.journal`.**"),
        # statusync.yaml's `state:` could point the plan at another file.
        ("statusync.yaml", "> [!NOTE]\n> This pull request changes `statusync.yaml`, whose `state:` names"),
    ],
)
def test_the_journal_and_the_settings_that_name_the_state_are_said_too(
    project: Project, github: FakeGitHubServer, steps: Steps, changed: str, said: str
) -> None:
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [{"filename": changed, "status": "added"}]
    plan_job(steps, pr)  # a plan without changes: said all the same
    [comment] = plan_comments(github, pr)
    assert said in comment["body"]


SETTINGS_ELSEWHERE = """\
api_url: https://sendcloud-api.evil.example/api/v3
accounts:
  eu: {auth: oauth2, client_id_env: EU_ID, client_secret_env: EU_SECRET,
       token_url: "https://tokens.evil.example/oauth2/token/"}
  nl: {auth: oauth2, client_id_env: NL_ID, client_secret_env: NL_SECRET}
"""


def test_settings_that_send_the_keys_to_another_host_are_a_warning_naming_it(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # The plan shows "No changes": only the comment's warning tells a reviewer that, once merged,
    # apply and drift would hand the key pair and the OAuth2 client secret to another host.
    project.write("statusync.yaml", SETTINGS_ELSEWHERE)
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [{"filename": "statusync.yaml", "status": "modified"}]
    err = plan_job(steps, pr)
    assert (
        "sends the Sendcloud keys to a host that is not Sendcloud's (the API: "
        "https://sendcloud-api.evil.example/api/v3; OAuth2 tokens of eu: "
        "https://tokens.evil.example/oauth2/token/): unless those hosts are yours" in err
    )
    [comment] = plan_comments(github, pr)
    body = comment["body"]
    assert (
        "> [!WARNING]\n> **This pull request changes `statusync.yaml`, and once merged statusync sends "
        "the Sendcloud keys to a host that is not Sendcloud's:**\n"
        "> - the API: `https://sendcloud-api.evil.example/api/v3`, not Sendcloud's "
        "(`https://panel.sendcloud.sc/api/v3`)\n"
        "> - OAuth2 tokens of `eu`: `https://tokens.evil.example/oauth2/token/`, not Sendcloud's "
        "(`https://account.sendcloud.com/oauth2/token/`)\n" in body
    )
    assert "`nl`" not in body  # its tokens come from Sendcloud's endpoint
    assert (
        "names the state the plan takes every unchanged mapping file from (`.statusync/state.json`)" in body
    )


def test_settings_that_keep_the_keys_on_sendclouds_hosts_are_a_note(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    project.write("statusync.yaml", "api_url: https://PANEL.sendcloud.sc/api/v3/\non_removed: forget\n")
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [{"filename": "statusync.yaml", "status": "modified"}]
    err = plan_job(steps, pr)
    assert "not Sendcloud's" not in err
    [comment] = plan_comments(github, pr)
    assert "> [!NOTE]\n> This pull request changes `statusync.yaml`, whose `state:` names" in comment["body"]
    assert "It sends the keys to Sendcloud only." in comment["body"]
    assert "[!WARNING]" not in comment["body"]


def test_an_edited_state_and_settings_sending_the_keys_elsewhere_are_both_said(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    project.write("statusync.yaml", SETTINGS_ELSEWHERE)
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [
        {"filename": "statusync.yaml", "status": "modified"},
        {"filename": ".statusync/state.json", "status": "modified"},
    ]
    err = plan_job(steps, pr)
    assert "This pull request changes .statusync/state.json:" in err and "evil.example" in err
    [comment] = plan_comments(github, pr)
    body = comment["body"]
    assert body.index("**This pull request changes `.statusync/state.json`.**") < body.index(
        "**This pull request changes `statusync.yaml`, and once merged"
    )


def test_settings_linked_from_statusync_yaml_are_said_when_the_file_linked_to_changes(
    project: Project, github: FakeGitHubServer, steps: Steps
) -> None:
    # statusync.yaml is a link to a file kept elsewhere: an edit there can point `state:` at
    # another file just as well, though statusync.yaml itself is not among the changed files.
    project.write("config/statusync.yaml", "on_removed: forget\n")
    (project.root / "statusync.yaml").symlink_to("config/statusync.yaml")
    pr = github.fake.add_pull_request()
    github.fake.changed_files[pr] = [{"filename": "config/statusync.yaml", "status": "modified"}]
    err = plan_job(steps, pr)
    assert "This pull request changes statusync.yaml, whose 'state:' names the state" in err
    [comment] = plan_comments(github, pr)
    assert "> [!NOTE]\n> This pull request changes `statusync.yaml`, whose `state:` names" in comment["body"]
