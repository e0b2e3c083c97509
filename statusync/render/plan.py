"""Plan renderers: text for people, json for scripts, markdown for pull-request comments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from statusync.console import Paint, plural
from statusync.core.catalog import StatusCatalog
from statusync.core.plan import Action, Change, Plan
from statusync.render.markdown import MARKDOWN_BUDGET, MarkdownBudget, md_cell, md_code, md_name, md_text
from statusync.render.style import NO_NAMES, headline, painter, show, status_name, write_json
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
    plan: Plan,
    out: TextIO,
    *,
    color: bool = False,
    breach: str | None = None,
    warnings: Sequence[str] = (),
    catalog: StatusCatalog = NO_NAMES,
) -> None:
    """The plan for people; each external id with its shop status's name when `catalog` knows it."""
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
        _text_change(change, out, paint, label_width, catalog)
    out.write(paint(f"Plan: {summary_line(plan)}.", bold=True) + "\n")
    if breach:
        out.write(paint(f"\nWarning: {breach}.", fg="red") + "\n")


def _text_change(change: Change, out: TextIO, paint: Paint, label_width: int, catalog: StatusCatalog) -> None:
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

    def shown(value: str | None) -> str:
        return show(value, status_name(catalog, change.integration_id, value))

    width = max((len(c) for c, _, _ in change.differences()), default=0)
    for category, before, after in change.differences():
        live = live_values(change, category)
        if live is not None:
            known = "" if change.before is not None else "unknown or "
            value = f"{known}{' or '.join(map(shown, live))} -> {shown(after)}"
        elif change.action is Action.CREATE and change.before is None:
            value = shown(after)
        else:
            value = f"{shown(before)} -> {shown(after)}"
        out.write(f"      {category:<{width}}  {value}\n")
    out.write("\n")


def render_json(
    plan: Plan, out: TextIO, *, warnings: Sequence[str] = (), catalog: StatusCatalog = NO_NAMES
) -> None:
    """The contract's JSON document; a safety breach is not part of it (apply refuses anyway).
    `warnings` (e.g. a missing state file) is a top-level list, empty when there are none."""
    document = plan.data()
    for entry, change in zip(document["changes"], plan.changes, strict=True):
        entry["status_names"] = status_names(change, catalog)
    write_json({**document, "warnings": list(warnings)}, out)


def status_names(change: Change, catalog: StatusCatalog) -> dict[str, str]:
    """The names the catalog knows of the ids in a change's before, after and (uncertain) sent,
    id → name. Always a map, `{}` when none is known, so that a script needs no presence test."""
    ids = [v for m in (change.before, change.after, change.sent) if m is not None for v in m.values()]
    return catalog.names_for(change.integration_id, ids)


# The markdown plan is what a pull request shows: once merged, the apply job on main stops at the
# threshold, so it says how to push the change past it from GitHub (the apply workflow's `force`
# input), and from a clone.
FORCE_HINT = (
    "Once merged, apply on main stops at this threshold. To apply it all the same, run "
    "the **statusync apply** workflow by hand with **force** ticked (Actions → "
    "statusync apply → Run workflow, on the default branch), or run "
    "`statusync apply --force` from a clone with the Sendcloud keys."
)


# A comment lists this many warnings (one per mapped id its statuses do not have, at worst
# thousands); the rest are counted, and every one is in the text plan and the run's log.
WARNINGS_SHOWN = 20


def render_markdown(
    plan: Plan,
    out: TextIO,
    *,
    breach: str | None = None,
    budget: int = MARKDOWN_BUDGET,
    warnings: Sequence[str] = (),
    catalog: StatusCatalog = NO_NAMES,
) -> None:
    table = MarkdownBudget(out, budget)
    table.write("### statusync plan\n\n")
    if plan.only:
        table.write(f"> [!NOTE]\n> {partial_line(plan, lambda p: md_code(p, table=False))}.\n\n")
    for warning in warnings[:WARNINGS_SHOWN]:
        table.write(f"> [!WARNING]\n> {md_text(warning)}.\n\n")
    if len(warnings) > WARNINGS_SHOWN:
        more = plural(len(warnings) - WARNINGS_SHOWN, "more warning")
        table.write(f"> [!WARNING]\n> … and {more}: run `statusync plan` to see them all.\n\n")
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
        table.group(_markdown_rows(change, catalog), str(change.integration_id))
    table.note("change", "statusync plan")


def _markdown_rows(change: Change, catalog: StatusCatalog) -> list[str]:
    def cell(value: str | None) -> str:
        return md_cell(value, status_name(catalog, change.integration_id, value))

    lead = (
        f"| {change.action.value} | {change.integration_id}{md_name(change.name)} | {md_code(change.file)} "
    )
    if change.action is Action.FORGET:
        return [lead + "| *all* | *unchanged* | *no longer managed* |\n"]
    rows = []
    for category, before, after in change.differences():
        live = live_values(change, category)
        if live is not None:
            known = "" if change.before is not None else "*unknown* or "
            old = known + " or ".join(cell(v) for v in live)
        else:
            old = "" if change.action is Action.CREATE and change.before is None else cell(before)
        rows.append(lead + f"| {category} | {old} | {cell(after)} |\n")
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
    catalog: StatusCatalog = NO_NAMES,
) -> None:
    """`plan` in the format `--format` names: json, markdown, or text for anything else."""
    if output_format == "json":
        render_json(plan, out, warnings=warnings, catalog=catalog)
    elif output_format == "markdown":
        render_markdown(plan, out, breach=breach, warnings=warnings, catalog=catalog)
    else:
        render_text(plan, out, color=color, breach=breach, warnings=warnings, catalog=catalog)
