"""Before a run with --push: check that the checkout can record its state, then bring it to the
newest commit of its branch's upstream.

A run applies the newest upstream, never the commit that triggered it: a job re-run days later,
or one whose commit was followed by a revert, must not roll live back. Every check here is made
before the first request, so a refusal costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from statusync.repo.git import Git, GitError, redact


@dataclass(frozen=True)
class Upstream:
    """The branch a run records its state on, and where it started from."""

    branch: str      # main
    remote: str      # origin
    merge_ref: str   # refs/heads/main, the branch on the remote
    start: str       # the upstream commit the run applied (HEAD after the sync)
    behind: int = 0  # how many commits the checkout was behind it

    @property
    def name(self) -> str:
        # The remote is usually a name, but git allows a URL there too, with its credentials.
        short = self.merge_ref.removeprefix("refs/heads/")
        return redact(f"{self.remote}/{short}")


def sync_to_upstream(git: Git, inputs: Sequence[str]) -> Upstream:
    """Fetch the upstream of the current branch and fast-forward to it.

    `inputs` are the paths the run reads and writes (relative to the work tree's top): local
    changes to them would be applied, or recorded, without being on the upstream, so they are
    refused; changes to other files are left alone and never committed.
    """
    branch = git.value("symbolic-ref", "--quiet", "--short", "HEAD")
    if branch is None:
        raise GitError("--push needs a branch checked out, and HEAD is detached; check out the "
                       "branch the state is recorded on (for example: git checkout main)")
    remote = git.value("config", "--get", f"branch.{branch}.remote")
    merge_ref = git.value("config", "--get", f"branch.{branch}.merge")
    if remote is None or merge_ref is None:
        raise GitError(f"--push needs an upstream branch to push the state to, and branch "
                       f"'{branch}' has none; set one with: git branch --set-upstream-to="
                       f"origin/{branch}")
    if remote == ".":
        raise GitError(f"the upstream of branch '{branch}' is the local branch {merge_ref}; "
                       "--push needs a branch on a remote")
    _refuse_local_changes(git, inputs)
    git.run("fetch", "--quiet", "--no-tags", remote, merge_ref)
    newest = fetched(git)
    ahead, behind = map(int, git.out("rev-list", "--left-right", "--count",
                                     f"HEAD...{newest}").split())
    upstream = Upstream(branch, remote, merge_ref, newest, behind)
    if ahead:
        raise GitError(
            f"branch '{branch}' has {ahead} commit{'s' if ahead != 1 else ''} that "
            f"{upstream.name} does not have; --push applies the newest {upstream.name}, so push "
            f"them first, or drop them with: git reset --keep {upstream.name}")
    if behind:
        git.run("merge", "--ff-only", "--quiet", newest)
    return upstream


def fetched(git: Git) -> str:
    """The commit the last fetch brought (one ref was fetched)."""
    return git.out("rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}")


def _refuse_local_changes(git: Git, inputs: Sequence[str]) -> None:
    staged = [p for p in git.run("diff", "--cached", "--name-only", "-z").stdout.decode(
        "utf-8", "replace").split("\0") if p]
    if staged:
        raise GitError(
            "--push commits the state file alone, and there are staged changes: "
            + ", ".join(staged[:5]) + (" ..." if len(staged) > 5 else "")
            + "; commit them or unstage them (git restore --staged FILE) first")
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *inputs)
    # -z: "XY path" entries ended by NUL, paths unquoted (nothing is staged, so no renames).
    files = [entry[3:] for entry in status.stdout.decode("utf-8", "replace").split("\0") if entry]
    if files:
        raise GitError(
            "--push applies and records only what is committed, and these files have local "
            "changes: " + ", ".join(files[:5]) + (" ..." if len(files) > 5 else "")
            + "; commit them, or restore them (git restore FILE; delete new files) first")
