"""The one pull-request comment that holds the plan.

It is found by a hidden marker on its first line, `<!-- statusync-plan sha256:… -->`, holding
the hash of the plan it shows: every push updates that comment in place instead of adding one
(no notification storm), and a push that leaves the plan as it was does not touch it at all (the
whole body is compared, not only the marker: a comment of ours edited by someone else under an
intact marker is put right). A pull
request whose plan has no changes gets no comment, unless it has one already: that one is
updated to say so, as a stale plan left on a pull request would mislead its reviewers.

The plan comment is the first that carries the marker *and* is written by the identity of the
token in use (github.identity): a look-alike by anyone else is never edited, never counted as
"already shows this plan", and does not stop statusync from posting its own.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

from statusync.github.identity import Identity, authors
from statusync.github.rest import GitHub

MARKER_PREFIX = "<!-- statusync-plan"
# GitHub refuses a comment body longer than 65,536 characters. The markdown plan keeps within
# its own budget; this only guards against a body made some other way.
BODY_LIMIT = 65_536
_TRUNCATED = "\n\n*The plan was cut here: see the job summary of the run for all of it.*\n"


class CommentResult(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the comment already shows this plan
    SKIPPED = "skipped"  # no changes and no comment yet: nothing to say


@dataclass(frozen=True)
class Synced:
    outcome: CommentResult
    ignored: list[str] = field(default_factory=list)  # who wrote look-alikes, left alone


def plan_hash(plan: str) -> str:
    # Line endings normalised: the same plan is the same hash whichever way the file was written.
    return hashlib.sha256(plan.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def comment_body(plan: str) -> str:
    body = f"<!-- statusync-plan sha256:{plan_hash(plan)} -->\n{plan}"
    if len(body) > BODY_LIMIT:
        body = body[: BODY_LIMIT - len(_TRUNCATED)] + _TRUNCATED
    return body


def find_plan_comment(
    github: GitHub, pull_request: int, identity: Identity
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The pull request's plan comment: the first whose body starts with the marker (a reply
    quoting it starts with `>`, so it cannot be mistaken for it) written by `identity`; and the
    comments with the marker by anyone else, which are not it."""
    ours, others = None, []
    for comment in github.pages(github.repo_path("issues", pull_request, "comments"), {}):
        body = comment.get("body")
        if not (isinstance(body, str) and body.startswith(MARKER_PREFIX)):
            continue
        if not identity.wrote(comment):
            others.append(comment)
        elif ours is None:
            ours = comment
    return ours, others


def _normalised(body: str) -> str:
    return body.replace("\r\n", "\n")


def sync_plan_comment(
    github: GitHub, pull_request: int, plan: str, *, identity: Identity, has_changes: bool
) -> Synced:
    """Make the pull request's one plan comment, written by `identity`, show `plan` (markdown).
    A 403 or 404 on the write raises GitHubError with `denied` set, for the caller to decide
    what it means."""
    existing, others = find_plan_comment(github, pull_request, identity)
    ignored = authors(others)
    if existing is None:
        if not has_changes:
            return Synced(CommentResult.SKIPPED, ignored)
        created = github.post(
            github.repo_path("issues", pull_request, "comments"), {"body": comment_body(plan)}
        )
        identity.check_wrote(created, "plan comment")
        return Synced(CommentResult.CREATED, ignored)
    # The whole body, not the marker's hash: anyone with write access may edit our comment,
    # keep its first line and replace the plan under it.
    if _normalised(str(existing.get("body", ""))) == _normalised(comment_body(plan)):
        return Synced(CommentResult.UNCHANGED, ignored)
    github.patch(github.repo_path("issues", "comments", existing["id"]), {"body": comment_body(plan)})
    return Synced(CommentResult.UPDATED, ignored)
