"""git as a subprocess: one call per command, its failures as StatusyncErrors with git's own
words, and credentials cut out of anything git says (CI remotes often carry a token in the URL)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from statusync.errors import StatusyncError

# scheme://user:password@host or scheme://token@host: everything between :// and @ goes.
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
# Commits made when git has no identity configured (CI runners usually have none).
FALLBACK_IDENTITY = ("statusync", "statusync@users.noreply.github.com")


def redact(text: str) -> str:
    """`text` without the user and password part of any URL in it."""
    return _CREDENTIALS.sub(r"\1***@", text)


class GitError(StatusyncError):
    """A git command failed: its message says which, with git's own explanation."""


@dataclass(frozen=True)
class Done:
    """What a git command gave back."""

    code: int
    stdout: bytes
    stderr: str
    # A stop signal (Ctrl-C, SIGTERM) arrived while it ran, and it was let finish.
    interrupted: bool = False

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace").strip()


class Git:
    """git commands run in one work tree (`root`, its top level)."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self._env = {
            **env,  # the command's environment (the CLI's seam): PATH, HOME, git's variables
            # Never wait for someone to type a password: in CI nobody will.
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            # Paths are file names, never patterns (a mapping file may be called `[x].yaml`).
            "GIT_LITERAL_PATHSPECS": "1",
        }

    @classmethod
    def at(cls, path: Path, env: Mapping[str, str]) -> Git:
        """The work tree holding `path`, or an error saying that --push needs one."""
        probe = cls(path, env)
        done = probe.run("rev-parse", "--show-toplevel", check=False)
        if done.code != 0 or not done.text:
            raise GitError(
                f"--push needs a git checkout, and {path} is not inside one "
                f"({explain(done.stderr, 1) or 'no work tree'})"
            )
        return cls(Path(done.text), env)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        let_finish: bool = False,
    ) -> Done:
        """Run `git ARGS` in the work tree; a failure raises GitError unless `check` is False.

        `let_finish`: a stop signal (KeyboardInterrupt) while git runs does not kill it; git is
        waited for, and `Done.interrupted` says the signal came. For a push, whose outcome must
        be known: killing it midway would leave nobody knowing whether the remote took it."""
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                env={**self._env, **(env or {})},
            )
        except FileNotFoundError:
            raise GitError("--push needs git, and it is not installed (no 'git' on PATH)") from None
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        interrupted = False
        with proc:
            try:
                stdout, stderr = proc.communicate(input)
            except KeyboardInterrupt:
                if not let_finish:
                    proc.kill()
                    raise
                # Ctrl-C at a terminal reaches git too, which then ends by itself; a SIGTERM
                # sent to statusync alone leaves git running, and its answer is worth waiting
                # for. A second signal stops the wait (and git) at once.
                interrupted = True
                try:
                    stdout, stderr = proc.communicate()
                except KeyboardInterrupt:
                    proc.kill()
                    raise
        done = Done(proc.returncode, stdout, redact(stderr.decode("utf-8", "replace")), interrupted)
        if check and done.code != 0:
            raise GitError(f"git {args[0]} failed: {explain(done.stderr) or f'exit {done.code}'}")
        return done

    def out(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None) -> str:
        """The stripped stdout of a command that must succeed."""
        return self.run(*args, input=input, env=env).text

    def value(self, *args: str) -> str | None:
        """The stripped stdout of a query, or None when git answers that there is none."""
        done = self.run(*args, check=False)
        return done.text if done.code == 0 and done.text else None

    def blob(self, commit: str, path: str) -> bytes | None:
        """The content of `path` at `commit`, or None when it has no such file."""
        done = self.run("cat-file", "blob", f"{commit}:{path}", check=False)
        return done.stdout if done.code == 0 else None


def explain(stderr: str, limit: int = 8) -> str:
    """git's own explanation, without its hints (they suggest commands for people at a prompt)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    if len(lines) > limit:
        lines = lines[:limit] + ["..."]
    return "\n  ".join(lines)
