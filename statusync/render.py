"""Plan renderers: text for people, json for scripts, markdown for pull-request comments."""

from __future__ import annotations

import json
from typing import Callable, TextIO

import click

from statusync.plan import Action, Change, Plan

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
    head = f"  {_SYMBOL[change.action]} {change.action.value:<6} {change.integration_id}  {change.file}"
    if change.name:
        head += f"  ({change.name})"
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
    # Pipes and backticks would break the table or the code span of a pull-request comment.
    text = show(value).replace("|", "\\|").replace("`", "'")
    return f"`{text}`"


def render_markdown(plan: Plan, out: TextIO, *, breach: str | None = None) -> None:
    out.write(f"### statusync plan\n\n**{summary_line(plan)}**\n")
    if breach:
        out.write(f"\n> [!WARNING]\n> {breach}.\n")
    if not plan.changes:
        out.write("\nNo changes.\n")
        return
    out.write("\n| action | integration | file | category | before | after |\n"
              "| --- | --- | --- | --- | --- | --- |\n")
    for change in plan.changes:
        name = f" ({change.name.replace('|', '/')})" if change.name else ""
        lead = f"| {change.action.value} | {change.integration_id}{name} | `{change.file}` "
        rows = change.differences() or [("", None, None)]
        for category, before, after in rows:
            if change.action is Action.FORGET:
                out.write(lead + "| *all* | *unchanged* | *no longer managed* |\n")
                continue
            old = "" if change.action is Action.CREATE else md_cell(before)
            out.write(lead + f"| {category} | {old} | {md_cell(after)} |\n")
            lead = "| | | "


def render(plan: Plan, fmt: str, out: TextIO, *, color: bool, breach: str | None) -> None:
    """`plan` in the format `--format` names."""
    if fmt == "json":
        render_json(plan, out)
    elif fmt == "markdown":
        render_markdown(plan, out, breach=breach)
    else:
        render_text(plan, out, color=color, breach=breach)
