"""The step of the composite action (action.yml): `python -I -m statusync.action`, an entry
point beside __main__.py (statusync.github is the library of GitHub calls it leaves below it).

It runs one statusync command, given as a string in STATUSYNC_ARGS and split like a shell
would (quotes work) but never expanded, so a value from an expression cannot run anything.
Its stdout is shown in the log and kept in a file, and the step's outputs say where that file is
and how the command exited (`output-file`, `exit-code`), for the steps after it: the plan
comment and the drift issue read the markdown from there. The step fails unless the exit code is
one of STATUSYNC_ALLOW_EXIT_CODES (by default only 0), so that `drift` finding drift (2) can
let the issue step run.

The job's token reaches only `statusync github ...`: for every other command, entry() drops
GITHUB_TOKEN from the environment before anything but the standard library is imported (so this
module, like the package above it, imports only the standard library at its top), as no other
command needs it and no other code should see it.
"""

from __future__ import annotations

import io
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TextIO

ARGS_ENV = "STATUSYNC_ARGS"
ALLOW_ENV = "STATUSYNC_ALLOW_EXIT_CODES"
TOKEN_ENV = "GITHUB_TOKEN"


class Tee(io.TextIOBase):
    """A text stream writing to two: the log and the file kept for the next steps."""

    def __init__(self, first: TextIO, second: TextIO) -> None:
        self.first, self.second = first, second

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.first.write(text)
        self.second.write(text)
        return len(text)

    def flush(self) -> None:
        self.first.flush()
        self.second.flush()

    def isatty(self) -> bool:
        return False  # a CI log: no colour, no progress bar


def drop_token(args: Sequence[str], env: MutableMapping[str, str]) -> None:
    """Remove the token from the environment unless the command is `github ...`."""
    if list(args[:1]) != ["github"]:
        env.pop(TOKEN_ENV, None)


def parse_args(text: str) -> list[str]:
    try:
        args = shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise SystemExit(_fail(f"cannot split the action's args ({exc}): {text!r}")) from None
    if not args:
        raise SystemExit(_fail("the action's args are empty: give a command, e.g. `plan`"))
    return args


def parse_allowed(text: str) -> frozenset[int]:
    """The exit codes that do not fail the step: those listed, and 0 always."""
    try:
        return frozenset(int(code) for code in text.replace(",", " ").split()) | {0}
    except ValueError:
        raise SystemExit(_fail(f"allow-exit-codes must be numbers such as `0 2`, not {text!r}")) from None


def write_outputs(env: Mapping[str, str], outputs: Mapping[str, str | int]) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for name, value in outputs.items():
            out.write(f"{name}={value}\n")  # single-line values: the plain form is safe


def run(args: Sequence[str], allowed: frozenset[int], env: MutableMapping[str, str], output_dir: Path) -> int:
    """Run `statusync args` in this process with stdout teed into a file; return the exit code
    the step should end with."""
    drop_token(args, env)
    from statusync.cli import main
    from statusync.options import Seams

    fd, name = tempfile.mkstemp(prefix="statusync-", suffix=".out", dir=output_dir)
    print(f"$ statusync {shlex.join(args)}", file=sys.stderr, flush=True)
    real_stdout = sys.stdout
    with os.fdopen(fd, "w", encoding="utf-8") as kept:
        sys.stdout = Tee(real_stdout, kept)
        try:
            code = main(list(args), Seams(env=env))  # the environment without the token
        finally:
            sys.stdout.flush()
            sys.stdout = real_stdout
    write_outputs(env, {"exit-code": code, "output-file": name})
    return 0 if code in allowed else code


def _fail(message: str) -> int:
    from statusync.github.annotations import workflow_command  # only once the token is gone

    print(workflow_command("error", message, title="statusync action"), file=sys.stderr)
    return 1


def entry() -> int:
    env = os.environ
    # First, before any import beyond the standard library. Args that cannot be split are no
    # command: no token either (parse_args then says what is wrong with them).
    try:
        drop_token(shlex.split(env.get(ARGS_ENV, "")), env)
    except ValueError:
        drop_token([], env)
    args = parse_args(env.get(ARGS_ENV, ""))
    allowed = parse_allowed(env.get(ALLOW_ENV, "0"))
    output_dir = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
    return run(args, allowed, env, output_dir)


if __name__ == "__main__":
    raise SystemExit(entry())
