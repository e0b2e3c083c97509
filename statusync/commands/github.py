"""`statusync github plan-comment` and `statusync github drift-issue`: what the workflows do on
GitHub after `plan` and `drift`, with the job's token (GITHUB_TOKEN).

Both act only on what the token's own identity wrote (github.identity); `--bot-login` names who
an App installation token writes as. A rate limit that outlasts the retries fails the step: it
says nothing about the token, so it is never taken for a fork's read-only token.

The plan comment also says, at its top, when the pull request changes the state or its catalog
(github.state_edits): such an edit can hide a change from the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from statusync.console import Console, plural
from statusync.environment import env_value
from statusync.errors import CHANGES, OK, InvalidInput, Problem, StatusyncError
from statusync.files.settings import SETTINGS_FILE
from statusync.github import comment, drift_issue, identity, state_edits
from statusync.github.annotations import workflow_command
from statusync.github.no_plan import no_plan_markdown
from statusync.github.rest import GitHub, GitHubError
from statusync.github.runner import event_pull_request, on_actions, run_url
from statusync.github.summary import append_summary
from statusync.sendcloud.urls import API_URL_ENV

# What a job needs to read and write the plan comment (`pull-requests: write` grants both).
_COMMENT_FIX = (
    "give the job the `pull-requests: write` permission (`permissions: pull-requests: write` "
    "in the workflow, as statusync-plan.yml has it), or a token with Pull requests: Read and write"
)


def run_plan_comment(
    console: Console,
    *,
    env: Mapping[str, str],
    pull_request: int | None,
    body: str,
    plan_exit_code: int | None,
    bot_login: str | None,
    sleep: Callable[[float], None],
) -> int:
    """Show the plan in the pull request's one plan comment. `plan_exit_code` is what
    `plan --detailed-exitcode` exited with (2 changes, 0 none; anything else: no plan was made,
    and the comment says so); without it, the plan counts as having changes. `env` is the
    runner's environment: the token, the repository, the event."""
    number = pull_request or event_pull_request(env)
    if number is None:
        raise StatusyncError(
            "no pull request to comment on: give --pr N (on a pull_request event it is read from the event)"
        )
    bot = _bot(bot_login, env)
    planned = plan_exit_code in (None, OK, CHANGES)
    if planned and not body.strip():
        raise StatusyncError(
            "--body is empty: give the file holding the plan's markdown (the "
            "plan step's output-file); it may be empty only when the plan "
            "failed or did not run (--plan-exit-code 1, or empty)"
        )
    plan = _read(Path(body)) if planned else no_plan_markdown(*_why_no_plan(env), run_url(env))
    with GitHub.from_env(env, sleep=sleep) as github:
        writer = identity.token_identity(github, bot)
        edits = _state_edits(github, number, env)
        if (warning := state_edits.warning_text(edits)) is not None:
            _say(console, env, "warning", warning)
            # Also beside the plan in the job summary: a fork's token cannot comment.
            markdown = state_edits.warning_markdown(edits)
            append_summary(lambda out: print(markdown, file=out, end=""), env, console)
        try:
            synced = comment.sync_plan_comment(
                github,
                number,
                state_edits.warning_markdown(edits) + plan,
                identity=writer,
                # An edited state (or one that could not be checked) is worth a comment even on
                # a plan without changes: hiding a change behind "No changes" is what such an
                # edit can do.
                has_changes=plan_exit_code != OK or edits.worth_saying,
            )
        except GitHubError as exc:
            if exc.status == 403 and not exc.write and not exc.rate_limited:
                # GitHub's "Resource not accessible by integration" does not say what is
                # missing: a private repository's comments need the permission to read them.
                raise GitHubError(
                    f"{exc}; the token may not read the pull request's comments: {_COMMENT_FIX}",
                    status=exc.status,
                ) from None
            if not (exc.denied and exc.write):
                raise  # reading the comments must work: a 404 there is a wrong number or repo
            # A pull request from a fork runs with a read-only token: it cannot comment, and
            # that is no failure of the pull request. Its plan is in the job summary. The same
            # answer comes to a job whose workflow leaves the permission out: say the fix too.
            _say(
                console,
                env,
                "notice",
                f"Could not comment on pull request #{number} ({exc}); "
                "a pull request from a fork (or Dependabot's) gets a read-only token. The plan "
                f"is in the job summary. Otherwise {_COMMENT_FIX}.",
            )
            return OK
    if synced.ignored:
        _say(
            console,
            env,
            "warning",
            f"Ignored {plural(len(synced.ignored), 'comment')} carrying "
            f"the plan marker by {', '.join(synced.ignored)}: only one "
            f"written by {writer} (the token's identity) is the plan "
            "comment.",
        )
    what = "the plan" if planned else "that there is no plan"
    console.note(
        {
            comment.CommentResult.CREATED: f"Commented {what} on pull request #{number}.",
            comment.CommentResult.UPDATED: f"Updated the plan comment on pull request #{number} "
            f"to show {what}.",
            comment.CommentResult.UNCHANGED: f"The plan comment on pull request #{number} already "
            f"shows {'this plan' if planned else 'that there is no plan'}.",
            comment.CommentResult.SKIPPED: "No changes and no plan comment yet: nothing to comment.",
        }[synced.outcome]
    )
    return OK


def _state_edits(github: GitHub, number: int, env: Mapping[str, str]) -> state_edits.StateEdits:
    """Whether the pull request changes the state or its catalog, at the paths the workspace
    gives them (statusync.yaml's `state:`), relative to the repository's root."""
    from statusync.workspace import Workspace

    cwd = Path.cwd()
    try:
        # The file's own api_url, which a pull request may change: not the runner's override.
        ws = Workspace.open(None, None, env={k: v for k, v in env.items() if k != API_URL_ENV}, root=cwd)
    except StatusyncError as exc:
        return state_edits.StateEdits(unchecked=f"the workspace could not be read: {exc}")
    root = state_edits.repository_root(env, cwd)
    guarded = state_edits.guarded_files(ws.state_path, root)
    settings = state_edits.settings_files(ws.root / SETTINGS_FILE, root)
    edits = state_edits.check_state_edits(github, number, guarded, settings)
    if not edits.settings:
        return edits
    destinations = state_edits.key_destinations(ws.settings)
    return replace(edits, destinations=destinations, state=ws.settings.state)


def _why_no_plan(env: Mapping[str, str]) -> tuple[list[Problem], str | None]:
    """Why plan failed, found again as plan finds it (offline): the files' problems, or the
    error that stopped it; neither when it fails no more (the job's log says why it did)."""
    from statusync.workspace import Workspace

    try:
        ws = Workspace.open(None, None, env=env, root=Path.cwd())
        ws.specs()  # the files first: what a pull request most likely broke
        ws.state()
    except InvalidInput as exc:
        return exc.problems, None
    except StatusyncError as exc:
        return [], str(exc)
    return [], None


def run_drift_issue(
    console: Console,
    *,
    env: Mapping[str, str],
    report: Path,
    drift_exit_code: int,
    bot_login: str | None,
    sleep: Callable[[float], None],
) -> int:
    """Open, update or close the repository's one drift issue after a drift run."""
    text = _read(report)
    bot = _bot(bot_login, env)
    with GitHub.from_env(env, sleep=sleep) as github:
        outcome = drift_issue.sync_drift_issue(github, text, drift_exit_code, run_url(env), bot)
    console.note(
        {
            drift_issue.IssueResult.OPENED: f"Drift found: opened an issue labelled {drift_issue.LABEL}.",
            drift_issue.IssueResult.UPDATED: "Drift found: updated the open drift issue.",
            drift_issue.IssueResult.UNCHANGED: "Drift found: the open drift issue already says so.",
            drift_issue.IssueResult.CLOSED: "No drift: closed the drift issue.",
            drift_issue.IssueResult.NOTHING: "No drift, and no drift issue open.",
            drift_issue.IssueResult.UNDECIDED: f"The drift run exited {drift_exit_code} (it could "
            "not check everything): the drift issue is left as it is.",
        }[outcome]
    )
    return OK


def _bot(option: str | None, env: Mapping[str, str]) -> str:
    """Who an App installation token writes as: --bot-login, else STATUSYNC_BOT_LOGIN (set but
    empty is an error, as for every variable statusync reads)."""
    if option is not None:
        return identity.bot_login(option)
    return identity.bot_login(env_value(env, identity.BOT_LOGIN_ENV, "set it to the App's bot login"))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StatusyncError(f"cannot read {path}: {exc}") from None


def _say(console: Console, env: Mapping[str, str], level: str, text: str) -> None:
    """A notice or warning: an annotation of the run on GitHub Actions, a line elsewhere."""
    if on_actions(env):
        console.err.write(workflow_command(level, text, title="statusync") + "\n")
    else:
        console.note(text if level == "notice" else f"{level}: {text}")
