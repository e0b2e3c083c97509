"""Mapping files checked offline against the status catalog: which mapped external ids the shop
did not have, or had deleted, when statusync last read its statuses.

Warnings, not errors: the catalog is a record of a past read, and the shop may have added the
status since. They say when the read was made and how to check live. Findings carry the key
path of their value; the file layer locates them (statusync.files.mappings.located).
"""

from __future__ import annotations

from statusync.core.catalog import ShopStatuses
from statusync.core.model import MappingDict
from statusync.core.status_check import Finding
from statusync.text import named_id, printable, quote

CHECK_LIVE = "check live with 'statusync validate --remote'"


def catalog_findings(shop: ShopStatuses, mapping: MappingDict) -> list[Finding]:
    """Every external id of `mapping` that `shop`, as last read, did not have or had deleted."""
    read = f"as last read on {read_date(shop.read_at)}"
    findings: list[Finding] = []
    for category, external_id in mapping.items():
        if external_id is None:
            continue
        status = shop.statuses.get(external_id)
        if status is None:
            message = f"{category}: the shop had no status {quote(external_id)} {read}; {CHECK_LIVE}"
        elif status.deleted:
            message = (
                f"{category}: status {named_id(external_id, status.name)} was deleted in the shop "
                f"{read}, and orders never reach a deleted status; map another status or null, "
                f"or {CHECK_LIVE}"
            )
        else:
            continue
        findings.append(Finding(("mapping", category), message))
    return findings


def read_date(read_at: str) -> str:
    """The day of a read (`2026-12-01` of `2026-12-01T10:00:00Z`), as a person asks "how old"."""
    return printable(read_at.split("T", 1)[0])
