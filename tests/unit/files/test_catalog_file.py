"""The status catalog on disk: a stable, readable file that round-trips, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.errors import StatusyncError
from statusync.files.catalog_file import (
    catalog_path,
    dump_catalog,
    load_catalog,
    looks_like_catalog,
    record_reads,
    save_catalog,
)

SHOP = ShopStatuses(
    "2026-12-01T10:00:00Z",
    "en-gb",
    {
        "12": KnownStatus("Remote payment accepted"),
        "2": KnownStatus("Payment accepted"),
        "7": KnownStatus("Old status", deleted=True),
    },
)


def test_the_catalog_round_trips_sorted_with_ids_in_numeric_order(tmp_path: Path) -> None:
    path = catalog_path(tmp_path / ".statusync" / "state.json")
    assert path == tmp_path / ".statusync" / "statuses.json"
    catalog = StatusCatalog({9: SHOP, 3: SHOP})
    save_catalog(path, catalog)
    assert load_catalog(path) == catalog
    data = json.loads(path.read_text())
    assert list(data["integrations"]) == ["3", "9"]
    assert list(data["integrations"]["9"]["statuses"]) == ["2", "7", "12"]
    assert data["integrations"]["9"]["statuses"]["7"] == {"name": "Old status", "deleted": True}
    assert path.read_bytes() == dump_catalog(catalog) and path.read_text().endswith("}\n")


def test_names_are_looked_up_per_integration() -> None:
    catalog = StatusCatalog({9: SHOP})
    assert catalog.name_of(9, "12") == "Remote payment accepted"
    assert catalog.name_of(9, "99") is None and catalog.name_of(8, "12") is None
    assert catalog.name_of(9, None) is None
    assert catalog.names_for(9, ["12", None, "99", "7"]) == {
        "12": "Remote payment accepted",
        "7": "Old status",
    }


def test_a_missing_catalog_is_empty_and_a_corrupt_one_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "statuses.json"
    assert load_catalog(path) == StatusCatalog()
    path.write_text('{"version": 1, "integrations": {"1": {"read_at": "x"}}}')
    with pytest.raises(
        StatusyncError, match=r"statuses.json: the status catalog is corrupt \(integrations\.1\."
    ):
        load_catalog(path)
    path.write_text("{")
    with pytest.raises(StatusyncError, match="corrupt.*statuses --refresh"):
        load_catalog(path)
    path.write_text('{"version": 7, "integrations": {}}')
    with pytest.raises(StatusyncError, match="upgrade statusync"):
        load_catalog(path)


def test_only_the_integrations_asked_for_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    assert load_catalog(path, only={9, 4}) == StatusCatalog({9: SHOP})
    data = json.loads(path.read_text())
    data["integrations"]["3"]["language"] = 7
    path.write_text(json.dumps(data))
    assert load_catalog(path, only={9}) == StatusCatalog({9: SHOP})
    with pytest.raises(StatusyncError, match=r"corrupt \(integrations\.3\.language: Input should be a valid"):
        load_catalog(path)
    data["integrations"]["x"] = data["integrations"].pop("3")  # the outline is checked whole
    path.write_text(json.dumps(data))
    with pytest.raises(StatusyncError, match=r"corrupt \(integrations\.x\.\[key\]"):
        load_catalog(path, only={9})


def test_values_written_by_hand_read_as_the_file_format_allows(tmp_path: Path) -> None:
    path = tmp_path / "statuses.json"
    statuses = {"7": {"name": "Old status", "deleted": "true"}, "2": {"name": "Paid", "deleted": 0}}
    shop = {"read_at": SHOP.read_at, "language": "en-gb", "statuses": statuses}
    path.write_text(json.dumps({"version": 1, "integrations": {"09": shop}}))
    expected = ShopStatuses(
        SHOP.read_at, "en-gb", {"2": KnownStatus("Paid"), "7": KnownStatus("Old status", True)}
    )
    assert load_catalog(path, only={9}) == load_catalog(path) == StatusCatalog({9: expected})


def test_a_corrupt_catalog_is_replaced_by_the_reads_of_a_run_with_a_note(tmp_path: Path) -> None:
    path = catalog_path(tmp_path / "state.json")
    path.write_text("{not json")
    note = record_reads(path, {4: SHOP}, keep=())
    assert note is not None and "status catalog is corrupt" in note
    assert load_catalog(path) == StatusCatalog({4: SHOP})


def test_the_merge_driver_tells_the_catalog_from_the_state() -> None:
    assert looks_like_catalog(dump_catalog(StatusCatalog({1: SHOP})))
    assert not looks_like_catalog(b'{"version": 1, "serial": 3, "lineage": "x", "integrations": {}}')
    assert not looks_like_catalog(b"not json")
