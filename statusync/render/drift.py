"""Drift renderers: text for people, json for scripts, markdown for the body of a GitHub issue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from statusync.console import Paint, plural
from statusync.core.catalog import StatusCatalog
from statusync.core.drift import Cause, DriftReport, IntegrationDrift
from statusync.core.drift_status import DriftStatus
from statusync.render.markdown import MARKDOWN_BUDGET, MarkdownBudget, md_cell, md_code, md_name, md_text
from statusync.render.style import NO_NAMES, headline, painter, show, status_name, write_json
from statusync.text import printable

_LABEL = {
    DriftStatus.IN_SYNC: "in sync",
    DriftStatus.DRIFTED: "drifted",
    DriftStatus.INVALID: "invalid",
    DriftStatus.NOT_FOUND: "not found",
}
# The statuses listed one by one; in-sync integrations are only counted.
_LISTED = (DriftStatus.DRIFTED, DriftStatus.INVALID, DriftStatus.NOT_FOUND)

# What to do about each status; {reconcile} and {apply} are the commands, quoted per format.
_HINTS = {
    DriftStatus.DRIFTED: "Run {reconcile} to set the drifted integrations back to their files, or, "
    "to keep a live change, copy it into the file and run {apply}.",
    DriftStatus.INVALID: "Invalid entries point at shop statuses the shop no longer has: map those "
    "categories to statuses it still has (or null) in the files, then run {apply}.",
    DriftStatus.NOT_FOUND: "Not found: check integration_id and account in those files, or delete "
    "the files of integrations that no longer exist.",
}
# When nothing at all is found, the files are rarely all wrong: the API URL is.
_NOTHING_FOUND = (
    "No integration was found at all: check the API URL (STATUSYNC_API_URL or "
    "api_url in statusync.yaml; Sendcloud's is https://panel.sendcloud.sc/api/v3)."
)


def hints(report: DriftReport, quote: Callable[[str], str]) -> list[str]:
    """What to do, for each status the report has besides in sync."""
    commands = {"reconcile": quote("statusync reconcile"), "apply": quote("statusync apply")}
    found = [d for d in report.integrations if d.status is not DriftStatus.NOT_FOUND]
    if report.integrations and not found:
        return [_NOTHING_FOUND]
    return [_HINTS[s].format(**commands) for s in _LISTED if report.with_status(s)]


def cause_text(drift: IntegrationDrift) -> str:
    """Why the live mapping differs from the file, in the user's words."""
    if drift.cause is Cause.CHANGED_OUTSIDE:
        return "changed outside statusync (in Sendcloud's panel or by another tool) since the last apply"
    if drift.last_applied is None:
        return "not applied yet: statusync never applied this file"
    if drift.live == drift.last_applied:
        return "not applied yet: the file changed since the last apply"
    return (
        "not applied yet: the file changed since the last apply, and the live mapping was "
        "changed outside statusync too"
    )


def note(drift: IntegrationDrift) -> str:
    """One line on what is wrong with an integration that is not in sync."""
    if drift.status is DriftStatus.NOT_FOUND:
        return (
            f"Sendcloud has no integration {drift.integration_id} for account "
            f"'{printable(drift.loaded.account)}' (HTTP 404)"
        )
    if drift.status is DriftStatus.INVALID:
        return "the file asks for a shop status the shop no longer has; only a change to the file can fix it"
    return cause_text(drift)


def summary_line(report: DriftReport) -> str:
    s = report.summary()
    text = ", ".join(f"{s[status.value]} {_LABEL[status]}" for status in (*_LISTED, DriftStatus.IN_SYNC))
    if report.failures:
        text += f", {len(report.failures)} not checked (errors)"
    return text


def count_of(total: int) -> str:
    return plural(total, "integration")


def _differ(listed: int, total: int) -> str:
    # The verb agrees with the listed count, not with the total that `count_of` makes plural.
    return f"{listed} of {count_of(total)} differ{'s' if listed == 1 else ''} from the files"


def render_text(
    report: DriftReport,
    out: TextIO,
    *,
    color: bool = False,
    advice: bool = True,
    catalog: StatusCatalog = NO_NAMES,
) -> None:
    """The report for people; `advice` adds what to do about each kind of difference. Each
    external id shows its shop status's name when `catalog` knows it."""
    paint = painter(color)
    if not report.differs:
        if report.failures:
            # Not "no drift": nothing is known about the integrations that could not be read.
            total = len(report.integrations) + len(report.failures)
            out.write(
                f"Drift unknown for {len(report.failures)} of {count_of(total)}: they could "
                f"not be checked (errors above); {len(report.integrations)} in sync.\n"
            )
        else:
            out.write(f"No drift. {count_of(len(report.integrations))} in sync.\n")
        return
    listed = [d for d in report.integrations if d.status is not DriftStatus.IN_SYNC]
    out.write(f"{_differ(len(listed), len(report.integrations))}:\n\n")
    for drift in listed:
        _text_integration(drift, out, paint, catalog)
    out.write(paint(f"Drift: {summary_line(report)}.", bold=True) + "\n")
    for hint in hints(report, lambda command: f"'{command}'") if advice else []:
        out.write(f"{hint}\n")


def _text_integration(drift: IntegrationDrift, out: TextIO, paint: Paint, catalog: StatusCatalog) -> None:
    def shown(value: str | None) -> str:
        return show(value, status_name(catalog, drift.integration_id, value))

    # Padded to the longest label, and one space further than a plan's, as it always was.
    out.write(
        headline(
            drift.status,
            f"{_LABEL[drift.status]:<9} ",
            drift.integration_id,
            drift.file,
            drift.loaded.name,
            paint,
        )
        + "\n"
    )
    out.write(f"      # {note(drift)}\n")
    if drift.differences:
        never = drift.last_applied is None
        rows = [("category", "desired", "live", "last applied")] + [
            (d.category, shown(d.desired), shown(d.live), "-" if never else shown(d.last_applied))
            for d in drift.differences
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            # The first three columns are padded; the last is not.
            padded = "  ".join(f"{cell:<{w}}" for cell, w in zip(row[:3], widths, strict=True))
            out.write(f"      {padded}  {row[3]}\n")
    for entry in drift.invalid:
        out.write(
            f"      {entry.category}: live {shown(entry.external_id)} points at a shop status "
            "the shop no longer has\n"
        )
    out.write("\n")


def shows_ids(report: DriftReport) -> bool:
    """Whether the report shows any external id (a difference or an invalid entry): only then
    are names worth reading."""
    return any(d.differences or d.invalid for d in report.integrations)


def render_json(report: DriftReport, out: TextIO, *, catalog: StatusCatalog = NO_NAMES) -> None:
    document = report.data()
    for entry, drift in zip(document["integrations"], report.integrations, strict=True):
        entry["status_names"] = status_names(drift, catalog)
    write_json(document, out)


def status_names(drift: IntegrationDrift, catalog: StatusCatalog) -> dict[str, str]:
    """The names the catalog knows of the ids an entry shows (desired, live and last applied of
    each difference, the external id of each invalid entry), id → name; `{}` when none."""
    ids = [v for d in drift.differences for v in (d.desired, d.live, d.last_applied)]
    return catalog.names_for(drift.integration_id, ids + [i.external_id for i in drift.invalid])


def _who(drift: IntegrationDrift) -> str:
    return f"{drift.integration_id}{md_name(drift.loaded.name)}"


def _not_checked(report: DriftReport, out: MarkdownBudget) -> None:
    """The integrations that could not be checked, each with why (an account that was stopped
    names itself there): a report read on its own still says what it does not cover."""
    if not report.failures:
        return
    out.write("\n### Not checked\n\n| integration | file | why |\n| --- | --- | --- |\n")
    for failure in report.failures:
        spec = failure.loaded.spec
        who = f"{spec.integration_id}{md_name(spec.name)}"
        out.group(
            [f"| {who} | {md_code(failure.loaded.file)} | {md_text(failure.error)} |\n"],
            str(spec.integration_id),
        )
    out.note("integration", "statusync drift", "not checked")


def render_markdown(
    report: DriftReport, stream: TextIO, budget: int = MARKDOWN_BUDGET, *, catalog: StatusCatalog = NO_NAMES
) -> None:
    out = MarkdownBudget(stream, budget)
    listed = [d for d in report.integrations if d.status is not DriftStatus.IN_SYNC]
    total = len(report.integrations)
    if listed:
        out.write(f"## statusync drift: {_differ(len(listed), total)}\n\n")
    else:
        out.write(f"## statusync drift: {count_of(total)} in sync\n\n")
    out.write(f"**{summary_line(report)}**\n")
    if report.failures:
        out.write(
            f"\n> [!WARNING]\n> {len(report.failures)} integrations could not be checked; "
            "the errors are in the log of the run.\n"
        )
    differing = [d for d in listed if d.differences]
    _not_checked(report, out)
    if differing:
        out.write(
            "\n### Differences\n\n"
            "| integration | file | category | desired | live | last applied | cause |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n"
        )
        for drift in differing:
            cell = _cells(drift, catalog)
            rows = []
            lead = f"| {_who(drift)} | {md_code(drift.file)} "
            cause = cause_text(drift)
            for d in drift.differences:
                applied = "*never applied*" if drift.last_applied is None else cell(d.last_applied)
                rows.append(
                    lead + f"| {d.category} | {cell(d.desired)} | {cell(d.live)} | {applied} | {cause} |\n"
                )
                lead, cause = "| | ", ""
            out.group(rows, str(drift.integration_id))
        out.note("integration", "statusync drift", "with differences")
    invalid = [d for d in report.integrations if d.invalid]
    if invalid:
        out.write(
            "\n### Invalid live entries\n\n"
            "These point at shop statuses the shop no longer has.\n\n"
            "| integration | file | category | external id |\n| --- | --- | --- | --- |\n"
        )
        for drift in invalid:
            out.group(
                [
                    f"| {_who(drift)} | {md_code(drift.file)} | {entry.category} "
                    f"| {_cells(drift, catalog)(entry.external_id)} |\n"
                    for entry in drift.invalid
                ],
                str(drift.integration_id),
            )
        out.note("integration", "statusync drift", "with invalid entries")
    missing = report.with_status(DriftStatus.NOT_FOUND)
    if missing:
        out.write("\n### Not found\n\n")
        for drift in missing:
            out.group(
                [f"- {_who(drift)} {md_code(drift.file, table=False)}: {note(drift)}\n"],
                str(drift.integration_id),
            )
        out.note("integration", "statusync drift", "not found")
    todo = hints(report, lambda command: f"`{command}`")
    if todo:
        out.write("\n### What to do\n\n" + "".join(f"- {hint}\n" for hint in todo))


def _cells(drift: IntegrationDrift, catalog: StatusCatalog) -> Callable[[str | None], str]:
    """How a value of `drift` is written in a table cell: with its name when it is known."""

    def cell(value: str | None) -> str:
        return md_cell(value, status_name(catalog, drift.integration_id, value))

    return cell


def render(
    report: DriftReport, output_format: str, out: TextIO, *, color: bool, catalog: StatusCatalog = NO_NAMES
) -> None:
    """`report` in the format `--format` names: json, markdown, or text for anything else."""
    if output_format == "json":
        render_json(report, out, catalog=catalog)
    elif output_format == "markdown":
        render_markdown(report, out, catalog=catalog)
    else:
        render_text(report, out, color=color, catalog=catalog)
