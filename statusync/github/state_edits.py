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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from statusync.files.catalog_file import catalog_path
from statusync.github.rest import GitHub, GitHubError
from statusync.render.markdown import md_code, md_text
from statusync.text import printable

# GitHub's listing of a pull request's files stops at 3,000 entries.
FILES_LISTED = 3000


@dataclass(frozen=True)
class StateEdits:
    """What the check found: the guarded files the pull request changes (as GitHub names them,
    relative to the repository), or why its changed files could not be checked."""

    edited: tuple[str, ...] = ()
    unchecked: str | None = None


def repository_root(env: Mapping[str, str], cwd: Path) -> Path:
    """The checked-out repository: $GITHUB_WORKSPACE on a runner, else the nearest directory
    above `cwd` holding `.git`, else `cwd` itself."""
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace:
        return Path(workspace)
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return cwd


def guarded_files(state_path: Path, root: Path) -> tuple[str, ...]:
    """The state and its catalog as GitHub names them in a pull request's files: relative to
    the repository's root, with `/`. A file outside the repository cannot be in a pull request."""
    try:
        top = root.resolve()
        paths = [state_path.resolve(), catalog_path(state_path).resolve()]
    except OSError:
        return ()
    return tuple(path.relative_to(top).as_posix() for path in paths if path.is_relative_to(top))


def check_state_edits(github: GitHub, pull_request: int, guarded: tuple[str, ...]) -> StateEdits:
    """The guarded files among the pull request's changed files, under their name before or
    after the change (a rename away from the state edits it too). A listing that fails, such
    as a token that may not read it, gives `unchecked` instead of an error: the plan comment
    still has to be written."""
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
    if not edited and listed >= FILES_LISTED:
        return StateEdits(
            unchecked=f"GitHub lists only the first {FILES_LISTED:,} changed files of a pull request"
        )
    return StateEdits(edited=edited)


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
    return None
