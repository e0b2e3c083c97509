"""Shop status names for the commands that show external ids, and the offline warnings about
mapped ids the status catalog does not have (or has as deleted).

The catalog is read only when a command has ids to show (a plan with no changes does not read
it), and only the integrations whose ids are shown are checked and built (a plan changing one
shop of 10,000 builds one). It only adds names: one that cannot be read is a warning, and ids
then show as they are, without names, rather than a plan or a report that fails for want of them.
A shop whose entry is corrupt costs the names of that shop only when it is shown.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from statusync.console import Console
from statusync.core.catalog import StatusCatalog
from statusync.core.catalog_check import catalog_findings
from statusync.core.model import MappingDict
from statusync.errors import Problem, StatusyncError
from statusync.files.catalog_file import catalog_path, load_catalog
from statusync.files.mappings import located_again
from statusync.text import labelled, printable
from statusync.workspace import Workspace


def read_catalog(
    ws: Workspace, console: Console, integration_ids: Collection[int], *, say_language: bool = True
) -> StatusCatalog:
    """The statuses of `integration_ids` in the status catalog beside the state; empty, with a
    warning on stderr, when it cannot be read. With `say_language`, a note on stderr when the
    names were read in another language than statusync.yaml's (plan puts it among its warnings
    instead, so that the pull-request comment says it: language_note)."""
    try:
        catalog = load_catalog(catalog_path(ws.state_path), only=integration_ids)
    except StatusyncError as exc:
        console.note(labelled("warning: ", f"{exc}; external ids are shown without names"))
        return StatusCatalog()
    if say_language and (note := language_note(ws, catalog)) is not None:
        console.note(f"note: {note}")
    return catalog


def language_note(ws: Workspace, catalog: StatusCatalog) -> str | None:
    """What to say of names read before `language:` changed: still the shop's statuses, in
    another language, until they are read again."""
    wanted = ws.settings.language
    other = sorted({shop.language for shop in catalog.shops.values()} - {wanted})
    if not other:
        return None
    return (
        f"the status names shown were read in {printable(', '.join(other))}, and statusync.yaml "
        f"asks for {wanted}; 'statusync statuses --refresh' reads them in {wanted}"
    )


def status_warnings(
    ws: Workspace, catalog: StatusCatalog, mapped: Iterable[tuple[str, int, MappingDict]]
) -> list[Problem]:
    """For each (file, integration id, mapping), every mapped id the integration's statuses did
    not have, or had deleted, when last read; at the line of its value. An integration the
    catalog has no entry for is not checked: nothing is known of its statuses."""
    problems: list[Problem] = []
    for file, integration_id, mapping in mapped:
        shop = catalog.shops.get(integration_id)
        findings = [] if shop is None else catalog_findings(shop, mapping)
        if findings:
            problems += located_again(ws.root, file, findings)
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0))


def announce(problems: list[Problem], ws: Workspace, console: Console) -> None:
    """On GitHub Actions, each warning as a `::warning` annotation on its line (on stderr, which
    keeps stdout for the plan or report); elsewhere nothing more than the command prints."""
    from statusync.github.annotations import annotate

    annotate(problems, console.err, ws.env, ws.root, level="warning")
