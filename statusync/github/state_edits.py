"""Whether a pull request edits the state or the status catalog beside it.

`plan` takes every mapping file whose bytes the state recorded from the state, unparsed, and
`apply` does the same. A pull request that edits a mapping file and, consistently, its record
in the state (the new hash with the new mapping) therefore plans as "No changes", passes
`validate`, applies nothing, and then shows as drift, which reconcile may send live: a change no
reviewer saw in a plan. Such an edit cannot be told from the files alone, but the pull request's
list of changed files shows it, so the plan comment warns at its top whenever the state or the
catalog is among them. It never fails the step: `statusync import` on a branch writes both.

statusync.yaml is said too: its `state:` names the state, and its `api_url` and accounts'
`token_url` say where the Sendcloud keys go once the pull request is merged. A URL that is not on
Sendcloud's own host makes that a warning naming it, since the plan itself shows no change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from statusync.files.catalog_file import catalog_path
from statusync.files.journal import journal_path
from statusync.files.settings import DEFAULT_API_URL, SETTINGS_FILE, Settings
from statusync.github.rest import GitHub, GitHubError
from statusync.render.markdown import md_code, md_text
from statusync.repo.git import Git, GitError
from statusync.sendcloud.credentials import DEFAULT_TOKEN_URL
from statusync.text import printable

# GitHub's listing of a pull request's files stops at 3,000 entries.
FILES_LISTED = 3000


@dataclass(frozen=True)
class KeysGoTo:
    """A URL that statusync.yaml sends credentials to: the API's (every account's keys) or an
    OAuth2 token endpoint (its `accounts`' client secrets), beside Sendcloud's own for it."""

    what: str
    url: str
    sendclouds: str
    accounts: tuple[str, ...] = ()

    @property
    def foreign(self) -> bool:
        """Whether it is not on Sendcloud's host (over HTTPS): another path there is no risk."""
        ours, theirs = urlsplit(self.sendclouds), urlsplit(self.url)
        return (theirs.scheme.lower(), theirs.hostname) != (ours.scheme, ours.hostname)


def key_destinations(settings: Settings) -> tuple[KeysGoTo, ...]:
    """Where `settings` send the Sendcloud keys: the API, and each OAuth2 token endpoint with the
    accounts that use it."""
    endpoints: dict[str, list[str]] = {}
    for name, account in settings.accounts.items():
        if account.auth == "oauth2":
            endpoints.setdefault(account.token_url, []).append(name)
    return (
        KeysGoTo("the API", settings.api_url, DEFAULT_API_URL),
        *(
            KeysGoTo("OAuth2 tokens", url, DEFAULT_TOKEN_URL, tuple(names))
            for url, names in endpoints.items()
        ),
    )


@dataclass(frozen=True)
class StateEdits:
    """What the check found: the guarded files the pull request changes (as GitHub names them,
    relative to the repository), whether it changes statusync.yaml (which names the state and
    where the keys go: `destinations`, `state`), or why its changed files could not be checked."""

    edited: tuple[str, ...] = ()
    unchecked: str | None = None
    settings: bool = False
    destinations: tuple[KeysGoTo, ...] = ()
    state: str = ""

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
    return _names((state_path, journal_path(state_path), catalog_path(state_path)), root)


def settings_files(settings_path: Path, root: Path) -> tuple[str, ...]:
    """statusync.yaml as GitHub names it, both as its path and as the file it resolves to (an
    edit of the file it links to changes the settings just the same); each left out when it
    cannot be told (outside the repository, a link loop)."""
    names = [repository_name(settings_path, root)]
    with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: a link loop, before 3.13
        names.append(repository_name(settings_path.resolve(), root.resolve()))
    return tuple(dict.fromkeys(name for name in names if name is not None))


def _names(paths: tuple[Path, ...], root: Path) -> tuple[str, ...] | None:
    """Each of `paths` as given and as resolved, relative to the repository's root, without
    repeats; None when one lies outside the repository or is a link loop."""
    names: list[str] = []
    try:
        real_root = root.resolve()
        for path in paths:
            for name in (repository_name(path, root), repository_name(path.resolve(), real_root)):
                if name is None:
                    return None
                if name not in names:
                    names.append(name)
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        return None
    return tuple(names)


def check_state_edits(
    github: GitHub, pull_request: int, guarded: tuple[str, ...] | None, settings: tuple[str, ...] = ()
) -> StateEdits:
    """The guarded files among the pull request's changed files, under their name before or
    after the change (a rename away from the state edits it too), and whether the settings file
    (any of `settings`, its names as GitHub names them) is among them. A listing that fails, such as a
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
    settings_edited = any(name in changed for name in settings)
    if not edited and listed >= FILES_LISTED:
        return StateEdits(
            unchecked=f"GitHub lists only the first {FILES_LISTED:,} changed files of a pull request",
            settings=settings_edited,
        )
    return StateEdits(edited=edited, settings=settings_edited)


def warning_markdown(edits: StateEdits) -> str:
    """What goes at the top of the plan comment: nothing when the check found no edit."""
    blocks = []
    if edits.edited:
        files = " and ".join(md_code(path, table=False) for path in edits.edited)
        blocks.append(
            f"> [!WARNING]\n> **This pull request changes {files}.** statusync writes the state "
            "after each apply, and the plan takes every mapping file unchanged since the last "
            "apply from it, unparsed: an edit to the state can hide a change from this plan, "
            "which would then reach Sendcloud unreviewed (through drift's reconcile). Unless the "
            "edit comes from `statusync import`, revert it; either way, review the state's diff "
            "line by line.\n\n"
        )
    elif edits.unchecked is not None:
        blocks.append(
            "> [!NOTE]\n> The pull request's changed files could not be checked for an edit to "
            f"the state ({md_text(edits.unchecked.splitlines()[0])}): review any change to it "
            "by hand.\n\n"
        )
    if edits.settings:
        blocks.append(_settings_markdown(edits))
    return "".join(blocks)


def _settings_markdown(edits: StateEdits) -> str:
    settings = md_code(SETTINGS_FILE, table=False)
    state = f" ({md_code(edits.state, table=False)})" if edits.state else ""
    names_state = (
        f"whose `state:` names the state the plan takes every unchanged mapping file from{state}: "
        "check that it names the same file as before"
    )
    foreign = [d for d in edits.destinations if d.foreign]
    if not foreign:
        return (
            f"> [!NOTE]\n> This pull request changes {settings}, {names_state}. It sends the keys "
            "to Sendcloud only.\n\n"
        )
    lines = "".join(
        f"> - {_md_what(d)}: {md_code(d.url, table=False)}, not Sendcloud's "
        f"({md_code(d.sendclouds, table=False)})\n"
        for d in foreign
    )
    return (
        f"> [!WARNING]\n> **This pull request changes {settings}, and once merged statusync "
        f"sends the Sendcloud keys to a host that is not Sendcloud's:**\n{lines}>\n> Unless "
        f"{_that_host(foreign)} yours and meant to be, do not merge. The file is also the one "
        f"{names_state}.\n\n"
    )


def _that_host(foreign: list[KeysGoTo]) -> str:
    return "that host is" if len({urlsplit(d.url).hostname for d in foreign}) == 1 else "those hosts are"


def _md_what(destination: KeysGoTo) -> str:
    if not destination.accounts:
        return destination.what
    return f"{destination.what} of {', '.join(md_code(a, table=False) for a in destination.accounts)}"


def warning_text(edits: StateEdits) -> str | None:
    """The same as one line for the job's log (a `::warning` annotation on a runner)."""
    parts = []
    if edits.edited:
        parts.append(
            f"This pull request changes {' and '.join(printable(p) for p in edits.edited)}: "
            "statusync writes it after each apply, and plan takes the files unchanged since the "
            "last apply from the state, so an edit to it can hide a change from this plan. "
            "Revert the edit unless it comes from 'statusync import', and review the state's diff."
        )
    elif edits.unchecked is not None:
        parts.append(
            "The pull request's changed files could not be checked for an edit to the state "
            f"({printable(edits.unchecked.splitlines()[0])})."
        )
    if edits.settings:
        names_state = (
            "'state:' names the state the plan takes every unchanged mapping file from: check that "
            "it names the same file as before."
        )
        elsewhere = [d for d in edits.destinations if d.foreign]
        foreign = "; ".join(
            f"{d.what}{' of ' + ', '.join(d.accounts) if d.accounts else ''}: {d.url}" for d in elsewhere
        )
        if elsewhere:
            parts.append(
                f"This pull request changes {SETTINGS_FILE}, and once merged statusync sends the "
                f"Sendcloud keys to a host that is not Sendcloud's ({printable(foreign)}): unless "
                f"{_that_host(elsewhere)} yours and meant to be, do not merge. Its {names_state}"
            )
        else:
            parts.append(f"This pull request changes {SETTINGS_FILE}, whose {names_state}")
    return " ".join(parts) or None
