"""Before a run with --push: check that the checkout can record its state, then bring it to the
newest commit of its branch's upstream.

A run applies the newest upstream, never the commit that triggered it: a job re-run days later,
or one whose commit was followed by a revert, must not roll live back. Every check here is made
before the first request, so a refusal costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from statusync.repo.git import Git, GitError, redact
from statusync.text import printable


@dataclass(frozen=True)
class Upstream:
    """The branch a run records its state on, and where it started from."""

    branch: str  # main
    remote: str  # origin
    merge_ref: str  # refs/heads/main, the branch on the remote
    start: str  # the upstream commit the run applied (HEAD after the sync)
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
        raise GitError(
            "--push needs a branch checked out, and HEAD is detached; check out the "
            "branch the state is recorded on (for example: git checkout main)"
        )
    remote = git.value("config", "--get", f"branch.{branch}.remote")
    merge_ref = git.value("config", "--get", f"branch.{branch}.merge")
    if remote is None or merge_ref is None:
        raise GitError(
            f"--push needs an upstream branch to push the state to, and branch "
            f"'{branch}' has none; {_set_upstream_hint(git, branch)}"
        )
    if remote == ".":
        raise GitError(
            f"the upstream of branch '{branch}' is the local branch {merge_ref}; "
            "--push needs a branch on a remote"
        )
    _refuse_local_changes(git, inputs)
    git.run("fetch", "--quiet", "--no-tags", remote, merge_ref)
    newest = fetched(git)
    ahead, behind = map(int, git.out("rev-list", "--left-right", "--count", f"HEAD...{newest}").split())
    upstream = Upstream(branch, remote, merge_ref, newest, behind)
    if ahead:
        them = "them" if ahead != 1 else "it"
        pull = "git pull, then git push" if behind else "git push"
        raise Ahead(
            f"branch '{branch}' has {ahead} commit{'s' if ahead != 1 else ''} that "
            f"{upstream.name} does not have; --push applies the newest {upstream.name}, so push "
            f"{them} first ({pull}), or drop {them} with: git reset --keep {upstream.name}",
            upstream,
        )
    if behind:
        git.run("merge", "--ff-only", "--quiet", newest)
    return upstream


class Ahead(GitError):
    """The branch has commits its upstream does not have (`upstream.start` is the upstream's
    newest commit): a run interrupted during its push may have left its state commit there."""

    def __init__(self, message: str, upstream: Upstream) -> None:
        super().__init__(message)
        self.upstream = upstream


def _set_upstream_hint(git: Git, branch: str) -> str:
    """How to give `branch` an upstream: track the remote branch of that name when the last
    fetch saw one, else create it by pushing the branch."""
    remotes = git.out("remote").split()
    if not remotes:
        return (
            "the repository has no remote either; add one (git remote add origin URL), "
            f"then push the branch with: git push -u origin {branch}"
        )
    remote = "origin" if "origin" in remotes else remotes[0]
    if git.value("rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}"):
        return f"set one with: git branch --set-upstream-to={remote}/{branch}"
    return (
        f"{remote} has no branch '{branch}' (as of the last fetch); create it and track it "
        f"with: git push -u {remote} {branch}"
    )


def fetched(git: Git) -> str:
    """The commit the last fetch brought (one ref was fetched)."""
    return git.out("rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}")


def _refuse_local_changes(git: Git, inputs: Sequence[str]) -> None:
    staged = _paths(git.run("diff", "--cached", "--name-only", "-z").stdout)
    if staged:
        raise GitError(
            "--push commits the state file alone, and there are staged changes: "
            + _listed(staged)
            + "; commit them or unstage them (git restore --staged FILE) first"
        )
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *inputs)
    # -z: "XY path" entries ended by NUL, paths unquoted (nothing is staged, so no renames).
    files = [entry[3:] for entry in _paths(status.stdout)]
    if files:
        raise GitError(
            "--push applies and records only what is committed, and these files have local "
            "changes: "
            + _listed(files)
            + "; commit them, or restore them (git restore FILE; delete new files) first"
        )


def _paths(output: bytes) -> list[str]:
    """NUL-separated paths as git wrote them: bytes that are not UTF-8 kept as the stray bytes
    they are (printable shows them as \\xNN), not replaced by one sign for all."""
    return [os.fsdecode(p) for p in output.split(b"\0") if p]


def _listed(paths: Sequence[str]) -> str:
    # File names hold anything, control characters too: escaped like every name statusync shows.
    return ", ".join(map(printable, paths[:5])) + (" ..." if len(paths) > 5 else "")
