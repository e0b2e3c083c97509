"""After a run with --push: commit the files it wrote (the state, and for import the mapping
files) on top of the upstream commit it started from, and push; when someone pushed first, build
the commit again on top of theirs, with the state merged, and push again.

Commits are made with git's plumbing on a private index, so the user's index and work tree are
never touched beyond the recorded files, and nothing depends on the user's merge configuration.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from statusync.errors import StatusyncError
from statusync.repo.git import FALLBACK_IDENTITY, Done, Git, GitError, explain
from statusync.repo.upstream import Upstream, fetched
from statusync.text import printable

MAX_ATTEMPTS = 10
# Before each new try after a rejection, a wait of a random share of this many seconds, doubled
# after every rejection up to the cap: jobs of one push (one per account) that all pushed at once
# would otherwise fetch, rebuild and push again in step, and only one of them lands per round.
FIRST_WAIT = 1.0
LONGEST_WAIT = 8.0

# merge(base, ours, theirs) -> the merged bytes of the state file, or None when theirs records
# everything ours does already (base, theirs None: no such file there).
MergeState = Callable[[bytes | None, bytes, bytes | None], bytes | None]
# recheck(start, newest) -> why the files may not be committed on `newest`, the upstream commit
# a rejected push is rebuilt on (start: the one the run began from); empty when they may.
Recheck = Callable[[str, str], list[str]]

# What git's porcelain output says of a push rejected only because the remote branch moved on:
# fetching and building the commit again on top is then the answer. Any other rejection (a
# hook, branch protection) would refuse the next push just the same.
_MOVED = ("(fetch first)", "(non-fast-forward)")
# The branch moved on while the remote was taking the push (after its check, before its update):
# "[remote rejected] (failed to update ref)", "cannot lock ref ...: is at X but expected Y".
_MOVED_DURING = "but expected"
# The remote's own words shown with a refusal, at most.
_REMOTE_LINES = 20
PROTECTED_HINT = (
    "If the branch is protected (a rule or ruleset requiring pull requests, reviews or status "
    "checks), the job's credentials must be allowed to bypass it: see \"A protected main "
    "branch\" in statusync's README (a token saved as the secret STATUSYNC_PUSH_TOKEN)"
)


@dataclass(frozen=True)
class Published:
    commit: str | None  # None: nothing to record, nothing was committed
    attempts: int = 0  # pushes it took
    warning: str | None = None  # pushed, but something is left for the user to do
    # The upstream held everything already (another run pushed the same records first).
    already_there: bool = False
    # A stop signal (Ctrl-C, SIGTERM) came during the push, which went through all the same.
    interrupted: bool = False


class NotPushed(StatusyncError):
    """The files were committed on the local branch but did not reach the upstream."""

    def __init__(self, reason: str, commit: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.commit = commit


class Conflict(NotPushed):
    """The upstream moved on in a way the files cannot be committed on top of (`recheck`)."""


def publish(
    git: Git,
    upstream: Upstream,
    files: Mapping[str, bytes],
    state_file: str,
    message: str,
    merge: MergeState,
    *,
    attempts: int = MAX_ATTEMPTS,
    recheck: Recheck | None = None,
    also_merged: Mapping[str, MergeState] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Published:
    """Commit `files` (path relative to the top of the work tree → the bytes the run wrote) on
    the branch, on top of `upstream.start`, and push the commit to the upstream.

    A push rejected because the upstream moved on is fetched and the commit made again on the
    new upstream, `state_file` merged with `merge` (base: the state at `upstream.start`), after
    `recheck` found nothing against it, up to `attempts` pushes in all; the files of
    `also_merged` (the status catalog) are merged with their own merge the same way. NotPushed when they
    were all rejected, when the remote refused it for another reason, or when something else
    went wrong (or a stop signal came) after the commit.
    """
    start = upstream.start
    blobs = {path: _blob(git, path, data) for path, data in files.items()}
    if all(_blob_at(git, start, path) == blob for path, blob in blobs.items()):
        return Published(None)
    local = _commit(git, start, blobs, message)
    # The branch takes the commit at once: if the push fails, the local commit holds the state.
    git.run("update-ref", "-m", message, f"refs/heads/{upstream.branch}", local, start)
    git.run("update-index", "--add", "--", *files)  # the index agrees with the new HEAD
    return push_commit(
        git, upstream, local, files, state_file, message, merge, attempts, recheck, also_merged, sleep
    )


def push_commit(
    git: Git,
    upstream: Upstream,
    local: str,
    files: Mapping[str, bytes],
    state_file: str,
    message: str,
    merge: MergeState,
    attempts: int = MAX_ATTEMPTS,
    recheck: Recheck | None = None,
    also_merged: Mapping[str, MergeState] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Published:
    """Push `local`, the branch's commit of `files` on top of `upstream.start`, as `publish`
    does; also what pushes the state commit a run interrupted during its push left behind."""
    try:
        mergers = {state_file: merge, **(also_merged or {})}
        return _push_until_taken(git, upstream, local, files, mergers, message, attempts, recheck, sleep)
    except KeyboardInterrupt:
        # Between two pushes (a fetch, a commit being built): none of them went through.
        raise NotPushed("stopped (Ctrl-C or SIGTERM) before the push went through", local) from None
    except StatusyncError as exc:
        if isinstance(exc, NotPushed):
            raise
        raise NotPushed(str(exc), local) from None


def _push_until_taken(
    git: Git,
    upstream: Upstream,
    local: str,
    files: Mapping[str, bytes],
    mergers: Mapping[str, MergeState],
    message: str,
    attempts: int,
    recheck: Recheck | None,
    sleep: Callable[[float], None],
) -> Published:
    bases = {path: git.blob(upstream.start, path) for path in mergers if path in files}
    commit, reason = local, ""
    for attempt in range(1, attempts + 1):
        taken, reason, interrupted = _push(git, upstream, commit)
        if interrupted and not taken:
            raise NotPushed(f"stopped (Ctrl-C or SIGTERM) during the push; {reason}", local)
        if taken:
            return Published(
                commit, attempt, None if commit == local else _follow(git, commit), interrupted=interrupted
            )
        if attempt == attempts:
            break
        # Someone pushed first: make the commit again on top of theirs, the state merged.
        sleep(random.uniform(0, min(LONGEST_WAIT, FIRST_WAIT * 2 ** (attempt - 1))))
        git.run("fetch", "--quiet", "--no-tags", upstream.remote, upstream.merge_ref)
        newest = fetched(git)
        if recheck is not None and (problems := recheck(upstream.start, newest)):
            raise Conflict("; ".join(problems), local)
        blobs = {path: _blob(git, path, data) for path, data in files.items()}
        for path, base in bases.items():
            theirs = git.blob(newest, path)
            merged = mergers[path](base, files[path], theirs)
            # None from merge: theirs holds it all, and the commit is then empty.
            blobs[path] = _blob(git, path, merged or theirs or files[path])
        commit = _commit(git, newest, blobs, message)
        if _tree(git, commit) == _tree(git, newest):
            return Published(newest, attempt, _follow(git, newest), already_there=True)
    raise NotPushed(
        f"the push was rejected {attempts} times, the upstream moving on every time (last: {reason})", local
    )


def _push(git: Git, upstream: Upstream, commit: str) -> tuple[bool, str, bool]:
    """Push `commit` to the upstream branch: (taken, why not, interrupted). A rejection because
    the upstream moved on is returned, to be fetched and tried again; any other failure (a hook
    or branch protection refusing it, the network, credentials) raises at once, since pushing
    again would meet it again. A stop signal during the push lets it finish: its outcome is
    then known, and reported."""
    done = git.run(
        "push", "--porcelain", upstream.remote, f"{commit}:{upstream.merge_ref}", check=False, let_finish=True
    )
    if done.code == 0:
        return True, "", done.interrupted
    if done.interrupted:  # git itself was stopped too (Ctrl-C reaches it): ask the remote
        taken = _remote_has(git, upstream, commit)
        return taken, "" if taken else f"{upstream.name} does not have it", True
    # --porcelain: one line per ref, "!" when it was rejected, with the reason last.
    for line in done.text.splitlines():
        if not line.startswith("!"):
            continue
        reason = printable(line.split("\t")[-1])
        if any(moved in reason for moved in _MOVED) or _MOVED_DURING in reason + done.stderr:
            return False, reason, False
        said = _remote_said(done.stderr)
        raise GitError(
            f"{upstream.name} refused the push: {reason}"
            + (f"; the remote said:\n  {said}" if said else "")
            + f"\n{PROTECTED_HINT}"
        )
    raise GitError(f"git push failed: {explain(done.stderr) or f'exit {done.code}'}")


def _remote_has(git: Git, upstream: Upstream, commit: str) -> bool:
    """Whether the upstream branch is at `commit` now; False when that cannot be told."""
    try:
        done = git.run("ls-remote", upstream.remote, upstream.merge_ref, check=False)
    except KeyboardInterrupt:  # asked twice: no more waiting
        return False
    return done.code == 0 and done.text.split("\t")[0] == commit


def _remote_said(stderr: str) -> str:
    """The `remote:` lines of git's output (a hook's or the server's explanation), escaped:
    the remote writes what it wants, and it reaches a terminal or a CI log. Credentials are
    gone already (Git.run redacts all git says)."""
    lines = [
        printable(line.rstrip())
        for line in stderr.splitlines()
        if line.startswith("remote:") and line[len("remote:") :].strip()
    ]
    if len(lines) > _REMOTE_LINES:
        lines = lines[:_REMOTE_LINES] + ["..."]
    return "\n  ".join(lines)


def _blob(git: Git, path: str, data: bytes) -> str:
    """Store `data` as the content of `path` (with the filters `git add` would apply)."""
    return git.out("hash-object", "-w", "--stdin", "--path", path, input=data)


def _blob_at(git: Git, commit: str, path: str) -> str | None:
    return git.value("rev-parse", "--verify", "--quiet", f"{commit}:{path}")


def _tree(git: Git, commit: str) -> str:
    return git.out("rev-parse", f"{commit}^{{tree}}")


def _commit(git: Git, parent: str, blobs: Mapping[str, str], message: str) -> str:
    """A commit of `parent`'s tree with the files in `blobs` replaced, made on a private index."""
    with tempfile.TemporaryDirectory(prefix="statusync-index-") as tmp:
        private = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        git.run("read-tree", parent, env=private)
        for path, blob in blobs.items():
            git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=private)
        tree = git.out("write-tree", env=private)
    return git.run(*_identity(git), "commit-tree", tree, "-p", parent, "-m", message).text


def _identity(git: Git) -> list[str]:
    """`-c` options giving the commit a fixed author when git has none configured."""
    if git.value("config", "user.name") and git.value("config", "user.email"):
        return []
    name, email = FALLBACK_IDENTITY
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def _follow(git: Git, commit: str) -> str | None:
    """Move the branch and the work tree to `commit`, the pushed one, keeping local changes to
    other files; when one of them is in the way, say what to run instead of failing the push."""
    try:  # let finish: a reset killed halfway leaves the work tree between two commits
        done = git.run("reset", "--quiet", "--keep", commit, check=False, let_finish=True)
    except KeyboardInterrupt:
        done = Done(1, b"", "stopped (Ctrl-C or SIGTERM)")
    if done.code == 0:
        return None
    return (
        f"this checkout still holds the commit before the push ({explain(done.stderr)}); "
        f"to catch up, run: git reset --keep {commit}"
    )
