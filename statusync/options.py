"""The options several commands share, the decorator that opens the workspace, and the seams a
test may replace. Options are checked as click parses them, before a command's module is
imported: a usage error never costs a file read. Nothing here imports what only a running
command needs (the workspace, pydantic, the YAML reader), so that `--help` and `--version` start
fast.

A click parameter is named as the command's run() names it (`@click.option("--out", "planfile")`),
so that the CLI hands its options over as they are: `run(ws, console, **options)`."""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from statusync.console import Console
from statusync.errors import StatusyncError
from statusync.files.lock import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:  # imported when a command runs: `--help` and `--version` need neither (nor pydantic)
    from statusync.core.subset import Subset


@dataclass(frozen=True)
class Seams:
    """What the process hands a command, and what a test replaces when it runs one in-process."""

    retry_sleep: Callable[[float], None] = time.sleep  # the API clients' waits before a retry
    # The environment variables the commands read (credentials, STATUSYNC_API_URL, NO_COLOR, CI,
    # the GitHub runner's): the process's, taken once when the seams are made (in main()).
    # Nothing reads os.environ in passing, so a test hands in the variables it means.
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def current_seams() -> Seams:
    """The seams of the command being run (those main() was given)."""
    given: Seams | None = click.get_current_context().find_root().obj
    return given or Seams()


def in_workspace(func: Callable[..., int]) -> Callable[..., int]:
    """Add --mappings and --state, and call `func(ws, console, **options)` with the workspace
    of the current directory and the process's console, both given the seams' environment."""

    @click.option(
        "--state",
        "state",
        metavar="FILE",
        callback=_not_empty,
        help="State file (default: from statusync.yaml, .statusync/state.json).",
    )
    @click.option(
        "--mappings",
        "mappings",
        metavar="DIR",
        callback=_not_empty,
        help="Directory of mapping files (default: from statusync.yaml, mappings).",
    )
    @functools.wraps(func)
    def opened(mappings: str | None, state: str | None, **options: Any) -> int:
        from statusync.workspace import Workspace

        given = current_seams()
        ws = Workspace.open(
            mappings, state, env=given.env, root=_working_directory(), retry_sleep=given.retry_sleep
        )
        return func(ws, Console.of_process(given.env), **options)

    return opened


def _not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # An empty value (`--state "$UNSET_VARIABLE"`) would silently mean the default file.
    if value is not None and not value.strip():
        raise click.BadParameter(
            "must not be empty: give a path, or leave the option out to use the one in statusync.yaml"
        )
    return value


def _working_directory() -> Path:
    try:
        return Path.cwd()
    except FileNotFoundError:
        raise StatusyncError(
            "the current directory no longer exists (it was deleted or moved "
            "away); cd into the repository again and rerun the command"
        ) from None


class Seconds(click.FloatRange):
    """A duration: a finite number of seconds, not negative (`nan` would compare false with
    every limit and wait forever)."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds: give a finite number, 0 or more", param, ctx)
        return seconds


class Parallelism(click.IntRange):
    """A number of requests in flight, 1 or more, or `auto` (None: sized from the rate and the
    latency), the default, which the help and the README name."""

    name = "parallelism"

    def __init__(self) -> None:
        super().__init__(min=1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
            return None
        return super().convert(value, param, ctx)


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts, markdown for GitHub.",
)
parallelism_option = click.option(
    "--parallelism",
    type=Parallelism(),
    default=None,
    metavar="N|auto",
    help="At most N API requests in flight at once. [default: auto: per account, enough to "
    "reach its rate limit at the latency measured, up to 64]",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    type=Seconds(),
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another run to release the state.",
)
push_option = click.option(
    "--push",
    is_flag=True,
    help="First bring the checkout to the newest commit of its upstream branch; at the end, "
    "commit the state and push it (race-safe: a rejected push is merged and retried).",
)


def _subset(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Subset | None:
    # Parsed here, so that `id:abc` is a usage error before the workspace is even opened.
    from statusync.core.subset import BadPattern, parse_subset

    try:
        return parse_subset(value)
    except BadPattern as exc:
        raise click.BadParameter(str(exc)) from None


only_option = click.option(
    "--only",
    "only",
    multiple=True,
    metavar="PATTERN",
    callback=_subset,
    help="Work on a subset only (repeatable, a union): a path glob relative to the repository "
    "(mappings/eu/**), id:N or account:NAME.",
)


def exactly_one_source(func: Callable[..., int]) -> Callable[..., int]:
    """import's usage rule, checked before the workspace is opened: it needs no files."""

    @functools.wraps(func)
    def checked(*, integration_ids: tuple[int, ...], all_: bool, **options: Any) -> int:
        if bool(integration_ids) == all_:
            raise click.UsageError("give either --integration ID (one or more) or --all")
        return func(integration_ids=integration_ids, all_=all_, **options)

    return checked
