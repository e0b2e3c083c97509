"""The job summary: `plan` and `drift` append their markdown to $GITHUB_STEP_SUMMARY, whatever
format they print, so that every run shows its plan or report on the run's page without a step
of its own (and a pull request from a fork, which may not comment, still has its plan there)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TextIO

from statusync.console import Console
from statusync.github.runner import step_summary


def append_summary(write: Callable[[TextIO], None], env: Mapping[str, str], console: Console) -> None:
    """Call `write` with the job summary file opened for appending, when on GitHub Actions.

    A summary that cannot be written is a warning, not a failure: the plan or report on stdout
    is what the command is for.
    """
    path = step_summary(env)
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as out:
            write(out)
            out.write("\n")  # the next step's part starts on a line of its own
    except OSError as exc:
        console.note(f"warning: could not append to the job summary {path}: {exc.strerror}")
