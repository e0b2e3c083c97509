"""The three-way merge of status catalogs: per integration the changed side, else the newest read,
and the same result whichever side merges into the other."""

from __future__ import annotations

import pytest

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog, recorded
from statusync.core.catalog_merge import merge_catalogs


def shop(read_at: str, name: str, deleted: bool = False) -> ShopStatuses:
    return ShopStatuses(read_at, "en-gb", {"5": KnownStatus(name, deleted)})


OLD = shop("2026-01-01T00:00:00Z", "Delivered")
NEWER = shop("2026-02-01T00:00:00Z", "Handed over")
NEWEST = shop("2026-03-01T00:00:00Z", "Arrived")


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "merged"),
    [
        ({}, {1: OLD}, {2: NEWER}, {1: OLD, 2: NEWER}),  # both added different integrations
        ({1: OLD}, {1: OLD}, {1: NEWER}, {1: NEWER}),  # changed on one side only
        ({1: OLD}, {1: NEWEST}, {1: NEWER}, {1: NEWEST}),  # both read: the newest wins
        ({1: OLD}, {1: NEWER}, {1: NEWEST}, {1: NEWEST}),
        ({1: OLD}, {}, {1: OLD}, {}),  # left one side's state, untouched on the other
        ({1: OLD}, {}, {1: NEWER}, {1: NEWER}),  # left one side, read again on the other
    ],
)
def test_merge_keeps_the_changed_side_or_the_newest_read(
    base: dict[int, ShopStatuses],
    ours: dict[int, ShopStatuses],
    theirs: dict[int, ShopStatuses],
    merged: dict[int, ShopStatuses],
) -> None:
    result = merge_catalogs(StatusCatalog(base), StatusCatalog(ours), StatusCatalog(theirs))
    assert dict(result.shops) == merged


def test_two_reads_of_the_same_second_merge_alike_in_both_directions() -> None:
    one = shop("2026-02-01T00:00:00Z", "Handed over")
    other = shop("2026-02-01T00:00:00Z", "Arrived", deleted=True)
    base = StatusCatalog({1: OLD})
    forth = merge_catalogs(base, StatusCatalog({1: one}), StatusCatalog({1: other}))
    back = merge_catalogs(base, StatusCatalog({1: other}), StatusCatalog({1: one}))
    assert forth == back
    assert forth.shops[1] in (one, other)


def test_recording_reads_drops_integrations_no_longer_kept() -> None:
    catalog = StatusCatalog({1: OLD, 2: OLD, 3: OLD})
    result = recorded(catalog, {3: NEWER, 4: NEWEST}, keep={1})
    assert dict(result.shops) == {1: OLD, 3: NEWER, 4: NEWEST}
