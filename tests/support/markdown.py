"""Markdown read back as GitHub would show it (CommonMark with tables), to check that outside text
cannot break out of the cell it is written in."""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

MARKDOWN = MarkdownIt("commonmark").enable("table")


def cells(row_html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", row_html, flags=re.S)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells (as HTML) of every body row of every table in `markdown`."""
    rendered = MARKDOWN.render(markdown)
    bodies = re.findall(r"<tbody>(.*?)</tbody>", rendered, flags=re.S)
    return [cells(row) for body in bodies for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def shown(cell: str) -> str:
    """What a cell shows: its HTML unescaped, the code spans' tags (the only markup allowed) and
    the zero-width spaces that break GitHub's mentions and references (they show as nothing)
    dropped. Text from outside escapes any zero-width space it holds, so none comes from it."""
    assert "<" not in cell.replace("<code>", "").replace("</code>", ""), cell
    return html.unescape(cell.replace("<code>", "").replace("</code>", "")).replace("\u200b", "")
