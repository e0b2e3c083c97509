"""The status catalog: what statusync last read of each managed integration's shop statuses.

A mapping file names shop statuses by external id ("12"); a reviewer needs the name behind it
("Remote payment accepted"). The catalog keeps, per integration, every status of the last read
of `GET /shop-order-statuses` (deleted ones included, so that an id the shop deleted keeps its
name), in the language statusync.yaml sets, and when that read was made. It is a record of a
read, not a promise about live: offline checks say how old it is.

Pure values; statusync.files.catalog_file reads and writes `.statusync/statuses.json`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from statusync.core.status_check import ShopStatus


@dataclass(frozen=True)
class KnownStatus:
    """One shop status as last read."""

    name: str
    deleted: bool = False


@dataclass(frozen=True)
class ShopStatuses:
    """One integration's statuses as last read, by external id."""

    read_at: str  # ISO 8601 UTC, whole seconds, as the state's times
    language: str  # the language the names were read in, e.g. "en-gb"
    statuses: Mapping[str, KnownStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusCatalog:
    """Every integration's last read statuses, by integration id."""

    shops: Mapping[int, ShopStatuses] = field(default_factory=dict)

    def status(self, integration_id: int, external_id: str | None) -> KnownStatus | None:
        shop = self.shops.get(integration_id)
        if shop is None or external_id is None:
            return None
        return shop.statuses.get(external_id)

    def name_of(self, integration_id: int, external_id: str | None) -> str | None:
        """The name of `external_id` in the integration's shop, when it was read; else None."""
        status = self.status(integration_id, external_id)
        return status.name if status is not None else None

    def names_for(self, integration_id: int, external_ids: Iterable[str | None]) -> dict[str, str]:
        """The known names of `external_ids` (unknown ids and nulls left out), id → name."""
        names: dict[str, str] = {}
        for external_id in external_ids:
            name = self.name_of(integration_id, external_id)
            if external_id is not None and name is not None:
                names[external_id] = name
        return names

    def with_shop(self, integration_id: int, shop: ShopStatuses) -> StatusCatalog:
        return StatusCatalog({**self.shops, integration_id: shop})

    def without(self, integration_ids: Iterable[int]) -> StatusCatalog:
        gone = set(integration_ids)
        return StatusCatalog({i: s for i, s in self.shops.items() if i not in gone})


def shop_from_read(statuses: Iterable[ShopStatus], language: str, read_at: str) -> ShopStatuses:
    """One read of a shop's statuses (deleted ones included) as the catalog keeps it."""
    known: dict[str, KnownStatus] = {}
    # A shop can delete a status and create it again with the same id: the live one wins.
    for status in sorted(statuses, key=lambda s: s.deleted_at is None):
        known[status.external_id] = KnownStatus(status.status, status.deleted_at is not None)
    return ShopStatuses(read_at, language, dict(sorted(known.items())))


def recorded(
    catalog: StatusCatalog, reads: Mapping[int, ShopStatuses], keep: Collection[int]
) -> StatusCatalog:
    """`catalog` with a run's `reads`, keeping only the integrations of `keep` and those read:
    an integration that left the state (forgotten, reset) leaves the catalog with it."""
    kept = set(keep) | set(reads)
    shops = {i: s for i, s in catalog.shops.items() if i in kept}
    shops.update(reads)
    return StatusCatalog(dict(sorted(shops.items())))
