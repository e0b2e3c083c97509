"""Mapping files checked offline against the statuses last read: unknown and deleted ids."""

from __future__ import annotations

from statusync.core.catalog import KnownStatus, ShopStatuses
from statusync.core.catalog_check import catalog_findings
from tests.support.builders import mapping

SHOP = ShopStatuses(
    "2026-11-30T08:15:00Z",
    "en-gb",
    {"1": KnownStatus("Paid"), "8": KnownStatus("Old\n\u202eone", deleted=True)},
)


def test_only_unknown_and_deleted_ids_are_found_each_at_its_category() -> None:
    findings = catalog_findings(SHOP, mapping("1", "99", "8", None))
    assert [f.loc for f in findings] == [("mapping", "IN_TRANSIT"), ("mapping", "DELIVERED")]
    unknown, deleted = (f.message for f in findings)
    assert unknown.startswith('IN_TRANSIT: the shop had no status "99" as last read on 2026-11-30;')
    # The name on one line and printable, spelled as plans show it: a warning is one line
    # wherever it is shown.
    assert deleted.startswith('DELIVERED: status "8" (Old\\n\\u202eone) was deleted in the shop')
    assert all(m.endswith("check live with 'statusync validate --remote'") for m in (unknown, deleted))


def test_a_deleted_status_without_a_name_is_named_by_its_id_alone() -> None:
    shop = ShopStatuses("2026-11-30T08:15:00Z", "en-gb", {"7": KnownStatus(" \n ", deleted=True)})
    [finding] = catalog_findings(shop, mapping(None, None, "7", None))
    assert finding.message.startswith('DELIVERED: status "7" was deleted')
