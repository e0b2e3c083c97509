"""`statusync completion SHELL`: the completion script click generates for that shell, to be
loaded by the shell's start-up file (the README shows how for each)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from statusync.console import Console
from statusync.errors import OK, StatusyncError

# The variable click's scripts set when they call statusync back for the completions: click
# derives it from the program name, and the scripts must name the same one.
COMPLETE_VAR = "_STATUSYNC_COMPLETE"


def run(console: Console, shell: str, command: click.Command) -> int:
    completion = get_completion_class(shell)
    if completion is None:  # the CLI offers bash, zsh and fish, which click has had since 8.0
        raise StatusyncError(f"click has no completion for {shell!r}")
    source = completion(command, {}, "statusync", COMPLETE_VAR).source()
    console.out.write(source if source.endswith("\n") else source + "\n")
    return OK
