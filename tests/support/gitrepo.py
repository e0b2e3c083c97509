"""Throw-away git repositories for the tests of --push: a bare origin, and clones of it acting as
a developer's checkout or as CI jobs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The developer's commits carry this identity; CI clones get none, as on a CI runner.
DEV = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
# The merge driver exactly as the README documents it.
DRIVER = "statusync merge-state %O %A %B"
STATUSYNC = f"{shlex.quote(sys.executable)} -m statusync"


def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration, no identity from the environment."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed in {cwd}: {proc.stderr}"
    return proc.stdout.strip()


def mapping_yaml(integration_id: int, rts: str) -> str:
    return (
        f'integration_id: {integration_id}\nmapping:\n  READY_TO_SEND: "{rts}"\n'
        f'  IN_TRANSIT: "2"\n  DELIVERED: "3"\n  CANCEL: null\n'
    )


def install_hook(git_dir: Path, name: str, body: str) -> None:
    """A shell hook; git's own variables are unset, so that it may work in other repositories."""
    hook = git_dir / "hooks" / name
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(
        "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX\n" + textwrap.dedent(body)
    )
    hook.chmod(0o755)


class Clone:
    """A work tree cloned from the origin."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def mapping(self, integration_id: int, rts: str) -> Path:
        return self.write(f"mappings/shop-{integration_id}.yaml", mapping_yaml(integration_id, rts))

    def write(self, relpath: str, text: str) -> Path:
        path = self.path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit(self, message: str) -> str:
        """Commit everything in the work tree, as the developer."""
        self.git("add", "--all")
        self.git(*DEV, "commit", "--quiet", "-m", message)
        return self.head()

    def push_change(self, message: str, mappings: dict[int, str]) -> str:
        """A developer's change to main: the shops' READY_TO_SEND, committed and pushed."""
        for integration_id, rts in mappings.items():
            self.mapping(integration_id, rts)
        commit = self.commit(message)
        self.git("push", "--quiet")
        return commit

    def enable_merge_driver(self) -> None:
        self.git("config", "merge.statusync.driver", DRIVER)

    def hook(self, name: str, body: str) -> None:
        install_hook(self.path / ".git", name, body)

    def once_before_push(self, *commands: str) -> None:
        """Run shell `commands` when this clone first pushes, between its commit and its push:
        the moment another job's push makes this one's rejected."""
        marker = self.path / ".git" / "pushed-once"
        self.hook(
            "pre-push",
            f"""
            [ -e {shlex.quote(str(marker))} ] && exit 0
            touch {shlex.quote(str(marker))}
            {" && ".join(commands)}
            exit 0
        """,
        )


class Origin:
    """A bare repository that every clone pushes to; clones go beside it."""

    def __init__(self, path: Path) -> None:
        self.root = path.parent
        self.path = path
        self._clones = 0

    @classmethod
    def create(cls, root: Path) -> Origin:
        path = root / "origin.git"
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(path))
        return cls(path)

    def copy_to(self, root: Path, *clones: Clone) -> tuple[Origin, list[Clone]]:
        """This origin and `clones` copied under `root`, the clones pushing to the copy: a
        prepared repository costs a copy instead of the commands that made it."""
        copy = Origin(root / self.path.name)
        shutil.copytree(self.path, copy.path, symlinks=True)
        copies = []
        for clone in clones:
            copied = Clone(root / clone.path.name)
            shutil.copytree(clone.path, copied.path, symlinks=True)
            copied.git("remote", "set-url", "origin", str(copy.path))
            copies.append(copied)
        return copy, copies

    def clone(self, name: str | None = None, *, at: str | None = None) -> Clone:
        """A fresh clone, like a CI job's checkout; `at` leaves its branch at an older commit
        (a re-run of an old job checks out the commit that triggered it)."""
        self._clones += 1
        path = self.root / (name or f"job-{self._clones}")
        git(self.root, "clone", "--quiet", str(self.path), str(path))
        clone = Clone(path)
        if at is not None:
            clone.git("reset", "--quiet", "--hard", at)
        return clone

    def actions_checkout(self, at: str) -> Clone:
        """A checkout as actions/checkout makes it for a push (or the re-run of one): the
        commit `at` alone (depth 1), on branch main tracking origin/main."""
        self._clones += 1
        path = self.root / f"job-{self._clones}"
        path.mkdir()
        clone = Clone(path)
        clone.git("init", "--quiet")
        clone.git("remote", "add", "origin", self.path.as_uri())
        clone.git("fetch", "--quiet", "--no-tags", "--depth=1", "origin", f"+{at}:refs/remotes/origin/main")
        clone.git("checkout", "--quiet", "--force", "-B", "main", "refs/remotes/origin/main")
        return clone

    def head(self, branch: str = "main") -> str:
        return git(self.path, "rev-parse", branch)

    def show(self, path: str, ref: str = "main") -> str:
        return git(self.path, "show", f"{ref}:{path}")

    def log(self, ref: str = "main") -> list[str]:
        return git(self.path, "log", "--format=%s", ref).splitlines()

    def hook(self, name: str, body: str) -> None:
        install_hook(self.path, name, body)
