"""The three-way merge of two status catalogs that grew apart from a common one.

The catalog is a record of reads, so the merge is simpler than the state's
(statusync.core.state_merge): per integration, a side that changed it wins over one that did
not; when both changed it, the newest read wins (`read_at`), and two reads of the same second
are told apart by their content (the greater of the two, sorted), so that both sides of a merge
(ours into theirs, theirs into ours, or --push's rebase) get the same result. An integration one
side dropped (it left that side's state) and the other read again is kept: a stale entry costs
nothing and the next run that saves the catalog drops it when it is not managed.

Pure: the callers read and write the files (`statusync merge-state`, `--push`).
"""

from __future__ import annotations

import json

from statusync.core.catalog import ShopStatuses, StatusCatalog


def merge_catalogs(base: StatusCatalog, ours: StatusCatalog, theirs: StatusCatalog) -> StatusCatalog:
    merged: dict[int, ShopStatuses] = {}
    for integration_id in sorted({*base.shops, *ours.shops, *theirs.shops}):
        b = base.shops.get(integration_id)
        o = ours.shops.get(integration_id)
        t = theirs.shops.get(integration_id)
        if o == t or t == b:
            chosen = o
        elif o == b:
            chosen = t
        elif o is None or t is None:
            chosen = o or t
        else:
            chosen = max(o, t, key=_newest)
        if chosen is not None:
            merged[integration_id] = chosen
    return StatusCatalog(merged)


def _newest(shop: ShopStatuses) -> tuple[str, str]:
    # read_at is ISO 8601 UTC of whole seconds: its text sorts as its time.
    content = json.dumps(
        [shop.language, sorted((e, s.name, s.deleted) for e, s in shop.statuses.items())],
        ensure_ascii=False,
    )
    return shop.read_at, content
