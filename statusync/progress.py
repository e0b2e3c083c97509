"""How a long run shows itself: a progress bar with ETA on a terminal, a line per item in CI."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

import click

from statusync.apply import Outcome

_DONE = {"create": "created", "update": "updated", "reset": "reset", "forget": "forgotten"}


def describe(outcome: Outcome) -> str:
    c = outcome.change
    what = f"{c.action.value} {c.integration_id} ({c.file})"
    return f"{what}: {_DONE[c.action.value]}" if outcome.ok else f"{what}: FAILED: {outcome.error}"


def interactive(stream: TextIO) -> bool:
    return stream.isatty()


@contextmanager
def reporter(total: int, out: TextIO, err: TextIO, *, bar: bool) -> Iterator[Callable[[Outcome], None]]:
    """Yield a callback taking each outcome as it completes."""
    if not bar:
        done = 0

        def line(outcome: Outcome) -> None:
            nonlocal done
            done += 1
            out.write(f"[{done}/{total}] {describe(outcome)}\n")
            out.flush()

        yield line
        return
    with click.progressbar(length=total, label="Applying", show_eta=True, show_pos=True,
                           file=err) as progress:
        def tick(outcome: Outcome) -> None:
            if not outcome.ok:
                # Failures stay visible above the bar instead of being overwritten by it.
                click.echo(f"\n{describe(outcome)}", file=err)
            progress.update(1)

        yield tick


def stderr_is_terminal() -> bool:
    return interactive(sys.stderr)
