"""After a run with --push: commit the files it wrote (the state, and for import the mapping
files) on top of the upstream commit it started from, and push; when someone pushed first, build
the commit again on top of theirs, with the state merged, and push again.

Commits are made with git's plumbing on a private index, so the user's index and work tree are
never touched beyond the recorded files, and nothing depends on the user's merge configuration.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from statusync.errors import StatusyncError
from statusync.repo.git import FALLBACK_IDENTITY, Git, GitError, explain
from statusync.repo.upstream import Upstream, fetched

MAX_ATTEMPTS = 5

# merge(base, ours, theirs) -> the merged bytes of the state file, or None when theirs records
# everything ours does already (base, theirs None: no such file there).
MergeState = Callable[[bytes | None, bytes, bytes | None], bytes | None]


@dataclass(frozen=True)
class Published:
    commit: str | None           # None: nothing to record, nothing was committed
    attempts: int = 0            # pushes it took
    warning: str | None = None   # pushed, but something is left for the user to do
    # The upstream held everything already (another run pushed the same records first).
    already_there: bool = False


class NotPushed(StatusyncError):
    """The files were committed on the local branch but did not reach the upstream."""

    def __init__(self, reason: str, commit: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.commit = commit


def publish(git: Git, upstream: Upstream, files: Mapping[str, bytes], state_file: str,
            message: str, merge: MergeState, *, attempts: int = MAX_ATTEMPTS) -> Published:
    """Commit `files` (path relative to the top of the work tree → the bytes the run wrote) on
    the branch, on top of `upstream.start`, and push the commit to the upstream.

    A rejected push is fetched and the commit made again on the new upstream, `state_file`
    merged with `merge` (base: the state at `upstream.start`), up to `attempts` pushes in all.
    NotPushed when they were all rejected, or when something else went wrong after the commit.
    """
    start = upstream.start
    blobs = {path: _blob(git, path, data) for path, data in files.items()}
    if all(_blob_at(git, start, path) == blob for path, blob in blobs.items()):
        return Published(None)
    local = _commit(git, start, blobs, message)
    # The branch takes the commit at once: if the push fails, the local commit holds the state.
    git.run("update-ref", "-m", message, f"refs/heads/{upstream.branch}", local, start)
    git.run("update-index", "--add", "--", *files)  # the index agrees with the new HEAD
    try:
        return _push_until_taken(git, upstream, local, files, state_file, message, merge,
                                 attempts)
    except StatusyncError as exc:
        if isinstance(exc, NotPushed):
            raise
        raise NotPushed(str(exc), local) from None


def _push_until_taken(git: Git, upstream: Upstream, local: str, files: Mapping[str, bytes],
                      state_file: str, message: str, merge: MergeState,
                      attempts: int) -> Published:
    base = git.blob(upstream.start, state_file)
    commit, reason = local, ""
    for attempt in range(1, attempts + 1):
        taken, reason = _push(git, upstream, commit)
        if taken:
            return Published(commit, attempt, None if commit == local else _follow(git, commit))
        if attempt == attempts:
            break
        # Someone pushed first: make the commit again on top of theirs, the state merged.
        git.run("fetch", "--quiet", "--no-tags", upstream.remote, upstream.merge_ref)
        newest = fetched(git)
        theirs = git.blob(newest, state_file)
        merged = merge(base, files[state_file], theirs)
        blobs = {path: _blob(git, path, data) for path, data in files.items()}
        # None from merge: theirs holds it all, and the commit is then empty.
        blobs[state_file] = _blob(git, state_file, merged or theirs or files[state_file])
        commit = _commit(git, newest, blobs, message)
        if _tree(git, commit) == _tree(git, newest):
            return Published(newest, attempt, _follow(git, newest), already_there=True)
    raise NotPushed(f"the push was rejected {attempts} times (last: {reason})", local)


def _push(git: Git, upstream: Upstream, commit: str) -> tuple[bool, str]:
    """Push `commit` to the upstream branch: (True, "") when it went, (False, why) when the
    remote rejected it (someone pushed first, or a hook refused); other failures (network,
    credentials) raise at once, since pushing again would meet them again."""
    done = git.run("push", "--porcelain", upstream.remote,
                   f"{commit}:{upstream.merge_ref}", check=False)
    if done.code == 0:
        return True, ""
    # --porcelain: one line per ref, "!" when it was rejected, with the reason last.
    for line in done.text.splitlines():
        if line.startswith("!"):
            return False, line.split("\t")[-1]
    raise GitError(f"git push failed: {explain(done.stderr) or f'exit {done.code}'}")


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
    done = git.run("reset", "--quiet", "--keep", commit, check=False)
    if done.code == 0:
        return None
    return (f"this checkout still holds the commit before the push ({explain(done.stderr)}); "
            f"to catch up, run: git reset --keep {commit}")
