"""Text from outside, escaped the same way for every output (statusync.text and the
markdown built on it): read back by a YAML reader, a JSON reader and a CommonMark renderer, the
escaped text is the value itself, and it holds no character that is not printable."""

from __future__ import annotations

import html
import io
import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from ruamel.yaml import YAML

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.core.drift import DriftReport, compare
from statusync.core.plan import make_plan
from statusync.render.drift import render_markdown as render_drift_markdown
from statusync.render.markdown import md_code, md_text
from statusync.render.plan import render_json, render_markdown, render_text
from statusync.text import MAX_NAME_SHOWN, json_safe, labelled, printable, quote
from tests.support.builders import live, loaded, mapping, state_of
from tests.support.markdown import shown as shown_in
from tests.support.markdown import table_rows

# Any text a file (valid UTF-8) or the API can hold, with the characters that matter most
# drawn often: controls, bidi overrides, line separators, backticks, pipes, backslashes.
TRICKY = "\x00\x1b\x7f\x85\x9b\t\n\r\u2028\u202e\u200b\ufeff\xa0`|\\\"'*_#@<>&[]\U000e0001 "
texts = st.text(st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8", exclude_categories=("Cs",))))
PROPERTY = settings(
    max_examples=int(os.environ.get("STATUSYNC_PROPERTY_EXAMPLES", 120)),
    deadline=None,
    derandomize="STATUSYNC_PROPERTY_EXAMPLES" not in os.environ,
    database=None,
)
MARKDOWN = MarkdownIt("commonmark").enable("table")


def shown_on_one_line(text: str) -> bool:
    return all(c.isprintable() for c in text)


@PROPERTY
@given(texts)
def test_printable_escapes_what_is_not_printable_and_is_idempotent(text: str) -> None:
    shown = printable(text)
    assert shown_on_one_line(shown)
    assert printable(shown) == shown  # escaping twice (at the source and on output) is harmless
    if text.isprintable():
        assert shown == text


@PROPERTY
@given(texts)
def test_quote_is_a_yaml_string_that_reads_back_as_the_value(text: str) -> None:
    quoted = quote(text)
    assert shown_on_one_line(quoted)
    assert YAML(typ="safe").load(f"v: {quoted}\n") == {"v": text}


@PROPERTY
@given(st.dictionaries(texts, st.one_of(texts, st.none(), st.lists(texts, max_size=2)), max_size=3))
def test_json_output_reads_back_as_the_document(document: dict[str, object]) -> None:
    out = json_safe(json.dumps(document, indent=2, ensure_ascii=False))
    assert all(c.isprintable() or c == "\n" for c in out)
    assert json.loads(out) == document


def _cells(rendered: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", rendered, flags=re.S)


@PROPERTY
@given(texts.filter(bool))
def test_a_code_span_shows_the_text_as_it_is_in_a_table_and_outside(text: str) -> None:
    table = MARKDOWN.render(f"| a | b |\n| --- | --- |\n| {md_code(text)} | x |\n")
    [cell, _] = _cells(table)
    assert cell.startswith("<code>") and cell.endswith("</code>"), (md_code(text), table)
    assert html.unescape(cell[len("<code>") : -len("</code>")]) == printable(text)
    paragraph = MARKDOWN.render(f"x {md_code(text, table=False)} y\n")
    code = re.fullmatch(r"<p>x <code>(.*)</code> y</p>\n", paragraph, flags=re.S)
    assert code is not None and html.unescape(code[1]) == printable(text), paragraph


@PROPERTY
@given(texts)
def test_markdown_text_shows_the_text_as_it_is_in_a_table(text: str) -> None:
    table = MARKDOWN.render(f"| a | b |\n| --- | --- |\n| n {md_text(text)} | x |\n")
    [cell, _] = _cells(table)
    # No markup got through (emphasis, links, html): what shows is the text itself, but for
    # the zero-width spaces that break GitHub's references (printable escapes any the text
    # held); a table cell only trims the spaces around it.
    assert "<" not in cell.replace("&lt;", "")
    assert html.unescape(cell).replace("\u200b", "") == f"n {printable(text)}".strip()
    assert GITHUB_REFERENCE.search(html.unescape(cell)) is None, cell


# What GitHub makes live in the text a comment renders to: a mention notifies a user or a team,
# an issue reference (in any repository) links back from that issue, and so does a bare link.
GITHUB_REFERENCE = re.compile(r"@\w|#[0-9]|\bgh-[0-9]|https?://|\bwww\.", re.IGNORECASE)


@pytest.mark.parametrize(
    "name",
    [
        "cc @acme/security-team",
        "see acme/other#1",
        "fixes #12",
        "GH-7",
        "https://github.com/acme/other/issues/1",
        "www.example.com",
        "ops@example.com",
    ],
)
def test_a_name_in_markdown_mentions_no_one_and_links_no_issue(name: str) -> None:
    shown = html.unescape(MARKDOWN.render(md_text(name)))
    assert GITHUB_REFERENCE.search(shown) is None, shown
    assert shown.replace("\u200b", "") == f"<p>{name}</p>\n"  # reads the same


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("a`b", "``a`b``"),
        ("`", "`` ` ``"),
        ("``x", "``` ``x ```"),
        (" 1 ", "`  1  `"),
        ("   ", "`   `"),
        ("a|b", "`a\\|b`"),
    ],
)
def test_code_span_fences(text: str, span: str) -> None:
    assert md_code(text) == span


def test_every_line_of_a_message_is_labelled_and_printable() -> None:
    assert labelled("error: ", "a.yaml: bad\nb.yaml: \x1b[2Jworse\n") == (
        "error: a.yaml: bad\nerror: b.yaml: \\u001b[2Jworse"
    )


@PROPERTY
@given(texts)
def test_a_status_name_shows_as_it_is_in_plans_and_drift_reports(name: str) -> None:
    catalog = StatusCatalog({1: ShopStatuses("2026-12-01T10:00:00Z", "en-gb", {"9": KnownStatus(name)})})
    before, after = mapping("1", "2", "3", None), mapping("1", "2", "9", None)
    plan = make_plan([loaded(1, after)], state_of((1, before)))
    # A blank name says nothing; a long one is shortened where people read it.
    short = name if len(name) <= MAX_NAME_SHOWN else name[: MAX_NAME_SHOWN - 1] + "…"
    shown = f'"9" ({printable(short)})' if name.strip() else '"9"'

    out = io.StringIO()
    render_text(plan, out, catalog=catalog)
    lines = out.getvalue().split("\n")
    assert all(shown_on_one_line(line) for line in lines)
    assert f'DELIVERED  "3" -> {shown}' in lines[3]  # its own line: no name adds one
    plain = io.StringIO()
    render_text(plan, plain)
    assert len(plain.getvalue().split("\n")) == len(lines)

    # A name cannot end a cell, open a tag or emphasise: the cell reads back as the name.
    out = io.StringIO()
    render_markdown(plan, out, catalog=catalog)
    [cells] = table_rows(out.getvalue())
    assert len(cells) == 6 and shown_in(cells[5]) == shown

    report = DriftReport((compare(loaded(1, before), before, live(after)),))
    out = io.StringIO()
    render_drift_markdown(report, out, catalog=catalog)
    [cells] = table_rows(out.getvalue())
    assert len(cells) == 7 and shown_in(cells[4]) == shown

    out = io.StringIO()
    render_json(plan, out, catalog=catalog)
    assert json.loads(out.getvalue())["changes"][0]["status_names"] == {"9": name}
