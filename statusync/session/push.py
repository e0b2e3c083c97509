"""`--push` around a write session (apply, reconcile, import): sync the checkout to its upstream
before the state and the files are read, and commit and push what the run wrote at the end.

The git work is statusync.repo's; this module decides what to commit, and turns a push that did
not go through into a message naming what was applied but is not recorded upstream.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from statusync.console import Console, plural
from statusync.core.catalog import StatusCatalog
from statusync.core.state import State
from statusync.core.state_merge import recorded_since
from statusync.errors import StatusyncError
from statusync.files.atomic import atomic_write
from statusync.files.catalog_file import CATALOG_NAME, catalog_path, merge_catalog_bytes, parse_catalog
from statusync.files.mappings import parse_spec
from statusync.files.settings import SETTINGS_FILE, load_settings
from statusync.files.state_file import dump_state, merge_bytes, parse_state
from statusync.repo.git import Git, GitError
from statusync.repo.publish import Conflict, MergeState, NotPushed, Recheck, publish, push_commit
from statusync.repo.upstream import Ahead, Upstream, sync_to_upstream
from statusync.text import labelled, printable
from statusync.workspace import Workspace

NOTHING = "Nothing to record: the state did not change; nothing was committed."

# The commit that records a run's state (import gives its own): a run stopped during its push
# leaves commits with it, which the next --push run pushes first.
RECORD_MESSAGE = "statusync: record applied state"


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
        inputs = _inputs(git, ws)

        def sync() -> Upstream:
            try:
                return sync_to_upstream(git, inputs)
            except Ahead as ahead:
                state_file = _relative(git, ws.state_path)
                leftover = _leftover(git, ahead.upstream.start, state_file)
                if leftover is None:
                    raise
                _push_leftover(git, ahead.upstream, leftover, state_file, console, ws.retry_sleep)
                return sync_to_upstream(git, inputs)

        upstream = _keeping_reads(git, catalog_path(ws.state_path), console, sync)
        # Said in every CI log: a re-run of an old job applies this commit, not its own.
        newer = f", {plural(upstream.behind, 'commit')} newer than the checkout" if upstream.behind else ""
        console.note(f"Working on the newest {upstream.name}, {upstream.start[:12]}{newer}.")
        synced = _reopened(ws)
        if synced.state_path != ws.state_path:
            raise StatusyncError(
                f"{upstream.name} keeps the state in {synced.state_path} now (statusync.yaml "
                f"changed); the checkout is up to date, run the command again"
            )
        return cls(git, upstream), synced

    def record(
        self,
        ws: Workspace,
        console: Console,
        written: Iterable[Path],
        message: str,
        *,
        after_error: bool = False,
    ) -> None:
        """Commit the state and the status catalog beside it (and `written`, the mapping files
        import wrote) and push them.

        `after_error`: the run stopped with an error, which is what the user needs to read;
        only a commit is worth a word then."""
        state_file = _relative(self.git, ws.state_path)
        start = self.git.blob(self.upstream.start, state_file)
        catalog = catalog_path(ws.state_path)
        catalog_file = _relative(self.git, catalog)
        # The statuses read are committed with the state, and alone when what they say changed
        # (an apply whose every write was refused has read what the shops hold all the same);
        # a read that only finds what was recorded is not worth a commit of its own.
        if (
            not written
            and self._unchanged(ws.state_path, start, state_file)
            and self._same_statuses(catalog, self.git.blob(self.upstream.start, catalog_file))
        ):
            if not after_error:
                console.note(NOTHING)
            return
        paths = [p for p in (ws.state_path, catalog) if p.exists()] + list(written)
        files = {_relative(self.git, p): p.read_bytes() for p in paths}
        merge = _merger(self.upstream, state_file, console)
        try:
            published = publish(
                self.git,
                self.upstream,
                files,
                state_file,
                message,
                merge,
                recheck=self._import_recheck(ws, files, state_file),
                also_merged={catalog_file: _catalog_merger(self.upstream)} if catalog_file in files else None,
                sleep=ws.retry_sleep,
            )
        except Conflict as exc:
            raise StatusyncError(self._conflict(exc, files, state_file)) from None
        except StatusyncError as exc:
            local = exc.commit if isinstance(exc, NotPushed) else None
            reason = exc.reason if isinstance(exc, NotPushed) else str(exc)
            raise StatusyncError(
                self._not_recorded(reason, local, files, start, state_file, message)
            ) from None
        if published.commit is None:
            if not after_error:
                console.note(NOTHING)
        elif published.already_there:
            console.note(
                f"{self.upstream.name} records what this run did already (another run "
                "pushed it first); nothing was committed."
            )
        else:
            tries = f" (after {published.attempts} tries)" if published.attempts > 1 else ""
            console.note(
                f"Recorded the state in commit {published.commit[:12]} and pushed it "
                f"to {self.upstream.name}{tries}."
            )
        if published.interrupted:
            # The stop came while git pushed, and the push was let finish: the run is complete.
            console.note(
                "A stop signal (Ctrl-C or SIGTERM) came during the push, which went "
                "through: nothing is left to do."
            )
        if published.warning:
            console.note(f"warning: {published.warning}")

    @staticmethod
    def _unchanged(path: Path, start: bytes | None, state_file: str) -> bool:
        """Whether the state at `path` records what it did at the start. The run may have
        written it all the same (with a new serial, after requests that were all refused): it
        is then put back as committed, so that the checkout stays clean for the next --push."""
        return _put_back_if_same(
            path,
            start,
            lambda now, then: _records(parse_state(now, state_file)) == _records(_parse(then, state_file)),
        )

    @staticmethod
    def _same_statuses(path: Path, start: bytes | None) -> bool:
        """Whether the catalog at `path` says what it did at the start, but for when the reads
        were made; it is then put back as committed, so that the checkout stays clean."""
        return _put_back_if_same(
            path,
            start,
            lambda now, then: (
                _statuses(parse_catalog(now, path))
                == _statuses(StatusCatalog() if then is None else parse_catalog(then, path))
            ),
        )

    def _import_recheck(self, ws: Workspace, files: dict[str, bytes], state_file: str) -> Recheck | None:
        """Import's rule, checked again on an upstream that moved on while the import ran: a
        file it wrote must not replace one committed there meanwhile, nor may another file
        committed there meanwhile manage an integration it imported. Files already there when
        the run started were checked by import itself."""
        written = {
            path: data
            for path, data in files.items()
            if path != state_file and not path.endswith(f"/{CATALOG_NAME}") and path != CATALOG_NAME
        }
        if not written:
            return None
        imported: dict[int, str] = {}
        for path, data in written.items():
            try:
                imported[parse_spec(data.decode("utf-8"), path)[1].integration_id] = path
            except (StatusyncError, UnicodeDecodeError):  # import wrote it: cannot happen
                continue
        git, name = self.git, self.upstream.name
        mappings = _relative(git, Path(os.path.realpath(ws.mappings_dir)))

        def recheck(start: str, newest: str) -> list[str]:
            problems = []
            for path, data in sorted(written.items()):
                now = git.blob(newest, path)
                if now is not None and now != data and now != git.blob(start, path):
                    problems.append(
                        f"{printable(path)} was committed on {name} meanwhile, with "
                        "other content (the import would overwrite it)"
                    )
            changed = git.run(
                "diff", "--name-only", "--no-renames", "--diff-filter=AM", "-z", start, newest, "--", mappings
            ).stdout.split(b"\0")
            for raw in changed:
                path = os.fsdecode(raw)
                if not path.lower().endswith((".yaml", ".yml")) or path in written:
                    continue
                try:
                    blob = git.blob(newest, path) or b""
                    other = parse_spec(blob.decode("utf-8"), path)[1].integration_id
                except (StatusyncError, UnicodeDecodeError):
                    continue  # a broken file: validate and plan on main report it
                if other in imported:
                    problems.append(
                        f"integration {other} is now managed by {printable(path)} "
                        f"on {name} too (the import wrote "
                        f"{printable(imported[other])})"
                    )
            return problems

        return recheck

    def _conflict(self, exc: Conflict, files: dict[str, bytes], state_file: str) -> str:
        """Why an import was not pushed onto an upstream that moved on, and what to do."""
        name = self.upstream.name
        written = ", ".join(printable(p) for p in sorted(set(files) - {state_file}))
        return (
            f"the import was not pushed: {name} changed while it ran: {exc.reason}. Pushing it "
            "would leave two mapping files for one integration, or replace a teammate's file.\n"
            f"The local commit {exc.commit[:12]} on branch {self.upstream.branch} holds the "
            f"import ({written} and the state). The import only read Sendcloud, so dropping it "
            f"loses nothing: git reset --keep {name} (the checkout then matches {name}, whose "
            "file stays). To keep the imported file instead: git pull, leave one file for each "
            "integration, commit and push."
        )

    def _not_recorded(
        self,
        reason: str,
        local: str | None,
        files: dict[str, bytes],
        start: bytes | None,
        state_file: str,
        message: str,
    ) -> str:
        """What was applied but is not on the upstream, and where it is now."""
        try:
            written = recorded_since(_parse(start, state_file), _parse(files.get(state_file), state_file))
        except StatusyncError:
            written = []
        lines = [f"the state was not recorded on {self.upstream.name}: {reason}"]
        if written:
            lines.append(
                "Applied but not recorded upstream: "
                + ", ".join(f"integration {i} ({printable(record.file)})" for i, record in written)
            )
        if others := sorted(set(files) - {state_file, _beside(state_file)}):
            lines.append("Written but not committed upstream: " + ", ".join(map(printable, others)))
        name = self.upstream.name
        if local:
            # A state-only commit of statusync's is what the next --push run pushes first.
            rerun = (
                ", or run the command again with --push, which pushes it first"
                if not others and message == RECORD_MESSAGE
                else ""
            )
            where = (
                f"The local commit {local[:12]} on branch {self.upstream.branch} holds it: "
                f"push it with `git push` (if {name} moved on meanwhile, `git pull` first, "
                f"with the state's merge driver set up){rerun}"
            )
        else:
            where = "The files in this checkout hold it: commit them and push"
        lines.append(
            f"{where}; or let a run on the newest {name} send those integrations again, which is harmless."
        )
        return "\n".join(lines)


def _merger(upstream: Upstream, state_file: str, console: Console) -> MergeState:
    """The state of this run merged, as data, with the one someone pushed first."""

    def merge(base: bytes | None, ours: bytes, theirs: bytes | None) -> bytes | None:
        merged = merge_bytes(
            base, ours, theirs, where=(f"{upstream.name} when this run started", "this run", upstream.name)
        )
        for note in merged.notes():
            console.note(note)
        if _records(merged.state) == _records(_parse(theirs, state_file)):
            return None
        return dump_state(merged.state)

    return merge


def _catalog_merger(upstream: Upstream) -> MergeState:
    """The status catalog of this run merged with the one someone pushed first: per
    integration, the newest read wins."""

    def merge(base: bytes | None, ours: bytes, theirs: bytes | None) -> bytes | None:
        merged = merge_catalog_bytes(
            base, ours, theirs, where=(f"{upstream.name} when this run started", "this run", upstream.name)
        )
        return None if merged == theirs else merged

    return merge


def _keeping_reads(git: Git, catalog: Path, console: Console, sync: Callable[[], Upstream]) -> Upstream:
    """`sync()` with the status catalog's uncommitted reads set aside and merged back after.

    A run before this one in the same checkout (validate --remote, statuses --refresh) may
    have recorded reads the checkout's commit lacks; git refuses to fast-forward over them
    when the upstream changed the catalog too, so the committed catalog is put back for the
    sync, and the reads merged onto the upstream's afterwards, as a rejected push merges them."""
    if not catalog.exists():
        return sync()
    path = _relative(git, catalog)
    committed = git.blob("HEAD", path)
    local = catalog.read_bytes()
    if local == committed:
        return sync()
    if committed is None:
        catalog.unlink()
    else:
        atomic_write(catalog, committed)
    try:
        upstream = sync()
    except BaseException:
        atomic_write(catalog, local)  # the checkout as it was: a refusal costs no reads
        raise
    newest = git.blob(upstream.start, path)
    try:
        merged = merge_catalog_bytes(
            committed, local, newest, where=("the checkout's commit", "this checkout", upstream.name)
        )
    except StatusyncError as exc:
        # A cache of reads: the run reads again what it writes, so it goes on without them.
        console.note(labelled("warning: ", f"the shops' statuses read before this run were dropped: {exc}"))
        return upstream
    if merged != newest:
        atomic_write(catalog, merged)
    return upstream


def _leftover(git: Git, newest: str, state_file: str) -> list[str] | None:
    """The commits of the branch that the upstream (at `newest`) does not have, oldest first,
    when each is a state commit as statusync makes it: its message, one parent, the state file
    alone. That is what a run stopped during its push leaves; None for anything else, which
    is the user's to push or drop."""
    commits = git.out("rev-list", "--reverse", "--parents", f"{newest}..HEAD").splitlines()
    for line in commits:
        commit, *parents = line.split()
        if len(parents) != 1 or git.out("log", "-1", "--format=%B", commit) != RECORD_MESSAGE:
            return None
        touched = git.run("diff-tree", "--no-commit-id", "--name-only", "-r", "-z", commit).stdout.split(
            b"\0"
        )
        # The state, and the status catalog beside it, which is committed with it.
        if not {os.fsdecode(p) for p in touched if p} <= {state_file, _beside(state_file)}:
            return None
    return [line.split()[0] for line in commits] or None


def _push_leftover(
    git: Git,
    upstream: Upstream,
    commits: list[str],
    state_file: str,
    console: Console,
    sleep: Callable[[float], None],
) -> None:
    """Push the state commits a stopped run left on the branch, before this run starts: merged
    as data onto the newest upstream when it moved on, as after any rejected push."""
    head = commits[-1]
    # The upstream commit the stopped run started from: the base of its state.
    base = git.out("rev-parse", f"{commits[0]}^")
    catalog_file = _beside(state_file)
    files = {path: blob for path in (state_file, catalog_file) if (blob := git.blob(head, path)) is not None}
    name = upstream.name
    try:
        published = push_commit(
            git,
            replace(upstream, start=base),
            head,
            files,
            state_file,
            RECORD_MESSAGE,
            _merger(upstream, state_file, console),
            also_merged={catalog_file: _catalog_merger(upstream)} if catalog_file in files else None,
            sleep=sleep,
        )
    except NotPushed as exc:
        raise StatusyncError(
            f"branch '{upstream.branch}' holds the state commit {head[:12]} of an earlier run "
            f"that did not reach {name}, and pushing it now failed: {exc.reason}\n"
            f"Push it with `git push` (if {name} moved on, `git pull` first, with the state's "
            f"merge driver set up), or drop it with `git reset --keep {name}` (a run then sends "
            "the integrations it recorded again, which is harmless)."
        ) from None
    done = (
        "its records were there already"
        if published.already_there
        else f"in commit {published.commit[:12] if published.commit else head[:12]}"
    )
    console.note(
        f"Pushed the state commit {head[:12]} that an earlier run left on branch "
        f"'{upstream.branch}' to {name} ({done})."
    )


def _beside(state_file: str) -> str:
    """The status catalog's path beside the state's, both relative to the top of the work tree."""
    return posixpath.join(posixpath.dirname(state_file), CATALOG_NAME)


def _inputs(git: Git, ws: Workspace) -> list[str]:
    """What the run reads and writes, relative to the top of the work tree, as git status must
    see it: each path as given and as it resolves, and every link under the mappings directory
    as it resolves. git stops at a symbolic link (it tracks the link, not what it points at), so
    an edit made through `mappings -> conf` shows as a change to conf/ alone. A mapping file
    outside the repository is in no commit: --push could neither check it nor record it."""
    # (as given or as found, where it resolves to): a link is shown by its own name.
    paths: list[tuple[Path, Path]] = []
    # Not the status catalog: a run before this one in the same checkout (validate --remote,
    # statuses --refresh) may have recorded newer reads in it, which this run commits.
    for path in (ws.mappings_dir, ws.root / SETTINGS_FILE, ws.state_path):
        paths += [(path, path), (path, Path(os.path.realpath(path)))]
    paths += _links_under(ws.mappings_dir)
    inputs: list[str] = []
    for shown, path in paths:
        try:
            relative = _relative(git, path)
        except GitError:
            through = f" (a symbolic link to {printable(str(path))})" if shown != path else ""
            raise GitError(
                f"--push applies and records only what is committed, and {printable(str(shown))}"
                f"{through} is outside the repository at {printable(str(git.root))}; move those "
                "files into the repository, or run without --push"
            ) from None
        if relative not in inputs:
            inputs.append(relative)
    return inputs


def _links_under(directory: Path) -> list[tuple[Path, Path]]:
    """The symbolic links under `directory` and where they lead, at any depth (links followed,
    each directory listed once). What cannot be read is left to the run, which reports it."""
    found: list[tuple[Path, Path]] = []
    seen: set[str] = set()
    todo = [directory]
    while todo:
        current = todo.pop()
        real = os.path.realpath(current)
        if real in seen:
            continue
        seen.add(real)
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):  # never read as mapping files
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    found.append((path, Path(os.path.realpath(path))))
                if entry.is_dir():
                    todo.append(path)
            except OSError:
                continue
    return found


def _parse(raw: bytes | None, state_file: str) -> State:
    return State() if raw is None else parse_state(raw, state_file)


def _statuses(catalog: StatusCatalog) -> dict[int, tuple[object, ...]]:
    """What a catalog says of each integration, without when it was read."""
    return {i: (shop.language, dict(shop.statuses)) for i, shop in catalog.shops.items()}


def _records(state: State) -> tuple[object, ...]:
    """What a state records, without its serial and lineage."""
    return dict(state.entries), dict(state.uncertain), dict(state.removed)


def _relative(git: Git, path: Path) -> str:
    """`path` relative to the top of the work tree, which it must be inside."""
    # Real paths on both sides: git gives the top level as one, and /tmp may be a symlink.
    real = Path(os.path.realpath(path.parent)) / path.name
    try:
        return real.relative_to(os.path.realpath(git.root)).as_posix()
    except ValueError:
        raise GitError(
            f"--push records files of the repository at {git.root}, and {path} is outside it"
        ) from None


def _reopened(ws: Workspace) -> Workspace:
    """`ws` with the settings read again: paths given on the command line stay, the others
    follow the settings."""
    settings = load_settings(ws.root, ws.env)
    mappings = (
        ws.root / settings.mappings if ws.mappings_dir == ws.root / ws.settings.mappings else ws.mappings_dir
    )
    state = ws.root / settings.state if ws.state_path == ws.root / ws.settings.state else ws.state_path
    return replace(ws, settings=settings, mappings_dir=mappings, state_path=state)


def _put_back_if_same(path: Path, start: bytes | None, same: Callable[[bytes, bytes | None], bool]) -> bool:
    """Whether the file at `path` says the `same` as its committed bytes `start` (None: it was
    not committed); if so, those bytes are put back (or the file removed), so that a rewrite
    that changed nothing that matters leaves the checkout clean."""
    if not path.exists():
        return True
    try:
        if not same(path.read_bytes(), start):
            return False
    except StatusyncError:
        return False
    if start is None:
        path.unlink()
    else:
        atomic_write(path, start)
    return True
