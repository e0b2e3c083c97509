"""Whether a pull request edits the state or the status catalog beside it.

`plan` takes every mapping file whose bytes the state recorded from the state, unparsed, and
`apply` does the same. A pull request that edits a mapping file and, consistently, its record
in the state (the new hash with the new mapping) therefore plans as "No changes", passes
`validate`, applies nothing, and then shows as drift, which reconcile may send live: a change no
reviewer saw in a plan. Such an edit cannot be told from the files alone, but the pull request's
list of changed files shows it, so the plan comment warns at its top whenever the state or the
catalog is among them. It never fails the step: `statusync import` on a branch writes both.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from statusync.files.catalog_file import catalog_path
from statusync.files.journal import journal_path
from statusync.files.settings import SETTINGS_FILE
from statusync.github.rest import GitHub, GitHubError
from statusync.render.markdown import md_code, md_text
from statusync.repo.git import Git, GitError
from statusync.text import printable

# GitHub's listing of a pull request's files stops at 3,000 entries.
FILES_LISTED = 3000


@dataclass(frozen=True)
class StateEdits:
    """What the check found: the guarded files the pull request changes (as GitHub names them,
    relative to the repository), whether it changes statusync.yaml (which names the state), or
    why its changed files could not be checked."""

    edited: tuple[str, ...] = ()
    unchecked: str | None = None
    settings: bool = False

    @property
    def worth_saying(self) -> bool:
        return bool(self.edited) or self.unchecked is not None or self.settings


def repository_root(env: Mapping[str, str], cwd: Path) -> Path:
    """The top of the git checkout holding `cwd` (GitHub names a pull request's files from
    there, wherever actions/checkout put it); else $GITHUB_WORKSPACE, else `cwd`."""
    try:
        return Git.at(cwd, env).root
    except GitError:
        workspace = env.get("GITHUB_WORKSPACE")
        return Path(workspace) if workspace else cwd


def repository_name(path: Path, root: Path) -> str | None:
    """`path` as GitHub names it in a pull request's files: relative to the repository's root,
    with `/`; None outside it."""
    given, top = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return given.relative_to(top).as_posix() if given.is_relative_to(top) else None


def guarded_files(state_path: Path, root: Path) -> tuple[str, ...] | None:
    """The files plan reads the state from, as GitHub names them in a pull request's files
    (relative to the repository's root, with `/`): the state, the journal beside it (which
    loading folds in) and the status catalog, each both as the path the settings give and as
    the file it resolves to (a link swapped in is an edit too). None when they cannot be told:
    a link loop, or a path outside the repository, which no pull request lists."""
    names: list[str] = []
    try:
        real_root = root.resolve()
        for path in (state_path, journal_path(state_path), catalog_path(state_path)):
            for name in (repository_name(path, root), repository_name(path.resolve(), real_root)):
                if name is None:
                    return None
                if name not in names:
                    names.append(name)
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        return None
    return tuple(names)


def settings_names(settings_path: Path, root: Path) -> tuple[str, ...]:
    """statusync.yaml as GitHub names it in a pull request's files, both as its path and as the
    file it resolves to: a statusync.yaml linked in from elsewhere in the repository is edited
    there, as the state is (guarded_files). Only the names within the repository."""
    names = [repository_name(settings_path, root)]
    # A link loop (RuntimeError before Python 3.13): reading the settings fails on it anyway.
    with contextlib.suppress(OSError, RuntimeError):
        names.append(repository_name(settings_path.resolve(), root.resolve()))
    return tuple(dict.fromkeys(name for name in names if name is not None))


def check_state_edits(
    github: GitHub, pull_request: int, guarded: tuple[str, ...] | None, settings_files: tuple[str, ...] = ()
) -> StateEdits:
    """The guarded files among the pull request's changed files, under their name before or
    after the change (a rename away from the state edits it too), and whether the settings file
    (`settings_files`, its names as GitHub names them) is among them. A listing that fails, such as a
    token that may not read it, or guarded files that could not be told (None) give `unchecked`
    instead of an error: the plan comment still has to be written."""
    if guarded is None:
        return StateEdits(unchecked="the state's path could not be told within the repository")
    changed: set[str] = set()
    listed = 0
    try:
        for entry in github.pages(github.repo_path("pulls", pull_request, "files"), {}):
            listed += 1
            for key in ("filename", "previous_filename"):
                name = entry.get(key)
                if isinstance(name, str):
                    changed.add(name)
    except GitHubError as exc:
        return StateEdits(unchecked=str(exc))
    edited = tuple(path for path in guarded if path in changed)
    settings = any(name in changed for name in settings_files)
    if not edited and listed >= FILES_LISTED:
        return StateEdits(
            unchecked=f"GitHub lists only the first {FILES_LISTED:,} changed files of a pull request",
            settings=settings,
        )
    return StateEdits(edited=edited, settings=settings)


def warning_markdown(edits: StateEdits) -> str:
    """What goes at the top of the plan comment: nothing when the check found no edit."""
    if edits.edited:
        files = " and ".join(md_code(path, table=False) for path in edits.edited)
        return (
            f"> [!WARNING]\n> **This pull request changes {files}.** statusync writes the state "
            "after each apply, and the plan takes every mapping file unchanged since the last "
            "apply from it, unparsed: an edit to the state can hide a change from this plan, "
            "which would then reach Sendcloud unreviewed (through drift's reconcile). Unless the "
            "edit comes from `statusync import`, revert it; either way, review the state's diff "
            "line by line.\n\n"
        )
    if edits.unchecked is not None:
        return (
            "> [!NOTE]\n> The pull request's changed files could not be checked for an edit to "
            f"the state ({md_text(edits.unchecked.splitlines()[0])}): review any change to it "
            "by hand.\n\n"
        )
    if edits.settings:
        return (
            f"> [!NOTE]\n> This pull request changes {md_code(SETTINGS_FILE, table=False)}, whose "
            "`state:` names the state the plan takes every unchanged mapping file from: check "
            "that it names the same file as before.\n\n"
        )
    return ""


def warning_text(edits: StateEdits) -> str | None:
    """The same as one line for the job's log (a `::warning` annotation on a runner)."""
    if edits.edited:
        return (
            f"This pull request changes {' and '.join(printable(p) for p in edits.edited)}: "
            "statusync writes it after each apply, and plan takes the files unchanged since the "
            "last apply from the state, so an edit to it can hide a change from this plan. "
            "Revert the edit unless it comes from 'statusync import', and review the state's diff."
        )
    if edits.unchecked is not None:
        return (
            "The pull request's changed files could not be checked for an edit to the state "
            f"({printable(edits.unchecked.splitlines()[0])})."
        )
    if edits.settings:
        return (
            f"This pull request changes {SETTINGS_FILE}, whose 'state:' names the state the plan "
            "takes every unchanged mapping file from: check that it names the same file as before."
        )
    return None
