"""Validation problems as GitHub workflow commands, so that they show as annotations on the
changed lines of a pull request (and in the run's summary), not only in the log.

The escaping is the one of GitHub's own toolkit (@actions/core `command.ts`): the message (data)
escapes `%`, CR and LF; a property also `:` and `,`, which would otherwise end it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from statusync.errors import Problem
from statusync.github.runner import on_actions, workspace_path


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int | None) -> str:
    """One line such as `::error file=a.yaml,line=3,col=5::message` (properties that are None
    are left out, in the order given)."""
    given = [
        f"{name}={escape_property(str(value))}" for name, value in properties.items() if value is not None
    ]
    return (
        f"::{command} {','.join(given)}::{escape_data(message)}"
        if given
        else f"::{command}::{escape_data(message)}"
    )


def problem_annotation(problem: Problem, env: Mapping[str, str], cwd: Path, level: str = "error") -> str:
    # A problem with a line but no column points at the line's start, as `str(problem)` does.
    col = (problem.col or 1) if problem.line is not None else None
    return workflow_command(
        level, problem.message, file=workspace_path(problem.file, env, cwd), line=problem.line, col=col
    )


def annotate(
    problems: Iterable[Problem], stream: TextIO, env: Mapping[str, str], cwd: Path, level: str = "error"
) -> None:
    """Write one `::error` line (`::warning`, as `level` says) per problem to `stream` when
    running on GitHub Actions (the runner reads workflow commands from stdout and stderr alike;
    stderr keeps stdout for the report). Elsewhere it writes nothing: the plain
    `file:line:col: message` lines suffice."""
    if not on_actions(env):
        return
    for problem in problems:
        stream.write(problem_annotation(problem, env, cwd, level) + "\n")
    stream.flush()
