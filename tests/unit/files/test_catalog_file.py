"""The status catalog on disk: a stable, readable file that round-trips, and clear errors."""

from __future__ import annotations

import errno
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog, recorded
from statusync.core.status_check import id_order
from statusync.errors import StatusyncError
from statusync.files.catalog_file import (
    CATALOG_VERSION,
    catalog_path,
    dump_catalog,
    load_catalog,
    looks_like_catalog,
    record_reads,
    save_catalog,
)
from statusync.files.lock import state_lock
from statusync.text import json_safe


def catalog_data(catalog: StatusCatalog) -> dict[str, Any]:
    """The catalog as JSON data, in the order its file lists it: json.dumps of it is what
    dump_catalog must write."""
    return {
        "version": CATALOG_VERSION,
        "integrations": {
            str(i): {
                "read_at": shop.read_at,
                "language": shop.language,
                "statuses": {
                    e: ({"name": s.name, "deleted": True} if s.deleted else {"name": s.name})
                    for e, s in sorted(shop.statuses.items(), key=lambda item: id_order(item[0]))
                },
            }
            for i, shop in sorted(catalog.shops.items())
        },
    }


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


def test_a_catalog_changed_between_two_reads_of_a_run_is_read_as_it_now_is(tmp_path: Path) -> None:
    # The records of the bytes read last are kept for the next read of the same bytes (the run
    # reads them again to record its reads): a file changed in between, even to the same length,
    # is indexed anew.
    path = tmp_path / "statuses.json"
    renamed = ShopStatuses(
        SHOP.read_at,
        SHOP.language,
        {e: KnownStatus("X" * len(s.name), s.deleted) for e, s in SHOP.statuses.items()},
    )
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    before = path.read_bytes()
    assert load_catalog(path, only={9}) == StatusCatalog({9: SHOP})
    save_catalog(path, StatusCatalog({3: renamed, 9: renamed}))
    assert len(path.read_bytes()) == len(before)
    assert load_catalog(path, only={9}) == StatusCatalog({9: renamed})
    record_reads(path, {3: SHOP}, keep={3, 9})
    assert load_catalog(path) == StatusCatalog({3: SHOP, 9: renamed})


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


def test_a_run_records_its_reads_only_under_the_catalog_lock(tmp_path: Path) -> None:
    # Another run recording its reads at the same moment holds the catalog's lock: this one
    # waits for it (here: not at all) instead of writing over what that run is writing.
    path = catalog_path(tmp_path / "state.json")
    save_catalog(path, StatusCatalog({3: SHOP}))
    with state_lock(path), pytest.raises(StatusyncError, match="another statusync run holds the lock"):
        record_reads(path, {4: SHOP}, keep=(3,), lock_timeout=0)
    assert load_catalog(path) == StatusCatalog({3: SHOP})
    record_reads(path, {4: SHOP}, keep=(3,), lock_timeout=0)
    assert load_catalog(path) == StatusCatalog({3: SHOP, 4: SHOP})


def test_a_run_with_nothing_new_to_record_needs_no_lock_in_a_read_only_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # validate --remote in a read-only checkout: the statuses it read are those recorded.
    path = catalog_path(tmp_path / "state.json")
    save_catalog(path, StatusCatalog({3: SHOP}))
    real_open = os.open

    def read_only(file: str | os.PathLike[str], flags: int, *args: int) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    assert record_reads(path, {3: SHOP}, keep=(3,)) is None
    assert load_catalog(path) == StatusCatalog({3: SHOP})
    with (
        pytest.raises(StatusyncError, match="cannot create the lock file"),
        state_lock(tmp_path / "state.json"),
    ):
        pass  # the state's own lock is never skipped


def test_the_merge_driver_tells_the_catalog_from_the_state() -> None:
    assert looks_like_catalog(dump_catalog(StatusCatalog({1: SHOP})))
    assert not looks_like_catalog(b'{"version": 1, "serial": 3, "lineage": "x", "integrations": {}}')
    assert not looks_like_catalog(b"not json")


NAMES = st.text(st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ['\n    "5": {\n', '"}, {', "\u202e|`<b>", "    }", ""]
)
SHOPS = st.builds(
    ShopStatuses,
    st.just("2026-12-01T10:00:00Z"),
    st.sampled_from(["en-gb", "nl-nl"]),
    st.dictionaries(
        st.text("0123456789", min_size=1, max_size=5), st.builds(KnownStatus, NAMES, st.booleans())
    ),
)


# Asked for besides: enough shops to read the file in one pass rather than find each shop's lines.
MANY = set(range(100, 120))


@given(
    shops=st.dictionaries(st.integers(1, 2**53 - 1), SHOPS, max_size=8),
    asked=st.sets(st.integers(1, 12), max_size=4),
    many=st.booleans(),
)
def test_the_shops_asked_for_read_as_they_do_in_the_whole_file(
    tmp_path_factory: pytest.TempPathFactory, shops: dict[int, ShopStatuses], asked: set[int], many: bool
) -> None:
    path = tmp_path_factory.mktemp("catalog") / "statuses.json"
    save_catalog(path, StatusCatalog(shops))
    asked |= set(list(shops)[:2]) | (MANY if many else set())
    whole = load_catalog(path)
    assert whole == StatusCatalog(dict(sorted(shops.items())))
    assert load_catalog(path, only=asked) == StatusCatalog(
        {i: s for i, s in whole.shops.items() if i in asked}
    )


@given(
    shops=st.dictionaries(
        st.integers(1, 2**53 - 1),
        st.builds(
            ShopStatuses, NAMES, NAMES, st.dictionaries(NAMES, st.builds(KnownStatus, NAMES, st.booleans()))
        ),
        max_size=6,
    )
)
def test_the_catalog_file_is_exactly_the_indented_json_of_its_data(shops: dict[int, ShopStatuses]) -> None:
    # The file is written from a template, for speed: it must stay the text json.dumps makes,
    # whatever the names hold (git diffs, the merge driver and the partial read rely on it).
    catalog = StatusCatalog(shops)
    expected = json_safe(json.dumps(catalog_data(catalog), indent=2, ensure_ascii=False)) + "\n"
    assert dump_catalog(catalog) == expected.encode()
    assert dump_catalog(catalog).decode().replace("\n", "").isprintable()  # no bidi override


@given(
    shops=st.dictionaries(st.integers(1, 40), SHOPS, max_size=8),
    reads=st.dictionaries(st.integers(1, 40), SHOPS, max_size=4),
    keep=st.sets(st.integers(1, 40), max_size=8),
)
def test_a_run_records_its_reads_as_if_it_rewrote_the_whole_catalog(
    tmp_path_factory: pytest.TempPathFactory,
    shops: dict[int, ShopStatuses],
    reads: dict[int, ShopStatuses],
    keep: set[int],
) -> None:
    # The other shops' records are copied as they are: the file must come out as if every shop
    # had been read and written again.
    path = tmp_path_factory.mktemp("catalog") / "statuses.json"
    save_catalog(path, StatusCatalog(shops))
    expected = dump_catalog(recorded(StatusCatalog(shops), reads, keep))
    assert record_reads(path, reads, keep) is None
    assert path.read_bytes() == expected


def test_a_record_edited_by_hand_stays_as_it_is_until_its_shop_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    edited = path.read_text().replace('"Payment accepted"', '"Paid \\u0021"', 1)
    path.write_text(edited)
    assert load_catalog(path, only={3}).shops[3].statuses["2"] == KnownStatus("Paid !")
    record_reads(path, {9: SHOP}, keep={3})
    assert path.read_text() == edited  # shop 9 read as it was: nothing to write
    record_reads(path, {3: SHOP}, keep={9})
    assert path.read_bytes() == dump_catalog(StatusCatalog({3: SHOP, 9: SHOP}))


def test_a_corrupt_record_costs_only_the_reads_that_show_it(tmp_path: Path) -> None:
    # A plan shows the names of the shops it changes: another shop's broken record (a bad hand
    # edit) does not cost it those, while a command that reads every record reports it.
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP, 12: SHOP}))
    text = path.read_text()
    path.write_text(text.replace('"name": "Paid', '"name": Paid', 1).replace('"Old status"', "[", 1))
    assert load_catalog(path, only={12}) == StatusCatalog({12: SHOP})
    with pytest.raises(StatusyncError, match="the status catalog is corrupt"):
        load_catalog(path, only={3})
    with pytest.raises(StatusyncError, match="the status catalog is corrupt"):
        load_catalog(path)


# A shop's record as dump_catalog lays it out, with statuses read elsewhere.
ELSEWHERE = (
    '    "9": {\n      "read_at": "2026-01-01T00:00:00Z",\n      "language": "nl-nl",\n'
    '      "statuses": {}\n    },\n'
)


@pytest.mark.parametrize(
    "edit",
    [
        # A shop listed twice: JSON keeps the last one, whichever way the file is read.
        lambda text: text.replace('  "integrations": {\n', '  "integrations": {\n    "9": {\n    },\n', 1),
        lambda text: text.replace('  "integrations": {\n', '  "integrations": {\n' + ELSEWHERE, 1),
        # A shop written again, as dump_catalog writes it, after the others.
        lambda text: text.replace("\n    }\n  }\n}\n", "\n    },\n" + ELSEWHERE.rstrip(",\n") + "\n  }\n}\n"),
        # A shop written again in another layout, after the others; a second "integrations".
        lambda text: text.replace(
            "\n    }\n  }\n}\n",
            '\n    },\n    "9": {"read_at": "2026-01-01T00:00:00Z", '
            '"language": "nl-nl", "statuses": {}}\n  }\n}\n',
        ),
        lambda text: text.replace(
            "\n  }\n}\n", '\n  },\n  "integrations": {\n' + ELSEWHERE.rstrip(",\n") + "\n  }\n}\n"
        ),
        # A second "integrations" opened after a shop, on its closing line: JSON keeps the last.
        lambda text: text.replace('\n    },\n    "9"', '\n    }\n  }, "integrations": {\n    "9"', 1),
        # Conflict markers of a merge by hand, around another shop's record.
        lambda text: text.replace('    "3": {', '<<<<<<< ours\n    "3": {', 1).replace(
            '    "9": {', '=======\n>>>>>>> theirs\n    "9": {', 1
        ),
        # Something else between two shops: the whole file is checked, as it always was.
        lambda text: text.replace('\n    },\n    "9"', '\n    },\n    "x": 1,\n    "9"', 1),
        lambda text: text.replace('\n    },\n    "9"', '\n    }\n  },\n  "more": {\n    "9"', 1),
        # A second "integrations" spelled with an escape, and a second "version", after the shops.
        lambda text: text.replace(
            "\n    }\n  }\n}\n",
            '\n    }\n  },\n  "integr\\u0061tions": {\n'
            + ELSEWHERE.replace('"9"', '"4"').rstrip(",\n")
            + "\n  }\n}\n",
        ),
        lambda text: text.replace(
            "\n    }\n  }\n}\n",
            '\n    }\n  },\n  "version": 2,\n  "more": {\n'
            + ELSEWHERE.replace('"9"', '"4"').rstrip(",\n")
            + "\n  }\n}\n",
        ),
    ],
)
def test_a_file_edited_out_of_its_layout_reads_as_a_whole_file_does(
    tmp_path: Path, edit: Callable[[str], str]
) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    path.write_text(edit(path.read_text()))
    # The shops before and after what was edited in, alone and among many.
    assert_each_reads_as_in_the_whole_file(path, (3, 9))


@pytest.mark.parametrize(
    "edit",
    [
        # On its own line, written again after the others, and on another shop's closing line.
        lambda text: text.replace('    "9": {', '    "09": {', 1),
        lambda text: text.replace('    "9": {', '    "9.0": {', 1),
        lambda text: text.replace(
            "\n    }\n  }\n}\n", "\n    },\n" + ELSEWHERE.replace('"9"', '"+3"').rstrip(",\n") + "\n  }\n}\n"
        ),
        lambda text: text.replace(
            '\n    },\n    "9"', '\n    }, "05": {\n' + ELSEWHERE[len('    "9": {\n') :] + '    "9"', 1
        ),
    ],
)
def test_a_key_the_models_read_as_a_shop_s_id_is_that_shop_however_it_is_written(
    tmp_path: Path, edit: Callable[[str], str]
) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    path.write_text(edit(path.read_text()))
    assert_each_reads_as_in_the_whole_file(path, (3, 5, 9))


def assert_each_reads_as_in_the_whole_file(path: Path, integration_ids: tuple[int, ...]) -> None:
    try:
        whole: StatusCatalog | str = load_catalog(path)
    except StatusyncError as exc:
        whole = str(exc)
    for integration_id, besides in itertools.product(integration_ids, (set(), MANY)):
        try:
            asked: StatusCatalog | str = load_catalog(path, only={integration_id} | besides)
        except StatusyncError as exc:
            asked = str(exc)
        if isinstance(whole, str):
            assert asked == whole
        else:
            assert asked == StatusCatalog({i: s for i, s in whole.shops.items() if i == integration_id})
    # A run's record of its reads, which copies the records it did not read as they are, comes
    # out as a rewrite of the whole file would: a corrupt one replaced by the reads, with a note.
    reads, keep = {40: SHOP}, integration_ids
    note = record_reads(path, reads, keep)
    if isinstance(whole, str):
        assert note is not None and load_catalog(path) == StatusCatalog(reads)
    else:
        assert note is None and path.read_bytes() == dump_catalog(recorded(whole, reads, keep))


HIDDEN = [
    '\n    }, "7": {\n' + ELSEWHERE[len('    "9": {\n') :] + '    "9"',
    # Written without spaces, as json.dumps writes it by default.
    '\n    }, "7": {"read_at":"2026-01-01T00:00:00Z","language":"nl-nl","statuses":{}\n    },\n    "9"',
    # Its keys spelled with escapes, which JSON reads as the keys they spell.
    '\n    }, "\\u0037": {"read\\u005fat": "2026-01-01T00:00:00Z", "language": "nl-nl", '
    '"statuses": {}\n    },\n    "9"',
]


@pytest.mark.parametrize("besides", [set(), MANY])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_shop_hidden_on_another_s_closing_line_is_read_as_the_whole_file_reads_it(
    tmp_path: Path, besides: set[int], hidden: str
) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    path.write_text(path.read_text().replace('\n    },\n    "9"', hidden, 1))
    seven = ShopStatuses("2026-01-01T00:00:00Z", "nl-nl", {})
    assert load_catalog(path) == StatusCatalog({3: SHOP, 7: seven, 9: SHOP})
    assert load_catalog(path, only={7} | besides) == StatusCatalog({7: seven})


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_shop_hidden_on_another_s_closing_line_leaves_the_catalog_with_the_state(
    tmp_path: Path, hidden: str
) -> None:
    path = tmp_path / "statuses.json"
    save_catalog(path, StatusCatalog({3: SHOP, 9: SHOP}))
    path.write_text(path.read_text().replace('\n    },\n    "9"', hidden, 1))
    record_reads(path, {9: SHOP}, keep={3})  # 7 was forgotten
    assert path.read_bytes() == dump_catalog(StatusCatalog({3: SHOP, 9: SHOP}))


@pytest.mark.parametrize("indent", [2, 4])
def test_a_name_holding_half_a_surrogate_pair_is_written_back_as_its_escape(
    tmp_path: Path, indent: int
) -> None:
    # A hand edit may write half of a surrogate pair alone ("\ud800"): JSON reads it, but no
    # UTF-8 file holds it as itself. A run that records its reads keeps it, in either layout.
    path = tmp_path / "statuses.json"
    lone = ShopStatuses(SHOP.read_at, "en-gb", {"2": KnownStatus("Paid \ud800")})
    path.write_text(json.dumps(catalog_data(StatusCatalog({3: lone})), indent=indent) + "\n")
    assert load_catalog(path) == StatusCatalog({3: lone})
    assert record_reads(path, {9: SHOP}, keep={3}) is None
    assert load_catalog(path) == StatusCatalog({3: lone, 9: SHOP})
    assert '"name": "Paid \\ud800"' in path.read_text()
