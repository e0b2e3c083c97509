"""Markdown for GitHub: table cells that names and paths cannot break, and a budget that keeps a
pull-request comment or an issue body within what GitHub accepts."""

from __future__ import annotations

import re
from typing import TextIO

from statusync.render.style import show
from statusync.text import plural, printable, short_name

# GitHub keeps a comment or an issue body to 65,536 characters; a markdown report stops listing
# rows before that, leaving room for the lines that follow and a note of what was left out.
MARKDOWN_BUDGET = 60_000

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BACKTICKS = re.compile("`+")
# GitHub finds @mentions, issue references (#12, GH-12) and bare links (https://..., www....) in
# the text a comment renders to, after markdown has dropped its backslashes: a name escaped as
# `\@team` still notifies the team. A zero-width space inside each breaks it, as Renovate does
# for the names it quotes; it shows as nothing.
_ZERO_WIDTH_SPACE = "\u200b"
_GITHUB_REFERENCE = re.compile(r"(?<=[@#])|(?<=\bgh)(?=-[0-9])|(?<=:)(?=//)|(?<=\bwww)(?=\.)", re.IGNORECASE)


def md_text(text: str) -> str:
    """`text` as markdown that shows it as it is: printable, and every ASCII punctuation
    character backslash-escaped (CommonMark allows that for all of them), so that a shop name
    cannot emphasise, link or end a table cell (`|`); and with a zero-width space in every
    mention (`@team`), issue reference (`#12`) and bare link, which GitHub would make live."""
    shown = _GITHUB_REFERENCE.sub(_ZERO_WIDTH_SPACE, printable(text))
    return "".join("\\" + c if c in _PUNCTUATION else c for c in shown)


def md_name(name: str | None) -> str:
    """An integration's name after its id, ` (name)`, shortened as a status's name is (outside
    text: a long one would crowd its change out of a comment); "" when there is none."""
    shown = None if name is None else short_name(name)
    return "" if shown is None else f" ({md_text(shown)})"


def md_code(text: str, *, table: bool = True) -> str:
    """`text` as a code span that shows it as it is, backticks included.

    CommonMark: the span is fenced by a run of backticks longer than any inside it, with a
    space at each end when it starts or ends with a backtick (one space each side is taken
    off again). In a table cell a `|` would end the cell even inside the span, so it is
    escaped there (GFM reads `\\|` back as `|` inside a code span in a table).
    """
    shown = printable(text)
    if table:
        shown = shown.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    pad = " " if _stripped(shown) else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def md_cell(value: str | None, name: str | None = None) -> str:
    """A mapping value in a table cell, written as the text renderers `show` it, with the shop
    status's `name` after it, outside the code span, as markdown text: `"12"` (Payment)."""
    code = md_code(show(value))
    return code if name is None else f"{code} ({md_text(name)})"


def _stripped(text: str) -> bool:
    """Whether a code span of `text` needs a space at each end to show it as it is: when it
    starts or ends with a backtick (which would join the fence), or when CommonMark would
    take a space off each end (it starts and ends with one, and is not all spaces)."""
    if text.startswith("`") or text.endswith("`"):
        return True
    return text.startswith(" ") and text.endswith(" ") and bool(text.strip(" "))


class MarkdownBudget:
    """Writes whole groups of table rows while they fit, skipping a group too long for what is
    left (the groups after it may still fit), and says which it left out."""

    def __init__(self, out: TextIO, limit: int = MARKDOWN_BUDGET) -> None:
        self.out = out
        self.left = limit
        self.omitted: list[str] = []  # the labels of the groups left out of the current table

    def write(self, text: str) -> None:
        self.out.write(text)
        self.left -= len(text)

    def group(self, rows: list[str], label: str) -> None:
        """Write `rows` if they fit, room for the note kept; else count `label` as left out."""
        text = "".join(rows)
        if len(text) > self.left - _NOTE_ROOM:
            self.omitted.append(label)
        else:
            self.write(text)

    def note(self, noun: str, command: str, qualifier: str = "") -> None:
        """Say what the last table left out ("… and 2 more `noun`s `qualifier` not shown"); the
        next table starts afresh."""
        if self.omitted:
            shown = ", ".join(self.omitted[:_LABELS_SHOWN])
            if len(self.omitted) > _LABELS_SHOWN:
                shown += f" and {len(self.omitted) - _LABELS_SHOWN} more"
            what = plural(len(self.omitted), f"more {noun}") + (f" {qualifier}" if qualifier else "")
            self.write(
                f"\n*… and {what} not shown here: run `{command}` for the full list. Not shown: {shown}.*\n"
            )
            self.omitted = []


# The labels (integration ids) a note names, and the room kept for the note itself.
_LABELS_SHOWN = 30
_NOTE_ROOM = 1_000
