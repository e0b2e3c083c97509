"""Markdown for GitHub: table cells that names and paths cannot break, and a budget that keeps a
pull-request comment or an issue body within what GitHub accepts."""

from __future__ import annotations

from typing import TextIO

from statusync.core.text import printable
from statusync.render.style import show

# GitHub keeps a comment or an issue body to 65,536 characters; a markdown report stops listing
# rows before that, leaving room for the lines that follow and a note of what was left out.
MARKDOWN_BUDGET = 60_000


def md_text(text: str) -> str:
    """`text` for a markdown table cell: printable, and a `|` kept from ending the cell."""
    return printable(text).replace("|", "\\|")


def md_code(text: str) -> str:
    """`text` as a code span in a markdown table cell (a backtick would end the span)."""
    return "`" + md_text(text).replace("`", "'") + "`"


def md_cell(value: str | None) -> str:
    """A mapping value in a table cell, written as the text renderers `show` it."""
    return md_code(show(value))


class MarkdownBudget:
    """Writes whole groups of table rows while they fit, and counts the groups left out."""

    def __init__(self, out: TextIO, limit: int = MARKDOWN_BUDGET) -> None:
        self.out = out
        self.left = limit
        self.omitted = 0

    def write(self, text: str) -> None:
        self.out.write(text)
        self.left -= len(text)

    def group(self, rows: list[str]) -> None:
        text = "".join(rows)
        if self.omitted or len(text) > self.left:
            self.omitted += 1
        else:
            self.write(text)

    def note(self, what: str, command: str) -> None:
        """Say what the last table left out; the next table starts afresh."""
        if self.omitted:
            self.write(f"\n*… and {self.omitted} more {what} not shown here: run "
                       f"`{command}` for the full list.*\n")
            self.omitted = 0
