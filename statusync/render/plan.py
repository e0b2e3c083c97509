"""Plan renderers: text for people, json for scripts, markdown for pull-request comments."""

from __future__ import annotations

from typing import TextIO

from statusync.console import Paint, plural
from statusync.core.plan import Action, Change, Plan
from statusync.render.markdown import MARKDOWN_BUDGET, MarkdownBudget, md_cell, md_code, md_text
from statusync.render.style import headline, painter, show, write_json

# Said under the head of an action whose effect its name does not tell.
_NOTE = {
    Action.CREATE: "",
    Action.UPDATE: "",
    Action.RESET: "file removed: all four categories will be unmapped",
    Action.FORGET: "file removed: statusync stops managing it, nothing is sent",
    Action.UNCERTAIN: "the last write's outcome is unknown (the run sending it was stopped): "
                      "apply sends the file's mapping again",
}


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    # Uncertain ones are named only when there are any: they are rare, and news when they come.
    uncertain = f"{s['uncertain']} uncertain to settle, " if s["uncertain"] else ""
    return (f"{s['create']} to create, {s['update']} to update, {s['reset']} to reset, "
            f"{s['forget']} to forget, {uncertain}{s['unchanged']} unchanged")


def live_values(change: Change, category: str) -> list[str | None] | None:
    """What live may hold for `category` of an uncertain change: the last applied value and the
    value sent, or only the one sent when nothing was applied before (None: not uncertain)."""
    if change.action is not Action.UNCERTAIN:
        return None
    sent = (change.sent or {}).get(category)
    if change.before is None:
        return [sent]
    before = change.before.get(category)
    return [before] if before == sent else [before, sent]


def render_text(plan: Plan, out: TextIO, *, color: bool = False, breach: str | None = None) -> None:
    paint = painter(color)
    if not plan.changes:
        out.write(f"No changes. {plural(plan.unchanged, 'integration')} up to date.\n")
        return
    out.write("statusync will perform the following actions:\n\n")
    label_width = max(6, *(len(c.action.value) for c in plan.changes))
    for change in plan.changes:
        _text_change(change, out, paint, label_width)
    out.write(paint(f"Plan: {summary_line(plan)}.", bold=True) + "\n")
    if breach:
        out.write(paint(f"\nWarning: {breach}.", fg="red") + "\n")


def _text_change(change: Change, out: TextIO, paint: Paint, label_width: int) -> None:
    # Padded to the longest action, so that the integration ids line up.
    out.write(headline(change.action, f"{change.action.value:<{label_width}}",
                       change.integration_id, change.file, change.name, paint) + "\n")
    if _NOTE[change.action]:
        out.write(f"      # {_NOTE[change.action]}\n")
    width = max((len(c) for c, _, _ in change.differences()), default=0)
    for category, before, after in change.differences():
        live = live_values(change, category)
        if live is not None:
            known = "" if change.before is not None else "unknown or "
            value = f"{known}{' or '.join(map(show, live))} -> {show(after)}"
        elif change.action is Action.CREATE:
            value = show(after)
        else:
            value = f"{show(before)} -> {show(after)}"
        out.write(f"      {category:<{width}}  {value}\n")
    out.write("\n")


def render_json(plan: Plan, out: TextIO) -> None:
    """The contract's JSON document; a safety breach is not part of it (apply refuses anyway)."""
    write_json(plan.data(), out)


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
        live = live_values(change, category)
        if live is not None:
            known = "" if change.before is not None else "*unknown* or "
            old = known + " or ".join(md_cell(v) for v in live)
        else:
            old = "" if change.action is Action.CREATE else md_cell(before)
        rows.append(lead + f"| {category} | {old} | {md_cell(after)} |\n")
        lead = "| | | "
    if not rows:  # uncertain, though every value is the file's: it is sent again all the same
        rows.append(lead + "| *all* | *last write unknown* | *as in the file* |\n")
    return rows


def render(plan: Plan, output_format: str, out: TextIO, *, color: bool,
           breach: str | None) -> None:
    """`plan` in the format `--format` names: json, markdown, or text for anything else."""
    if output_format == "json":
        render_json(plan, out)
    elif output_format == "markdown":
        render_markdown(plan, out, breach=breach)
    else:
        render_text(plan, out, color=color, breach=breach)
