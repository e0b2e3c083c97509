"""How a long run shows itself: a progress bar with ETA on a terminal, a line per item in CI.

Progress always goes to stderr, so that stdout carries only the plan or report, for pipes.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

import click

# tick(text, ok): one item finished; `text` describes it, `ok` False marks a failure.
Tick = Callable[[str, bool], None]


@contextmanager
def reporter(total: int, stream: TextIO, *, bar: bool, label: str) -> Iterator[Tick]:
    """Yield a callback to call as each of `total` items completes."""
    if not bar:
        done = 0

        def line(text: str, ok: bool) -> None:
            nonlocal done
            done += 1
            stream.write(f"[{done}/{total}] {text}\n")
            stream.flush()

        yield line
        return
    with click.progressbar(length=total, label=label, show_eta=True, show_pos=True,
                           file=stream) as progress:
        def tick(text: str, ok: bool) -> None:
            if not ok:
                # Failures stay visible above the bar instead of being overwritten by it.
                click.echo(f"\n{text}", file=stream)
            progress.update(1)

        yield tick
