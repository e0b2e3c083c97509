"""How plans and drift reports look in every format: one mark (symbol and colour) per plan
action and drift status, how a mapping value is written, colour on or off, and the JSON layout.

Plan actions and drift statuses share one table so that a symbol means the same thing in
`plan`, `apply`, `drift` and `reconcile`: `~` is always "will change" or "has changed".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple, TextIO

import click

from statusync.console import Paint
from statusync.core.catalog import StatusCatalog
from statusync.core.drift_status import DriftStatus
from statusync.core.plan import Action
from statusync.text import json_safe, named_id, printable, short_name

# What a renderer shows when no names are to be shown (no catalog, or nothing read yet).
NO_NAMES = StatusCatalog()


class Mark(NamedTuple):
    symbol: str
    color: str


MARKS: dict[Action | DriftStatus, Mark] = {
    Action.CREATE: Mark("+", "green"),
    Action.UPDATE: Mark("~", "yellow"),
    Action.RESET: Mark("!", "red"),
    Action.FORGET: Mark("-", "red"),
    Action.UNCERTAIN: Mark("?", "magenta"),  # live may or may not hold the last write
    DriftStatus.DRIFTED: Mark("~", "yellow"),
    DriftStatus.INVALID: Mark("!", "red"),
    DriftStatus.NOT_FOUND: Mark("?", "red"),
    # In-sync integrations are only counted, never listed, so they need no mark.
}


def _plain(text: str, **_: Any) -> str:
    return text


def painter(color: bool) -> Paint:
    """click.style when colour is on; otherwise a paint that leaves the text as it is."""
    return click.style if color else _plain


def show(value: str | None, name: str | None = None) -> str:
    """A mapping value as the YAML files write it: `null` or a double-quoted string, with any
    character that is not printable escaped (`"\\u202e"`), as in the files `fmt` writes; with
    the shop status's `name` after it when it is known: `"12" (Remote payment accepted)`."""
    if value is None:
        return "null"
    return named_id(value, name)


def status_name(catalog: StatusCatalog, integration_id: int, value: str | None) -> str | None:
    """The name to show beside `value`: the catalog's, unless it is unknown or blank (a name of
    only spaces would show as an empty pair of parentheses)."""
    name = catalog.name_of(integration_id, value)
    return None if name is None else short_name(name)


def headline(
    kind: Action | DriftStatus, label: str, integration_id: int, file: str, name: str | None, paint: Paint
) -> str:
    """The coloured first line of a listed integration; `label` comes padded to its column."""
    line = f"  {MARKS[kind].symbol} {label} {integration_id}  {printable(file)}"
    if name:
        line += f"  ({printable(name)})"
    return paint(line, fg=MARKS[kind].color)


def write_json(document: Mapping[str, Any], out: TextIO) -> None:
    """One indented document with non-ASCII kept as it is, for scripts and for people reading it."""
    # Names and ids keep their accents; only characters that are not printable are escaped.
    out.write(json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n")
