"""The one pull-request comment that holds the plan.

It is found by a hidden marker on its first line, `<!-- statusync-plan sha256:… -->`, holding
the hash of the plan it shows: every push updates that comment in place instead of adding one
(no notification storm), and a push that leaves the plan as it was does not touch it at all. A pull
request whose plan has no changes gets no comment, unless it has one already: that one is
updated to say so, as a stale plan left on a pull request would mislead its reviewers.
"""

from __future__ import annotations

import enum
import hashlib
import re
from typing import Any

from statusync.github.rest import GitHub

MARKER_PREFIX = "<!-- statusync-plan"
_MARKER = re.compile(r"<!-- statusync-plan sha256:([0-9a-f]{64}) -->")
# GitHub refuses a comment body longer than 65,536 characters. The markdown plan keeps within
# its own budget; this only guards against a body made some other way.
BODY_LIMIT = 65_536
_TRUNCATED = "\n\n*The plan was cut here: see the job summary of the run for all of it.*\n"


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"   # the comment already shows this plan
    SKIPPED = "skipped"       # no changes and no comment yet: nothing to say


def plan_hash(plan: str) -> str:
    # Line endings normalised: the same plan is the same hash whichever way the file was written.
    return hashlib.sha256(plan.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def comment_body(plan: str) -> str:
    body = f"<!-- statusync-plan sha256:{plan_hash(plan)} -->\n{plan}"
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT - len(_TRUNCATED)] + _TRUNCATED
    return body


def find_plan_comment(github: GitHub, pull_request: int) -> dict[str, Any] | None:
    """The pull request's plan comment: the first whose body starts with the marker (a reply
    quoting it starts with `>`, so it cannot be mistaken for it)."""
    for comment in github.pages(github.repo_path("issues", pull_request, "comments"), {}):
        body = comment.get("body")
        if isinstance(body, str) and body.startswith(MARKER_PREFIX):
            return comment
    return None


def shown_hash(comment: dict[str, Any]) -> str | None:
    match = _MARKER.match(str(comment.get("body", "")))
    return match.group(1) if match else None


def sync_plan_comment(github: GitHub, pull_request: int, plan: str, *,
                      has_changes: bool) -> Outcome:
    """Make the pull request's one plan comment show `plan` (markdown). A 403 or 404 on the
    write raises GitHubError with `denied` set, for the caller to decide what it means."""
    existing = find_plan_comment(github, pull_request)
    if existing is None:
        if not has_changes:
            return Outcome.SKIPPED
        github.post(github.repo_path("issues", pull_request, "comments"),
                    {"body": comment_body(plan)})
        return Outcome.CREATED
    if shown_hash(existing) == plan_hash(plan):
        return Outcome.UNCHANGED
    github.patch(github.repo_path("issues", "comments", existing["id"]),
                 {"body": comment_body(plan)})
    return Outcome.UPDATED
