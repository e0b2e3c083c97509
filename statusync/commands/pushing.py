"""`--push` around a write run (apply, reconcile, import): sync the checkout to its upstream
before the state and the files are read, and commit and push what the run wrote at the end.

The git work is statusync.repo's; this module decides what to commit, and turns a push that did
not go through into a message naming what was applied but is not recorded upstream.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from statusync.commands.merge_state import merge_bytes
from statusync.console import Console, plural
from statusync.core.state import State
from statusync.core.state_merge import recorded_since
from statusync.core.text import printable
from statusync.errors import StatusyncError
from statusync.files.atomic import atomic_write
from statusync.files.settings import SETTINGS_FILE, load_settings
from statusync.files.state_file import dump_state, parse_state
from statusync.repo.git import Git, GitError
from statusync.repo.publish import NotPushed, publish
from statusync.repo.upstream import Upstream, sync_to_upstream
from statusync.workspace import Workspace

NOTHING = "Nothing to record: the state did not change; nothing was committed."


@dataclass(frozen=True)
class Push:
    """A run's checkout, synced to its upstream."""

    git: Git
    upstream: Upstream

    @classmethod
    def sync(cls, ws: Workspace, console: Console) -> tuple[Push, Workspace]:
        """Bring the checkout of `ws` to the newest upstream commit; return the workspace read
        again, since the settings may have changed with it."""
        git = Git.at(ws.root, ws.env)
        inputs = [_relative(git, p) for p in (ws.mappings_dir, ws.root / SETTINGS_FILE,
                                              ws.state_path)]
        upstream = sync_to_upstream(git, inputs)
        # Said in every CI log: a re-run of an old job applies this commit, not its own.
        newer = (f", {plural(upstream.behind, 'commit')} newer than the checkout"
                 if upstream.behind else "")
        console.note(f"Working on the newest {upstream.name}, {upstream.start[:12]}{newer}.")
        synced = _reopened(ws)
        if synced.state_path != ws.state_path:
            raise StatusyncError(
                f"{upstream.name} keeps the state in {synced.state_path} now (statusync.yaml "
                f"changed); the checkout is up to date, run the command again")
        return cls(git, upstream), synced

    def record(self, ws: Workspace, console: Console, written: Iterable[Path],
               message: str, *, after_error: bool = False) -> None:
        """Commit the state (and `written`, the mapping files import wrote) and push it.

        `after_error`: the run stopped with an error, which is what the user needs to read;
        only a commit is worth a word then."""
        state_file = _relative(self.git, ws.state_path)
        start = self.git.blob(self.upstream.start, state_file)
        if not written and self._unchanged(ws.state_path, start, state_file):
            if not after_error:
                console.note(NOTHING)
            return
        files = {_relative(self.git, p): p.read_bytes() for p in (ws.state_path, *written)}

        def merge(base: bytes | None, ours: bytes, theirs: bytes | None) -> bytes | None:
            merged = merge_bytes(base, ours, theirs, where=(
                f"{self.upstream.name} when this run started", "this run", self.upstream.name))
            for both in merged.both_changed:
                console.note(both.describe())
            if _records(merged.state) == _records(_parse(theirs, state_file)):
                return None
            return dump_state(merged.state)

        try:
            published = publish(self.git, self.upstream, files, state_file, message, merge)
        except StatusyncError as exc:
            local = exc.commit if isinstance(exc, NotPushed) else None
            reason = exc.reason if isinstance(exc, NotPushed) else str(exc)
            raise StatusyncError(self._not_recorded(reason, local, files, start,
                                                    state_file)) from None
        if published.commit is None:
            if not after_error:
                console.note(NOTHING)
        elif published.already_there:
            console.note(f"{self.upstream.name} records what this run did already (another run "
                         "pushed it first); nothing was committed.")
        else:
            tries = f" (after {published.attempts} tries)" if published.attempts > 1 else ""
            console.note(f"Recorded the state in commit {published.commit[:12]} and pushed it "
                         f"to {self.upstream.name}{tries}.")
        if published.warning:
            console.note(f"warning: {published.warning}")

    @staticmethod
    def _unchanged(path: Path, start: bytes | None, state_file: str) -> bool:
        """Whether the state at `path` records what it did at the start. The run may have
        written it all the same (with a new serial, after requests that were all refused): it
        is then put back as committed, so that the checkout stays clean for the next --push."""
        if not path.exists():
            return True
        try:
            if _records(parse_state(path.read_bytes(), state_file)) != _records(
                    _parse(start, state_file)):
                return False
        except StatusyncError:
            return False
        if start is None:
            path.unlink()
        else:
            atomic_write(path, start)
        return True

    def _not_recorded(self, reason: str, local: str | None, files: dict[str, bytes],
                      start: bytes | None, state_file: str) -> str:
        """What was applied but is not on the upstream, and where it is now."""
        try:
            written = recorded_since(_parse(start, state_file),
                                     parse_state(files[state_file], state_file))
        except StatusyncError:
            written = []
        lines = [f"the state was not recorded on {self.upstream.name}: {reason}"]
        if written:
            lines.append("Applied but not recorded upstream: " + ", ".join(
                f"integration {i} ({printable(record.file)})" for i, record in written))
        if others := sorted(set(files) - {state_file}):
            lines.append("Written but not committed upstream: " + ", ".join(map(printable, others)))
        where = (f"The local commit {local[:12]} on branch {self.upstream.branch} holds it: push "
                 "it (git pull, with the state's merge driver set up, then git push)"
                 if local else
                 "The files in this checkout hold it: commit them and push")
        lines.append(f"{where}; or let a run on the newest {self.upstream.name} send those "
                     "integrations again, which is harmless.")
        return "\n".join(lines)


def _parse(raw: bytes | None, state_file: str) -> State:
    return State() if raw is None else parse_state(raw, state_file)


def _records(state: State) -> tuple[object, object]:
    """What a state records, without its serial and lineage."""
    return dict(state.entries), dict(state.uncertain)


def _relative(git: Git, path: Path) -> str:
    """`path` relative to the top of the work tree, which it must be inside."""
    # Real paths on both sides: git gives the top level as one, and /tmp may be a symlink.
    real = Path(os.path.realpath(path.parent)) / path.name
    try:
        return real.relative_to(os.path.realpath(git.root)).as_posix()
    except ValueError:
        raise GitError(f"--push records files of the repository at {git.root}, and {path} is "
                       "outside it") from None


def _reopened(ws: Workspace) -> Workspace:
    """`ws` with the settings read again: paths given on the command line stay, the others
    follow the settings."""
    settings = load_settings(ws.root, ws.env)
    mappings = (ws.root / settings.mappings if ws.mappings_dir == ws.root / ws.settings.mappings
                else ws.mappings_dir)
    state = (ws.root / settings.state if ws.state_path == ws.root / ws.settings.state
             else ws.state_path)
    return replace(ws, settings=settings, mappings_dir=mappings, state_path=state)
