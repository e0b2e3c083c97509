"""The terminal a command talks to: its two streams, colour, whether someone can answer a
question, and how a long run shows its progress.

stdout carries only the plan or report and the closing summary, so that it can be piped;
progress, prompts and errors go to stderr. Commands get one `Console` instead of five flags.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TextIO

import click

from statusync.text import plural

__all__ = ["Console", "Paint", "Tick", "plural"]

# tick(text, ok): one item finished; `text` describes it, `ok` False marks a failure.
Tick = Callable[[str, bool], None]
# paint(text, fg=..., bold=...): click.style when colour is on, the text unchanged otherwise.
Paint = Callable[..., str]


def _plain(text: str, **_: Any) -> str:
    return text


@dataclass(frozen=True)
class Console:
    out: TextIO
    err: TextIO
    color: bool = False  # ANSI colours on `out`
    interactive: bool = False  # someone at a terminal can answer a question
    progress_bar: bool = False  # a redrawing bar on `err` rather than a line per item

    @classmethod
    def of_process(cls, env: Mapping[str, str]) -> Console:
        """The console of the running process, asking its streams and `env`, its environment."""
        # TERM=dumb (Emacs' shell, some CI consoles): a terminal that shows escape sequences
        # and carriage returns as they are, so neither colour nor a bar redrawn in place.
        dumb = env.get("TERM") == "dumb"
        return cls(
            sys.stdout,
            sys.stderr,
            # https://no-color.org: any non-empty NO_COLOR disables colour; so does a non-terminal.
            color=sys.stdout.isatty() and not env.get("NO_COLOR") and not dumb,
            interactive=sys.stdin.isatty(),
            # CI logs want one line per item; a bar redrawing itself would be noise there.
            progress_bar=sys.stderr.isatty() and not env.get("CI") and not dumb,
        )

    @property
    def paint(self) -> Paint:
        return click.style if self.color else _plain

    def note(self, text: str) -> None:
        """A line for the person running the command, on stderr."""
        click.echo(text, file=self.err)

    def confirm(self, question: str) -> bool:
        return click.confirm(question, default=False)

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Tick]:
        """Yield a callback to call as each of `total` items completes. What stdout holds goes
        out first: a CI log, which merges the two streams, would otherwise show what was written
        there (held in stdout's buffer when it is a pipe) after the progress."""
        with suppress(OSError, ValueError):  # a reader that stopped early: said at the end (cli.run)
            self.out.flush()
        stream = self.err
        if not self.progress_bar:
            done = 0

            def line(text: str, ok: bool) -> None:
                nonlocal done
                done += 1
                stream.write(f"[{done}/{total}] {text}\n")
                stream.flush()

            yield line
            return
        with click.progressbar(
            length=total, label=label, show_eta=True, show_pos=True, file=stream
        ) as progress:

            def tick(text: str, ok: bool) -> None:
                if not ok:
                    # Failures stay visible above the bar instead of being overwritten by it.
                    click.echo(f"\n{text}", file=stream)
                progress.update(1)

            yield tick
