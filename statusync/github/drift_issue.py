"""The one open issue that reports drift, labelled `statusync-drift`.

Opened when a drift run finds drift, its body replaced by each later report while the drift
lasts (an edit notifies nobody, unlike a comment a night), and closed with a comment once a run
finds everything in sync. A run that could not check everything (exit 1) decides nothing: the
issue stays as it is, and the failed job says why.

The drift issue is the oldest open issue with the label written by the identity of the token in
use (github.identity): an issue with the label opened by anyone else is never edited, closed or
counted as the report, so nobody can make a drift report say what they like, or close it.
"""

from __future__ import annotations

import enum
from typing import Any

from statusync.errors import CHANGES, OK
from statusync.github.identity import ACTIONS_BOT, Identity, token_identity
from statusync.github.rest import GitHub, GitHubError

LABEL = "statusync-drift"
_LABEL_COLOR = "d93f0b"
_LABEL_DESCRIPTION = "statusync found live mappings that differ from the files"
TITLE = "statusync: live mappings differ from the files"
BODY_LIMIT = 65_536
_TRUNCATED = "\n\n*The report was cut here: see the job summary of the run for all of it.*"


class IssueResult(enum.Enum):
    OPENED = "opened"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CLOSED = "closed"
    NOTHING = "nothing"  # no drift, no issue
    UNDECIDED = "undecided"  # the drift run failed: the issue is left alone


def issue_body(report: str, run_url: str | None) -> str:
    link = f"[this run]({run_url})" if run_url else "the latest drift run"
    footer = (
        f"\n\n---\n*Reported by statusync drift; {link} updated it. "
        "This issue is closed automatically once no drift is left.*\n"
    )
    report = report.rstrip()
    # GitHub refuses a longer body (422). The markdown report keeps within its own budget; this
    # only guards against a report made some other way.
    room = BODY_LIMIT - len(footer)
    if len(report) > room:
        report = report[: room - len(_TRUNCATED)] + _TRUNCATED
    return report + footer


def find_drift_issue(github: GitHub, identity: Identity) -> dict[str, Any] | None:
    """The oldest open issue with the label written by `identity` (the listing includes pull
    requests: skipped)."""
    issues = github.pages(
        github.repo_path("issues"), {"labels": LABEL, "state": "open", "sort": "created", "direction": "asc"}
    )
    return next((issue for issue in issues if "pull_request" not in issue and identity.wrote(issue)), None)


def ensure_label(github: GitHub) -> None:
    try:
        github.get(github.repo_path("labels", LABEL))
        return
    except GitHubError as exc:
        if exc.status != 404:
            raise
    try:
        github.post(
            github.repo_path("labels"),
            {"name": LABEL, "color": _LABEL_COLOR, "description": _LABEL_DESCRIPTION},
        )
    except GitHubError as exc:
        if exc.status != 422:  # created meanwhile by another run: just as good
            raise


def sync_drift_issue(
    github: GitHub, report: str, drift_exit_code: int, run_url: str | None, bot: str = ACTIONS_BOT
) -> IssueResult:
    """Bring the drift issue written by the token's identity in line with a drift run that
    exited `drift_exit_code` (0 in sync, 2 drift found) and printed `report` (markdown). `bot`
    is who an installation token writes as (github.identity)."""
    if drift_exit_code not in (OK, CHANGES):
        return IssueResult.UNDECIDED
    try:
        return _sync(github, report, drift_exit_code, run_url, token_identity(github, bot))
    except GitHubError as exc:
        # GitHub's "Resource not accessible by integration" does not say what is missing; a
        # job's token lacks `issues: write` unless the workflow's permissions grant it.
        if exc.status != 403 or exc.rate_limited:
            raise
        raise GitHubError(
            f"{exc}; the token may not write issues: give the job the `issues: write` "
            "permission (`permissions: issues: write` in the workflow, as statusync-drift.yml "
            "has it), or a token with Issues: Read and write",
            status=exc.status,
            write=exc.write,
        ) from None


def _sync(
    github: GitHub, report: str, drift_exit_code: int, run_url: str | None, identity: Identity
) -> IssueResult:
    issue = find_drift_issue(github, identity)
    if drift_exit_code == OK:
        if issue is None:
            return IssueResult.NOTHING
        link = f" ([run]({run_url}))" if run_url else ""
        github.post(
            github.repo_path("issues", issue["number"], "comments"),
            {"body": f"statusync drift found every integration in sync{link}: closing."},
        )
        github.patch(
            github.repo_path("issues", issue["number"]), {"state": "closed", "state_reason": "completed"}
        )
        return IssueResult.CLOSED
    body = issue_body(report, run_url)
    if issue is None:
        ensure_label(github)
        created = github.post(github.repo_path("issues"), {"title": TITLE, "body": body, "labels": [LABEL]})
        identity.check_wrote(created, "drift issue")
        return IssueResult.OPENED
    if issue.get("body") == body:
        return IssueResult.UNCHANGED
    github.patch(github.repo_path("issues", issue["number"]), {"body": body})
    return IssueResult.UPDATED
