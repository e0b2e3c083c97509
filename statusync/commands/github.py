"""`statusync github plan-comment` and `statusync github drift-issue`: what the workflows do on
GitHub after `plan` and `drift`, with the job's token (GITHUB_TOKEN)."""

from __future__ import annotations

import os
from pathlib import Path

from statusync.console import Console
from statusync.errors import CHANGES, OK, StatusyncError
from statusync.github import comment, drift_issue
from statusync.github.annotations import workflow_command
from statusync.github.rest import GitHub, GitHubError
from statusync.github.runner import event_pull_request, on_actions, run_url


def run_plan_comment(console: Console, *, pull_request: int | None, body: Path,
                 plan_exit_code: int | None) -> int:
    """Show the plan in the pull request's one plan comment. `plan_exit_code` is what
    `plan --detailed-exitcode` exited with (2 changes, 0 none); without it, the plan counts as
    having changes."""
    env = os.environ
    number = pull_request or event_pull_request(env)
    if number is None:
        raise StatusyncError("no pull request to comment on: give --pr N (on a pull_request "
                             "event it is read from the event)")
    if plan_exit_code not in (None, OK, CHANGES):
        console.note(f"The plan exited {plan_exit_code} (failed): the comment is left as it is.")
        return OK
    plan = _read(body)
    with GitHub.from_env(env) as github:
        try:
            outcome = comment.sync_plan_comment(github, number, plan,
                                                has_changes=plan_exit_code != OK)
        except GitHubError as exc:
            if not (exc.denied and exc.write):
                raise  # reading the comments must work: a 404 there is a wrong number or repo
            # A pull request from a fork runs with a read-only token: it cannot comment, and
            # that is no failure of the pull request. Its plan is in the job summary.
            _notice(console, f"Could not comment on pull request #{number} ({exc}); "
                             "a pull request from a fork gets a read-only token. The plan is "
                             "in the job summary.")
            return OK
    console.note({
        comment.Outcome.CREATED: f"Commented the plan on pull request #{number}.",
        comment.Outcome.UPDATED: f"Updated the plan comment on pull request #{number}.",
        comment.Outcome.UNCHANGED: f"The plan comment on pull request #{number} already shows "
                                   "this plan.",
        comment.Outcome.SKIPPED: "No changes and no plan comment yet: nothing to comment.",
    }[outcome])
    return OK


def run_drift_issue(console: Console, *, report: Path, drift_exit_code: int) -> int:
    """Open, update or close the repository's one drift issue after a drift run."""
    env = os.environ
    text = _read(report)
    with GitHub.from_env(env) as github:
        outcome = drift_issue.sync_drift_issue(github, text, drift_exit_code, run_url(env))
    console.note({
        drift_issue.Outcome.OPENED: "Drift found: opened an issue labelled "
                                    f"{drift_issue.LABEL}.",
        drift_issue.Outcome.UPDATED: "Drift found: updated the open drift issue.",
        drift_issue.Outcome.UNCHANGED: "Drift found: the open drift issue already says so.",
        drift_issue.Outcome.CLOSED: "No drift: closed the drift issue.",
        drift_issue.Outcome.NOTHING: "No drift, and no drift issue open.",
        drift_issue.Outcome.UNDECIDED: f"The drift run exited {drift_exit_code} (it could not "
                                       "check everything): the drift issue is left as it is.",
    }[outcome])
    return OK


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StatusyncError(f"cannot read {path}: {exc}") from None


def _notice(console: Console, text: str) -> None:
    if on_actions(os.environ):
        console.err.write(workflow_command("notice", text, title="statusync") + "\n")
    else:
        console.note(text)
