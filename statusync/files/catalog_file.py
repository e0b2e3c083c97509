"""`.statusync/statuses.json`: the status catalog (statusync.core.catalog) on disk, beside the state.

Committed like the state, so its diffs are read: sorted, indented, newline-terminated, and
replaced whole and atomically. A missing file is an empty catalog (nothing read yet); anything
unreadable is an error naming the file, never a silent empty catalog, which would only hide
names. Names are outside text: they are kept as read and escaped where they are shown.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog, recorded
from statusync.core.catalog_merge import merge_catalogs
from statusync.core.status_check import id_order
from statusync.errors import StatusyncError, where_in
from statusync.files import CATALOG_NAME as CATALOG_NAME  # importers of the catalog take it here
from statusync.files.atomic import atomic_write
from statusync.files.collector import held_off
from statusync.files.json_utf8 import utf8
from statusync.files.lock import DEFAULT_LOCK_TIMEOUT, state_lock
from statusync.files.reading import read_regular
from statusync.text import json_string

CATALOG_VERSION = 1


# The models check what is not in the plain layout dump_catalog writes (_plain_shop), and tell
# what is wrong with it: rarely needed, so built when first used (defer_build).
class _StatusModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str
    deleted: bool = False


class _ShopModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    read_at: str
    language: str
    statuses: dict[str, _StatusModel]


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int
    integrations: dict[Annotated[int, Field(gt=0)], _ShopModel]


def catalog_path(state_path: Path) -> Path:
    """Where the catalog of the state at `state_path` lives: beside it."""
    return state_path.with_name(CATALOG_NAME)


def parse_catalog(raw: bytes, path: Path | str, only: Collection[int] | None = None) -> StatusCatalog:
    """The catalog in `raw`; with `only`, just the integrations of `only` that it has.

    A plan names the statuses of the few integrations it changes, from a catalog of thousands,
    so that a plan's names cost what it shows: in a file laid out as `dump_catalog` writes it,
    only the records of those shops are decoded (`_sliced`); otherwise the whole file is decoded
    and its outline checked, but only the shops asked for are checked and built. A record that
    is not read is not checked either (`statusync statuses` reads every one). The plain shapes
    `dump_catalog` writes are checked by hand; anything else (a value of another type, a missing
    or extra key) goes through the pydantic models, which give the same values and errors as
    validating the whole file did."""
    try:
        sliced = None if only is None else _sliced(raw, only)
        if sliced is not None:
            return StatusCatalog(
                {int(key): _plain_shop(shop) or _modelled_shop(key, shop) for key, shop in sliced.items()}
            )
        data: Any = json.loads(raw)
        if isinstance(data, dict) and data.get("version") not in (None, CATALOG_VERSION):
            raise StatusyncError(
                f"{path}: status catalog version {data.get('version')!r} is not supported by this "
                f"statusync (it reads version {CATALOG_VERSION}); upgrade statusync"
            )
        integrations = _outline(data)
        if integrations is None:  # an unusual outline: the models check it all, as they always did
            return StatusCatalog(_built(_CatalogModel.model_validate(data).integrations, only))
        if only is not None:  # looked up, not scanned: the keys were checked as written
            integrations = {str(i): integrations[str(i)] for i in sorted(only) if str(i) in integrations}
        shops: dict[int, ShopStatuses] = {}
        for key, shop in integrations.items():  # in the file's order: the first error is the models'
            shops[int(key)] = _plain_shop(shop) or _modelled_shop(key, shop)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else _first(exc)
        raise StatusyncError(
            f"{path}: the status catalog is corrupt ({detail}); restore it from git history, or "
            "delete it and run 'statusync statuses --refresh' to read it again"
        ) from None
    return StatusCatalog(dict(sorted(shops.items())))


# What `dump_catalog` writes around the shops, and before each shop: a shop's key is the only
# line indented by four spaces that opens an object, and the first line indented by four spaces
# after it closes the shop (names are JSON strings, which hold no raw newline).
_HEAD = b'{\n  "version": %d,\n  "integrations": {\n' % CATALOG_VERSION
_END = b"\n  }\n}\n"  # after the last shop's record
_CLOSE = b"\n    }"  # the line that ends a shop's record
_TAIL = _CLOSE + _END
_SHOP_KEY = re.compile(rb'\n    "([1-9][0-9]*)": \{\n')
# Every shop has one, however it is spaced ('"read_at":"..."' in json.dumps's compact layout):
# counted, it tells whether a shop hides in another layout.
_READ_AT = b'"read_at"'
_COMMA = ord(",")


# The bytes indexed last, and their index: a run that shows names reads the catalog before its
# first request and records its reads at its end, and finds the same 11 MB both times at
# 10,000 shops (comparing them costs a millisecond, indexing them again 25).
_indexed: tuple[bytes, dict[int, tuple[int, int]] | None] | None = None


def _records(raw: bytes) -> dict[int, tuple[int, int]] | None:
    """`_index(raw)`, the one of the bytes indexed last when `raw` is the same (not to be
    changed: it is kept for the next call)."""
    global _indexed
    indexed = _indexed  # read once: another thread may replace it meanwhile
    if indexed is None or indexed[0] != raw:
        indexed = _indexed = (raw, _index(raw))
    return indexed[1]


def _index(raw: bytes) -> dict[int, tuple[int, int]] | None:
    """Where each shop's record lies in `raw`, from the line break before its key to the brace
    that closes it, when `raw` is laid out as `dump_catalog` writes it; else None (decode the
    whole file).

    One pass at C speed over the file, for the key lines (a tenth of decoding it): from the head
    to the tail, each record must be followed by a comma and the next key line, no shop may be
    listed twice (JSON keeps the last one), and there must be a record for every "read_at", so
    that no shop hides in another layout inside a record. What is inside a record is not looked
    at here: each record read is decoded on its own, and checked as the whole file would be."""
    if not _outlined(raw):
        return None
    first, last = len(_HEAD) - 1, len(raw) - len(_END)
    keys = list(_SHOP_KEY.finditer(raw, first, last))
    if not keys or keys[0].start() != first or len(keys) != raw.count(_READ_AT):
        return None
    starts = [key.start() for key in keys]
    ends = [start - 1 for start in starts[1:]]
    # Each record closes on a line of its own, right before the comma and the next key line.
    if any(raw[end] != _COMMA or raw[end - len(_CLOSE) : end] != _CLOSE for end in ends):
        return None  # something else between two shops: the whole decode tells what
    records = dict(zip([int(key[1]) for key in keys], zip(starts, [*ends, last], strict=True), strict=True))
    return records if len(records) == len(keys) else None  # else a shop listed twice


def _sliced(raw: bytes, only: Collection[int]) -> dict[str, Any] | None:
    """The records of the shops of `only` that the catalog has, each decoded on its own, when
    `raw` is laid out as `dump_catalog` writes it; else None (decode the whole file).

    A plan shows the names of the shops it changes, out of thousands: decoding only theirs costs
    a fraction of decoding every shop. A record that does not decode on its own as that one shop
    also gives None, so that the whole file is decoded and checked as before. A record that is
    not read is not checked either (a merge's conflict markers inside another shop's record cost
    that shop's names only): `statusync statuses` reads every one."""
    spans = _records(raw)
    if spans is None:
        return None
    shops: dict[str, Any] = {}
    for integration_id in sorted(only):
        if integration_id not in spans:
            continue  # not in the catalog: in this layout, its key line would be there
        start, end = spans[integration_id]
        try:
            decoded = json.loads(b"{" + raw[start + 1 : end] + b"}")
        except (ValueError, RecursionError):
            return None
        if type(decoded) is not dict or list(decoded) != [str(integration_id)]:
            return None
        shops.update(decoded)
    return shops


# A key holding a \u escape: JSON reads '"integr\u0061tions"' or '"read\u005fat"' as the key it
# spells, which the counts of plain keys that tell the layout would miss. dump_catalog writes
# one only in a status's id holding control characters, which the whole decode then reads.
_ESCAPED_KEY = re.compile(rb'\\u[0-9A-Fa-f]{4}(?:[^"\\\n]|\\.)*"\s*:')


def _outlined(raw: bytes) -> bool:
    """Whether `raw` opens and ends as dump_catalog writes it, with one key "version" and one
    "integrations" (JSON keeps the last of two, wherever the second hides) and no key spelled
    with an escape."""
    return (
        raw.startswith(_HEAD)
        and raw.endswith(_TAIL)
        and raw.count(b'"integrations"') == 1
        and raw.count(b'"version"') == 1
        and (b"\\" not in raw or _ESCAPED_KEY.search(raw) is None)
    )


def _spliced(raw: bytes, reads: Mapping[int, ShopStatuses], keep: Collection[int]) -> bytes | None:
    """`raw` with a run's `reads` (core.catalog.recorded: the integrations of `keep` and those
    read stay), the other shops' records copied as they are rather than decoded and written
    again, when `raw` is laid out as `dump_catalog` writes it (`_records`, shops in ascending
    order); else None.

    A run records the statuses of the shops it wrote, a few hundred of ten thousand: decoding
    and writing every shop again took it half a second at the end. Each stretch of records that
    stays as it is, commas between included, is copied in one piece. For a file `dump_catalog`
    wrote, the text is the one it would write; a record edited by hand inside stays as it is,
    until its shop is read again (a full read, `statusync statuses`, reports it)."""
    records = _records(raw)
    if records is None or list(records) != sorted(records):
        return None
    kept = set(keep)
    view = memoryview(raw)
    pieces: list[bytes | memoryview] = []
    stretch: tuple[int, int] | None = None  # the records copied as they are, so far
    new = deque(sorted(reads.items()))
    for integration_id, (start, end) in records.items():
        while new and new[0][0] <= integration_id:
            if stretch is not None:
                pieces.append(view[stretch[0] : stretch[1]])
                stretch = None
            read_id, shop = new.popleft()
            pieces.append(utf8(_shop_text(read_id, shop)))
        if integration_id in reads or integration_id not in kept:
            if stretch is not None:
                pieces.append(view[stretch[0] : stretch[1]])
                stretch = None
            continue
        # Records follow each other with a comma and a line break: a stretch runs on to this one.
        stretch = (start + 1, end) if stretch is None else (stretch[0], end)
    if stretch is not None:
        pieces.append(view[stretch[0] : stretch[1]])
    pieces += [utf8(_shop_text(read_id, shop)) for read_id, shop in new]
    if not pieces:
        return _empty()
    return _HEAD + b",\n".join(pieces) + _END


_TOP_KEYS = {"version", "integrations"}
_STATUS_KEYS = ({"name"}, {"name", "deleted"})


def _outline(data: Any) -> dict[str, Any] | None:
    """The integrations of `data` by key, when its outline is the one `dump_catalog` writes
    (every key a positive integer as written, "7" not "07"); else None."""
    if type(data) is not dict or data.keys() != _TOP_KEYS or type(data["version"]) is not int:
        return None
    integrations = data["integrations"]
    if type(integrations) is not dict:
        return None
    for key in integrations:
        if not (key.isascii() and key.isdigit() and key[0] != "0"):
            return None
    return integrations


def _plain_shop(shop: Any) -> ShopStatuses | None:
    """`shop` as the catalog keeps it, when it has the exact shape `dump_catalog` writes; else
    None, for the models to check (they may coerce a value, or tell what is wrong)."""
    if type(shop) is not dict or len(shop) != 3:
        return None
    read_at, language, statuses = shop.get("read_at"), shop.get("language"), shop.get("statuses")
    if type(read_at) is not str or type(language) is not str or type(statuses) is not dict:
        return None
    known: dict[str, KnownStatus] = {}
    for external_id, status in sorted(statuses.items()):
        if type(status) is not dict or status.keys() not in _STATUS_KEYS:
            return None
        name, deleted = status["name"], status.get("deleted", False)
        if type(name) is not str or type(deleted) is not bool:
            return None
        known[external_id] = KnownStatus(name, deleted)
    return ShopStatuses(read_at, language, known)


def _modelled_shop(key: str, shop: Any) -> ShopStatuses:
    # Validated where it sits in the file, so that an error names it as a whole-file check did.
    model = _CatalogModel.model_validate({"version": CATALOG_VERSION, "integrations": {key: shop}})
    return _built(model.integrations, None)[int(key)]


def _built(integrations: Mapping[int, _ShopModel], only: Collection[int] | None) -> dict[int, ShopStatuses]:
    return {
        i: ShopStatuses(
            shop.read_at,
            shop.language,
            {e: KnownStatus(s.name, s.deleted) for e, s in sorted(shop.statuses.items())},
        )
        for i, shop in sorted(integrations.items())
        if only is None or i in only
    }


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = where_in(error["loc"])
    return f"{where}: {error['msg']}"


def load_catalog(path: Path, only: Collection[int] | None = None) -> StatusCatalog:
    """The catalog at `path` (with `only`, just those integrations: parse_catalog); a missing
    file is an empty catalog. Loaded with the collector held off, as the state is: decoding
    makes a few objects per status, all alive until they are dropped at once."""
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return StatusCatalog()
    except OSError as exc:
        raise StatusyncError(f"{path}: cannot read the status catalog: {exc.strerror}") from None
    with held_off():
        return parse_catalog(raw, path, only)


def dump_catalog(catalog: StatusCatalog) -> bytes:
    """The catalog's text: exactly `json.dumps` of its data (the version, then the shops by id,
    each one's statuses by id_order) with `indent=2` and `ensure_ascii=False`, and a newline,
    every character that is not printable escaped (text.json_safe: a shop's names are diffed).
    Written a shop at a time from a template, each string escaped by json's own C function:
    json.dumps's pure-Python indenting took a second for the catalog of 10,000 shops of fourteen
    statuses, at the end of every run that records statuses, and a generic indenting writer half
    of that. A test holds the two texts equal, but for a lone surrogate, which only its escape
    can write (files.json_utf8)."""
    if not catalog.shops:
        return _empty()
    shops = ",\n".join(_shop_text(i, shop) for i, shop in sorted(catalog.shops.items()))
    return _HEAD + utf8(shops) + _END


def _empty() -> bytes:
    return b'{\n  "version": %d,\n  "integrations": {}\n}\n' % CATALOG_VERSION


def _shop_text(integration_id: int, shop: ShopStatuses) -> str:
    """One shop's record, indented as in the file, without the comma that may follow it."""
    return (
        f'    "{integration_id}": {{\n'
        f'      "read_at": {json_string(shop.read_at)},\n'
        f'      "language": {json_string(shop.language)},\n'
        f'      "statuses": {_statuses_text(shop)}\n'
        "    }"
    )


def _statuses_text(shop: ShopStatuses) -> str:
    if not shop.statuses:
        return "{}"
    lines = ",\n".join(
        f"        {json_string(external_id)}: {{\n"
        f'          "name": {json_string(status.name)}'
        + (',\n          "deleted": true' if status.deleted else "")
        + "\n        }"
        for external_id, status in sorted(shop.statuses.items(), key=lambda item: id_order(item[0]))
    )
    return f"{{\n{lines}\n      }}"


def save_catalog(path: Path, catalog: StatusCatalog) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StatusyncError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    atomic_write(path, dump_catalog(catalog))


def record_reads(
    path: Path,
    reads: Mapping[int, ShopStatuses],
    keep: Collection[int],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> str | None:
    """Save the catalog at `path` with a run's `reads`, keeping the integrations of `keep`
    (core.catalog.recorded); a note when the catalog on disk could not be read and was replaced.

    Read again here, at the end of the run, so that another run's reads saved meanwhile are kept.
    Under a lock of its own (`statuses.json.lock`): `statuses --refresh` and `validate --remote`
    hold no state lock, so two runs may end at once, and each must read the catalog after the
    other wrote it, not before, or the first one's reads would be lost. Held only for the read
    and the write, after every request, so a run never waits on another's requests.
    The catalog is a cache of reads: one that is corrupt is replaced rather than failing a run
    whose real work (the state) is done."""
    if not reads and not path.exists():
        return None  # nothing read, nothing recorded: not even a lock file to leave behind
    with state_lock(path, lock_timeout, unless_read_only=True):
        try:
            raw = read_regular(path)
        except OSError:
            raw = None  # missing, or unreadable: load_catalog says which
        spliced = None if raw is None else _spliced(raw, reads, keep)
        if spliced is not None:
            if spliced != raw:
                atomic_write(path, spliced)
            return None
        note = None
        try:
            if raw is None:
                current = load_catalog(path)
            else:  # the bytes just read, not the file read again
                with held_off():
                    current = parse_catalog(raw, path)
        except StatusyncError as exc:
            current, note = StatusCatalog(), f"{exc}; it was replaced by the statuses this run read"
        updated = recorded(current, reads, keep)
        if updated != current or not path.exists() and updated.shops:
            save_catalog(path, updated)
        return note


def looks_like_catalog(raw: bytes) -> bool:
    """Whether `raw` is a status catalog rather than a state file (the merge driver is given
    temporary files, so it tells them by content): a state always has a serial."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and "serial" not in data and "integrations" in data


def merge_catalog_bytes(
    base: bytes | None, ours: bytes, theirs: bytes | None, *, where: tuple[str, str, str]
) -> bytes:
    """Merge three versions of the catalog file (None or empty: no such file), newest read per
    integration winning (core.catalog_merge); `where` names them in errors."""

    def parsed(raw: bytes | None, name: str) -> StatusCatalog:
        return StatusCatalog() if raw is None or not raw.strip() else parse_catalog(raw, name)

    return dump_catalog(
        merge_catalogs(parsed(base, where[0]), parsed(ours, where[1]), parsed(theirs, where[2]))
    )
