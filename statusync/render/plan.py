"""Plan renderers: text for people, json for scripts, markdown for pull-request comments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from statusync.console import Paint, plural
from statusync.core.plan import Action, Change, Plan
from statusync.render.markdown import MARKDOWN_BUDGET, MarkdownBudget, md_cell, md_code, md_text
from statusync.render.style import headline, painter, show, write_json
from statusync.text import printable

# Said under the head of an action whose effect its name does not tell.
_NOTE = {
    Action.CREATE: "",
    Action.UPDATE: "",
    Action.RESET: "file removed: all four categories will be unmapped",
    Action.FORGET: "file removed: statusync stops managing it, nothing is sent",
    Action.UNCERTAIN: "the last write's outcome is unknown (the run sending it was stopped, or "
    "it failed after it may have reached the API): apply sends the file's mapping again",
}


# Said under a create once apply has read the live mapping it replaces (core.creates).
_CREATE_OVER_LIVE = "replaces the live mapping shown on the left (read from Sendcloud just now)"


def _replaces_live(change: Change) -> bool:
    return change.action is Action.CREATE and change.before is not None


def partial_line(plan: Plan, quote: Callable[[str], str] = printable) -> str:
    """What a partial plan (`--only`) covers; the patterns as the command line had them."""
    only = " ".join(quote(f"--only {p}") for p in plan.only)
    return f"Partial plan ({only}): integrations outside it are not planned, sent or forgotten"


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    # Uncertain ones are named only when there are any: they are rare, and news when they come.
    uncertain = f"{s['uncertain']} uncertain to settle, " if s["uncertain"] else ""
    return (
        f"{s['create']} to create, {s['update']} to update, {s['reset']} to reset, "
        f"{s['forget']} to forget, {uncertain}{s['unchanged']} unchanged"
    )


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


def render_text(
    plan: Plan, out: TextIO, *, color: bool = False, breach: str | None = None, warnings: Sequence[str] = ()
) -> None:
    paint = painter(color)
    if plan.only:  # first of all: every count below is of the subset
        out.write(paint(partial_line(plan) + ".", bold=True) + "\n\n")
    for warning in warnings:  # at the top: it changes how the whole plan is to be read
        out.write(paint(f"Warning: {printable(warning)}.", fg="red") + "\n\n")
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
    out.write(
        headline(
            change.action,
            f"{change.action.value:<{label_width}}",
            change.integration_id,
            change.file,
            change.name,
            paint,
        )
        + "\n"
    )
    note = _CREATE_OVER_LIVE if _replaces_live(change) else _NOTE[change.action]
    if note:
        out.write(f"      # {note}\n")
    width = max((len(c) for c, _, _ in change.differences()), default=0)
    for category, before, after in change.differences():
        live = live_values(change, category)
        if live is not None:
            known = "" if change.before is not None else "unknown or "
            value = f"{known}{' or '.join(map(show, live))} -> {show(after)}"
        elif change.action is Action.CREATE and change.before is None:
            value = show(after)
        else:
            value = f"{show(before)} -> {show(after)}"
        out.write(f"      {category:<{width}}  {value}\n")
    out.write("\n")


def render_json(plan: Plan, out: TextIO, *, warnings: Sequence[str] = ()) -> None:
    """The contract's JSON document; a safety breach is not part of it (apply refuses anyway).
    `warnings` (e.g. a missing state file) is a top-level list, empty when there are none."""
    write_json({**plan.data(), "warnings": list(warnings)}, out)


# The markdown plan is what a pull request shows: once merged, the apply job on main stops at the
# threshold, so it says how to push the change past it from GitHub (the apply workflow's `force`
# input), and from a clone.
FORCE_HINT = (
    "Once merged, apply on main stops at this threshold. To apply it all the same, run "
    "the **statusync apply** workflow by hand with **force** ticked (Actions → "
    "statusync apply → Run workflow, on the default branch), or run "
    "`statusync apply --force` from a clone with the Sendcloud keys."
)


def render_markdown(
    plan: Plan,
    out: TextIO,
    *,
    breach: str | None = None,
    budget: int = MARKDOWN_BUDGET,
    warnings: Sequence[str] = (),
) -> None:
    table = MarkdownBudget(out, budget)
    table.write("### statusync plan\n\n")
    if plan.only:
        table.write(f"> [!NOTE]\n> {partial_line(plan, lambda p: md_code(p, table=False))}.\n\n")
    for warning in warnings:
        table.write(f"> [!WARNING]\n> {md_text(warning)}.\n\n")
    table.write(f"**{summary_line(plan)}**\n")
    if breach:
        table.write(f"\n> [!WARNING]\n> {breach}.\n>\n> {FORCE_HINT}\n")
    if not plan.changes:
        table.write("\nNo changes.\n")
        return
    table.write(
        "\n| action | integration | file | category | before | after |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
    )
    for change in plan.changes:
        table.group(_markdown_rows(change), str(change.integration_id))
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
            old = "" if change.action is Action.CREATE and change.before is None else md_cell(before)
        rows.append(lead + f"| {category} | {old} | {md_cell(after)} |\n")
        lead = "| | | "
    if not rows:  # uncertain, though every value is the file's: it is sent again all the same
        rows.append(lead + "| *all* | *last write unknown* | *as in the file* |\n")
    return rows


def render(
    plan: Plan,
    output_format: str,
    out: TextIO,
    *,
    color: bool,
    breach: str | None,
    warnings: Sequence[str] = (),
) -> None:
    """`plan` in the format `--format` names: json, markdown, or text for anything else."""
    if output_format == "json":
        render_json(plan, out, warnings=warnings)
    elif output_format == "markdown":
        render_markdown(plan, out, breach=breach, warnings=warnings)
    else:
        render_text(plan, out, color=color, breach=breach, warnings=warnings)
