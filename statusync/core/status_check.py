"""Mapping files checked against the shops themselves: which external ids a shop does not have
or has deleted. Findings carry the key path of the value they are about; the file layer turns
them into located problems (statusync.files.mappings.located)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from statusync.core.model import MappingDict
from statusync.errors import ApiError
from statusync.text import named_id, printable, quote, short_name

# Where a value is in a mapping file: its keys from the top, e.g. ("mapping", "DELIVERED").
Loc = tuple[str | int, ...]

# A shop may have dozens of statuses; a hint longer than a few lines is not read.
MAX_HINT_STATUSES = 8


class ShopStatus(Protocol):
    """One order status of a shop (the client's ShopStatus is one)."""

    @property
    def external_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def deleted_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Finding:
    """Something wrong with one value of a mapping file, before its line and column are known."""

    loc: Loc
    message: str


def status_findings(mapping: MappingDict, statuses: Sequence[ShopStatus]) -> list[Finding]:
    """Every external id of `mapping` that the shop does not have, or has deleted."""
    # A shop can delete a status and create it again with the same id: the live one wins.
    by_id = {s.external_id: s for s in sorted(statuses, key=lambda s: s.deleted_at is None)}
    hint = available_hint(statuses)
    findings: list[Finding] = []
    for category, external_id in mapping.items():
        if external_id is None:
            continue
        status = by_id.get(external_id)
        if status is None:
            message = f"{category}: the shop has no status {quote(external_id)} ({hint})"
        elif status.deleted_at is not None:
            message = (
                f"{category}: status {named_id(external_id, status.status)} was deleted in the shop on "
                f"{status.deleted_at.date().isoformat()}; map another status or null ({hint})"
            )
        else:
            continue
        findings.append(Finding(("mapping", category), message))
    return findings


def available_hint(statuses: Sequence[ShopStatus]) -> str:
    """The statuses not deleted, `available: "2" Payment accepted, "4" Shipped`, at most
    MAX_HINT_STATUSES of them."""
    ordered = sorted((s for s in statuses if s.deleted_at is None), key=_natural)
    if not ordered:
        return "the shop has no available statuses"
    shown = ", ".join(
        f"{quote(s.external_id)} {printable(short_name(s.status) or '')}".rstrip()
        for s in ordered[:MAX_HINT_STATUSES]
    )
    more = len(ordered) - MAX_HINT_STATUSES
    return f"available: {shown}" + (f" and {more} more" if more > 0 else "")


def integration_refusal(integration_id: int, exc: ApiError) -> str | None:
    """What the API's 4xx about one integration means (not found, not PrestaShop V2, ...); None
    for an error that concerns every request alike: credentials (401), the rate limit (429),
    the server (5xx) or the network."""
    if exc.status is None or not 400 <= exc.status < 500 or exc.status in (401, 429):
        return None
    if exc.status == 404:
        return f"integration {integration_id} not found (HTTP 404: {exc.detail})"
    return f"integration {integration_id}: HTTP {exc.status}: {exc.detail}"


def refusal_finding(refusal: str) -> Finding:
    return Finding(("integration_id",), f"{refusal}; its external ids cannot be checked")


def id_order(external_id: str) -> tuple[int, int, str]:
    """A sort key of external ids: numeric ids in numeric order ("2" before "10"), as a shop
    lists them, then the others alphabetically. Only ASCII digits count as numeric, and only up
    to 19 of them (an id from outside may be longer than Python converts)."""
    numeric = external_id.isascii() and external_id.isdecimal() and len(external_id) < 20
    return (0, int(external_id), external_id) if numeric else (1, 0, external_id)


def _natural(status: ShopStatus) -> tuple[int, int, str]:
    return id_order(status.external_id)
