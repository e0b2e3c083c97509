"""Plan renderers: text for people, json for scripts, markdown for pull-request comments."""

from __future__ import annotations

import json
from typing import Callable, TextIO

import click

from statusync.core.plan import Action, Change, Plan
from statusync.core.text import md_code, md_text, printable

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.RESET: "!", Action.FORGET: "-"}
_COLOR = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.RESET: "red", Action.FORGET: "red"}
_NOTE = {
    Action.CREATE: "",
    Action.UPDATE: "",
    Action.RESET: "file removed: all four categories will be unmapped",
    Action.FORGET: "file removed: statusync stops managing it, nothing is sent",
}


def show(value: str | None) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    return (f"{s['create']} to create, {s['update']} to update, {s['reset']} to reset, "
            f"{s['forget']} to forget, {s['unchanged']} unchanged")


def render_text(plan: Plan, out: TextIO, *, color: bool = False, breach: str | None = None) -> None:
    paint: Callable[..., str] = click.style if color else (lambda text, **_: text)
    if not plan.changes:
        out.write(f"No changes. {plan.unchanged} integration"
                  f"{'' if plan.unchanged == 1 else 's'} up to date.\n")
        return
    out.write("statusync will perform the following actions:\n\n")
    for change in plan.changes:
        _text_change(change, out, paint)
    out.write(paint(f"Plan: {summary_line(plan)}.", bold=True) + "\n")
    if breach:
        out.write(paint(f"\nWarning: {breach}.", fg="red") + "\n")


def _text_change(change: Change, out: TextIO, paint: Callable[..., str]) -> None:
    head = (f"  {_SYMBOL[change.action]} {change.action.value:<6} {change.integration_id}  "
            f"{printable(change.file)}")
    if change.name:
        head += f"  ({printable(change.name)})"
    out.write(paint(head, fg=_COLOR[change.action]) + "\n")
    if _NOTE[change.action]:
        out.write(f"      # {_NOTE[change.action]}\n")
    width = max((len(c) for c, _, _ in change.differences()), default=0)
    for category, before, after in change.differences():
        value = show(after) if change.action is Action.CREATE else f"{show(before)} -> {show(after)}"
        out.write(f"      {category:<{width}}  {value}\n")
    out.write("\n")


def render_json(plan: Plan, out: TextIO) -> None:
    """The contract's JSON document; a safety breach is not part of it (apply refuses anyway)."""
    json.dump(plan.data(), out, indent=2, ensure_ascii=False)
    out.write("\n")


def md_cell(value: str | None) -> str:
    return md_code(show(value))


# GitHub keeps a comment or an issue body to 65,536 characters; a markdown report stops listing
# rows before that, leaving room for the lines that follow and a note of what was left out.
MARKDOWN_BUDGET = 60_000


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


def render_markdown(plan: Plan, out: TextIO, *, breach: str | None = None,
                    budget: int = MARKDOWN_BUDGET) -> None:
    table = MarkdownBudget(out, budget)
    table.write(f"### statusync plan\n\n**{summary_line(plan)}**\n")
    if breach:
        table.write(f"\n> [!WARNING]\n> {breach}.\n")
    if not plan.changes:
        table.write("\nNo changes.\n")
        return
    table.write("\n| action | integration | file | category | before | after |\n"
                "| --- | --- | --- | --- | --- | --- |\n")
    for change in plan.changes:
        table.group(_markdown_rows(change))
    table.note("changes", "statusync plan")


def _markdown_rows(change: Change) -> list[str]:
    name = f" ({md_text(change.name)})" if change.name else ""
    lead = f"| {change.action.value} | {change.integration_id}{name} | {md_code(change.file)} "
    if change.action is Action.FORGET:
        return [lead + "| *all* | *unchanged* | *no longer managed* |\n"]
    rows = []
    for category, before, after in change.differences():
        old = "" if change.action is Action.CREATE else md_cell(before)
        rows.append(lead + f"| {category} | {old} | {md_cell(after)} |\n")
        lead = "| | | "
    return rows


def render(plan: Plan, fmt: str, out: TextIO, *, color: bool, breach: str | None) -> None:
    """`plan` in the format `--format` names."""
    if fmt == "json":
        render_json(plan, out)
    elif fmt == "markdown":
        render_markdown(plan, out, breach=breach)
    else:
        render_text(plan, out, color=color, breach=breach)
