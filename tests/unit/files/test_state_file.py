import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusync.core.journal import Noted
from statusync.core.model import CATEGORIES, IntegrationSpec
from statusync.core.state import Entry, Pending, Removed, State, ValidatedSpecs
from statusync.errors import StatusyncError
from statusync.files.journal import JournalWriter, journal_path
from statusync.files.state_file import (
    STATE_VERSION,
    EntryTexts,
    _modelled_state,
    _plain_state,
    dump_state,
    load_state,
    parse_state,
    save_state,
)
from statusync.text import json_safe

MAPPING = {"READY_TO_SEND": "1", "IN_TRANSIT": "2", "DELIVERED": None, "CANCEL": "4"}


def entry(file: str = "mappings/a.yaml") -> Entry:
    return Entry(file, "ab" * 32, "default", "Shop A", dict(MAPPING), "2026-01-01T00:00:00Z")


def records_data(records: Mapping[int, Entry | Pending], time_key: str) -> dict[str, Any]:
    """The applied entries or the uncertain writes as JSON data, each with its time under
    `time_key`."""
    return {
        str(i): {
            "file": r.file,
            "sha256": r.sha256,
            "account": r.account,
            "name": r.name,
            "mapping": dict(r.mapping),
            time_key: getattr(r, time_key),
        }
        for i, r in sorted(records.items())
    }


def state_data(state: State) -> dict[str, Any]:
    """The state as JSON data, in the order its file lists it: json.dumps of it is what
    dump_state must write."""
    data: dict[str, Any] = {
        "version": STATE_VERSION if state.removed else 1,
        "serial": state.serial,
        "lineage": state.lineage,
        "integrations": records_data(state.entries, "applied_at"),
    }
    if state.uncertain:
        data["uncertain"] = records_data(state.uncertain, "sent_at")
    if state.removed:
        data["removed"] = {
            str(i): {"action": "reset" if r.reset else "forget", "file": r.file, "at": r.at}
            for i, r in sorted(state.removed.items())
        }
    return data


def test_missing_state_means_nothing_applied(tmp_path: Path) -> None:
    state = load_state(tmp_path / "state.json")
    assert state.entries == {} and state.serial == 0


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state.json"
    written = save_state(path, State().with_entry(7, entry()))
    loaded = load_state(path)
    assert loaded == written
    assert loaded.entries[7].mapping == MAPPING


def test_every_write_increases_the_serial_and_keeps_the_lineage(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = save_state(path, State())
    second = save_state(path, load_state(path).with_entry(1, entry()))
    assert second.serial == first.serial + 1
    assert second.lineage == first.lineage
    assert first.fingerprint != second.fingerprint


def test_file_is_versioned_sorted_json(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, State().with_entry(20, entry("b")).with_entry(3, entry("a")))
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["serial"] == 1 and data["lineage"]
    assert list(data["integrations"]) == ["3", "20"]
    assert data["integrations"]["3"]["file"] == "a"
    assert path.read_text().endswith("}\n")


def test_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, State().with_entry(1, entry()))
    save_state(path, State())
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"{not json", "corrupt"),
        (b"", "corrupt"),
        (b"[]", "corrupt"),
        (b'{"version": 1, "serial": 1, "lineage": "x", "integrations": {"a": {}}}', "corrupt"),
        (b'{"version": 99, "serial": 1, "lineage": "x", "integrations": {}}', "not supported"),
        (b"\xff\xfe", "corrupt"),
    ],
)
def test_unreadable_state_is_an_error_never_a_reset(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StatusyncError, match=fragment) as info:
        load_state(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content  # nothing was overwritten


def test_an_entry_gives_the_file_it_recorded_without_parsing_it() -> None:
    validated: ValidatedSpecs = {}
    loaded = entry().as_loaded(42, "ab" * 32, validated)
    assert (loaded.integration_id, loaded.account, loaded.name, loaded.mapping) == (
        42,
        "default",
        "Shop A",
        MAPPING,
    )
    assert loaded.spec == IntegrationSpec.model_validate(
        {"integration_id": 42, "name": "Shop A", "account": "default", "mapping": MAPPING}
    )
    # The shops sharing an account and a mapping share its validation.
    entry("mappings/b.yaml").as_loaded(43, "cd" * 32, validated)
    assert len(validated) == 1


@pytest.mark.parametrize(
    ("integration_id", "changes"),
    [
        (0, {}),
        (2**53, {}),
        (True, {}),
        (1, {"name": 5}),
        (1, {"account": "two words"}),
        (1, {"mapping": {**MAPPING, "DELIVERED": " "}}),
        (1, {"mapping": {**MAPPING, "DELIVERED": 3}}),
    ],
)
def test_an_entry_that_breaks_today_s_rules_gives_no_file(
    integration_id: int, changes: dict[str, Any]
) -> None:
    # Recorded by an older statusync, or edited by hand: the file is parsed instead, and its
    # problem shown at its line (statusync.files.mappings).
    with pytest.raises(ValueError):
        replace(entry(), **changes).as_loaded(integration_id, "ab" * 32, {})


def test_dump_is_deterministic() -> None:
    state = State(serial=3, lineage="L").with_entry(1, entry())
    assert dump_state(state) == dump_state(state)


@pytest.mark.parametrize("blocker", ["file-in-the-way", "directory-in-the-way"])
def test_an_unwritable_state_is_a_clear_error(tmp_path: Path, blocker: str) -> None:
    if blocker == "file-in-the-way":  # the state's directory cannot be created
        (tmp_path / "dir").write_text("")
        path = tmp_path / "dir" / "state.json"
    else:  # the rename onto the state fails
        path = tmp_path / "state.json"
        (path / "keep").mkdir(parents=True)
    with pytest.raises(
        StatusyncError, match="cannot create .*dir|state.json: it exists and is not a regular file"
    ):
        save_state(path, State().with_entry(1, entry()))
    assert sorted(p.name for p in tmp_path.rglob("*")) in (["dir"], ["keep", "state.json"])


@pytest.mark.parametrize(
    "content",
    [
        b'{"version": 1, "serial": 1, "lineage": "x", "integrations": {"-3": {}}}',
        b'{"version": 1, "serial": 1, "lineage": "x", "integrations": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
    ],
)
def test_odd_corruptions_are_reported_as_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StatusyncError, match="corrupt"):
        load_state(path)


def test_tombstones_round_trip_sorted_and_make_the_file_version_2(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    removed = {
        9: Removed("mappings/nine.yaml", False, "2026-01-02T00:00:00Z"),
        4: Removed("mappings/four.yaml", True, "2026-01-03T00:00:00Z"),
    }
    written = save_state(path, State(entries={1: entry()}, removed=removed))
    assert load_state(path) == written
    data = json.loads(path.read_text())
    assert data["version"] == 2
    assert data["removed"] == {
        "4": {"action": "reset", "file": "mappings/four.yaml", "at": "2026-01-03T00:00:00Z"},
        "9": {"action": "forget", "file": "mappings/nine.yaml", "at": "2026-01-02T00:00:00Z"},
    }
    # Without tombstones the file stays version 1, which every statusync reads.
    save_state(path, State(entries={1: entry()}))
    assert json.loads(path.read_text())["version"] == 1 and "removed" not in path.read_text()


def test_a_version_1_file_is_read_and_a_record_replaces_its_tombstone(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    record = {"file": "a", "sha256": "s", "mapping": MAPPING, "applied_at": "2026-01-01T00:00:00Z"}
    path.write_text(json.dumps({"version": 1, "serial": 2, "lineage": "L", "integrations": {"1": record}}))
    assert load_state(path).entries[1].file == "a" and load_state(path).removed == {}
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "serial": 2,
                "lineage": "L",
                "integrations": {"1": record},
                "removed": {"1": {"action": "reset", "at": "2026-01-01T00:00:00Z"}},
            }
        )
    )
    assert set(load_state(path).entries) == {1} and load_state(path).removed == {}


def test_a_tombstone_of_an_unknown_kind_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "serial": 2,
                "lineage": "L",
                "integrations": {},
                "removed": {"1": {"action": "deleted", "at": "x"}},
            }
        )
    )
    with pytest.raises(StatusyncError, match=r"corrupt \(removed\.1\.action: "):
        load_state(path)


@pytest.mark.parametrize(
    "where, record",
    [
        ("integrations", {"file": "a", "sha256": "s", "mapping": MAPPING, "applied_at": "yesterday"}),
        ("uncertain", {"file": "a", "sha256": "s", "mapping": MAPPING, "sent_at": ""}),
        ("removed", {"action": "reset", "file": "a", "at": "yesterday"}),
    ],
)
def test_a_time_that_cannot_be_read_is_corrupt(tmp_path: Path, where: str, record: dict[str, object]) -> None:
    # The merge orders writes by these times: an unreadable one would count as the oldest, and
    # a newer reset could lose to an older update.
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps({"version": 2, "serial": 2, "lineage": "L", "integrations": {}, where: {"1": record}})
    )
    with pytest.raises(
        StatusyncError,
        match=rf"corrupt \({where}\.1\.\w+: '.*' is not a "
        r"date and time such as 2026-01-31T09:00:00Z\); restore it from git",
    ):
        load_state(path)


def test_an_account_name_that_could_reach_a_ci_argument_is_corrupt(tmp_path: Path) -> None:
    # `statusync accounts` lists the state's accounts for a CI matrix; a name edited into the
    # state must be as plain as one statusync.yaml accepts, or it could add options there.
    path = tmp_path / "state.json"
    record = {
        "file": "a",
        "sha256": "s",
        "account": "a' --force --only 'account:a",
        "mapping": MAPPING,
        "applied_at": "2026-01-01T00:00:00Z",
    }
    path.write_text(json.dumps({"version": 1, "serial": 2, "lineage": "L", "integrations": {"1": record}}))
    with pytest.raises(
        StatusyncError, match=r"corrupt \(integrations\.1\.account: .* is not an account name"
    ):
        load_state(path)


TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
TIME = st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z"))
IDS = st.integers(min_value=1, max_value=2**53 - 1)
MAPPINGS = st.fixed_dictionaries({c: st.none() | TEXT for c in CATEGORIES})
ACCOUNTS = st.sampled_from(["default", "shop-b", "Agency_1.eu"])


@given(
    entries=st.dictionaries(IDS, st.builds(Entry, TEXT, TEXT, ACCOUNTS, st.none() | TEXT, MAPPINGS, TIME)),
    uncertain=st.dictionaries(
        IDS, st.builds(Pending, TEXT, TEXT, ACCOUNTS, st.none() | TEXT, MAPPINGS, TIME)
    ),
    removed=st.dictionaries(IDS, st.builds(Removed, TEXT, st.booleans(), TIME)),
    serial=st.integers(min_value=0, max_value=10**6),
)
def test_any_state_reads_back_as_it_was_written(
    entries: dict[int, Entry], uncertain: dict[int, Pending], removed: dict[int, Removed], serial: int
) -> None:
    state = State(
        serial=serial,
        lineage="L",
        entries=dict(sorted(entries.items())),
        uncertain=dict(sorted(uncertain.items())),
        removed={i: r for i, r in sorted(removed.items()) if i not in entries},
    )
    assert parse_state(dump_state(state), "state.json") == state


# Text as odd as a hand edit or the API may make it: quotes, backslashes, controls, line and
# paragraph separators, bidi controls, non-ASCII and astral characters (no lone surrogate: below).
ODD_TEXT = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from(['"', "\\", "\n", "\x00", "\x7f", "\u2028", "\u202e", "\u00e9", "\U0001f600"]),
    max_size=12,
)
# Mappings as the state holds them (the four categories, in order, most values shared), and any
# other dict: in another order, with other keys, or empty.
ODD_MAPPINGS = (
    st.fixed_dictionaries({c: st.sampled_from([None, "1", "2"]) for c in CATEGORIES})
    | st.fixed_dictionaries({c: st.none() | ODD_TEXT for c in CATEGORIES})
    | st.dictionaries(st.sampled_from(CATEGORIES) | ODD_TEXT, st.none() | ODD_TEXT, max_size=5)
)


@given(
    entries=st.dictionaries(
        IDS, st.builds(Entry, ODD_TEXT, ODD_TEXT, ODD_TEXT, st.none() | ODD_TEXT, ODD_MAPPINGS, ODD_TEXT)
    ),
    uncertain=st.dictionaries(
        IDS, st.builds(Pending, ODD_TEXT, ODD_TEXT, ODD_TEXT, st.none() | ODD_TEXT, ODD_MAPPINGS, ODD_TEXT)
    ),
    removed=st.dictionaries(IDS, st.builds(Removed, ODD_TEXT, st.booleans(), ODD_TEXT)),
    serial=st.integers(min_value=0),
    lineage=ODD_TEXT,
)
def test_the_state_file_is_exactly_the_indented_json_of_its_data(
    entries: dict[int, Entry],
    uncertain: dict[int, Pending],
    removed: dict[int, Removed],
    serial: int,
    lineage: str,
) -> None:
    # The file is written from templates, for speed: it must stay the text json.dumps makes,
    # whatever the state holds (git diffs and the merge driver read it), in any order given,
    # with what is not printable escaped (a bidi override would reorder a line of the diff).
    state = State(serial=serial, lineage=lineage, entries=entries, uncertain=uncertain, removed=removed)
    expected = json_safe(json.dumps(state_data(state), indent=2, ensure_ascii=False)) + "\n"
    assert dump_state(state) == expected.encode()
    assert dump_state(state).decode().replace("\n", "").isprintable()


ENTRIES = st.dictionaries(
    IDS, st.builds(Entry, ODD_TEXT, ODD_TEXT, ODD_TEXT, st.none() | ODD_TEXT, ODD_MAPPINGS, ODD_TEXT)
)


@given(before=ENTRIES, kept=st.sets(IDS), after=ENTRIES, copies=st.sets(IDS))
def test_a_state_written_with_texts_made_ahead_is_the_state_written_without(
    before: dict[int, Entry], kept: set[int], after: dict[int, Entry], copies: set[int]
) -> None:
    # A run makes the texts of the entries it loaded while it waits on the API; at its end some
    # are the same entries, some changed or are new (`after`), some left; an entry equal to one
    # made ahead, but not that one (`copies`), must not be taken for it either.
    entries = {i: e for i, e in before.items() if i in kept}
    entries.update({i: replace(e) for i, e in before.items() if i in copies})
    entries.update(after)
    made = EntryTexts()
    made.make(before)
    state = State(serial=3, lineage="l", entries=entries)
    assert dump_state(state, made) == dump_state(state)


def test_an_entry_changed_since_its_text_was_made_is_written_as_it_now_is() -> None:
    made = EntryTexts()
    old = Entry(
        "mappings/a.yaml", "0" * 64, "default", None, {c: None for c in CATEGORIES}, "2026-01-01T00:00:00Z"
    )
    made.make({7: old})
    new = replace(old, mapping={**old.mapping, "DELIVERED": "5"})
    assert b'"DELIVERED": "5"' in dump_state(State(entries={7: new}), made)
    assert made.get(7, old) is not None and made.get(7, new) is None


def test_a_state_with_nothing_in_it_is_written_as_json_dumps_writes_it() -> None:
    assert (
        dump_state(State())
        == b'{\n  "version": 1,\n  "serial": 0,\n  "lineage": "",\n  "integrations": {}\n}\n'
    )


def test_text_holding_half_a_surrogate_pair_is_written_back_as_its_escape(tmp_path: Path) -> None:
    # A hand edit may write half of a surrogate pair alone ("\ud800"): JSON reads it, but no
    # UTF-8 file holds it as itself. It used to fail the write at the end of a run.
    path = tmp_path / "state.json"
    lone = Entry(
        "a\udfff.yaml",
        "ab" * 32,
        "default",
        "Shop \ud800",
        {**MAPPING, "CANCEL": "\udc80"},
        "2026-01-01T00:00:00Z",
    )
    path.write_text(json.dumps(state_data(State(serial=1, lineage="L", entries={1: lone}))))
    assert load_state(path).entries == {1: lone}
    written = save_state(path, load_state(path))
    assert load_state(path) == written and written.entries == {1: lone}
    text = path.read_text()
    assert '"name": "Shop \\ud800"' in text and '"file": "a\\udfff.yaml"' in text
    assert '"CANCEL": "\\udc80"' in text


def written(edit: Callable[[dict[str, Any]], object]) -> bytes:
    """A state as dump_state writes it (an entry, an uncertain write, a tombstone), edited."""
    pending = Pending("b", "cd" * 32, "default", None, dict(MAPPING), "2026-01-02T00:00:00Z")
    tombstone = Removed("c", True, "2026-01-03T00:00:00Z")
    data = json.loads(dump_state(State(entries={1: entry()}, uncertain={2: pending}, removed={3: tombstone})))
    edit(data)
    return json.dumps(data, indent=2).encode()


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["integrations"]["1"].update(applied_at="now"),
            r"integrations\.1\.applied_at: 'now' is not",
        ),
        (
            lambda d: d["uncertain"]["2"].update(sent_at="2026-13-01"),
            r"uncertain\.2\.sent_at: '2026-13-01' is not",
        ),
        (lambda d: d["removed"]["3"].update(at=""), r"removed\.3\.at: '' is not a date"),
        (
            lambda d: d["integrations"]["1"].update(account="a b"),
            r"integrations\.1\.account: 'a b' is not an",
        ),
        # Values of any JSON type, even those a set cannot hold.
        (
            lambda d: d["integrations"]["1"].update(account=["x"]),
            r"integrations\.1\.account: Input should be",
        ),
        (lambda d: d["uncertain"]["2"].update(sent_at={"a": 1}), r"uncertain\.2\.sent_at: Input should be"),
        # An account's name is no time, whatever was checked before.
        (lambda d: d["uncertain"]["2"].update(sent_at="default"), r"uncertain\.2\.sent_at: 'default' is not"),
        (
            lambda d: d["uncertain"]["2"]["mapping"].update(CANCEL=4),
            r"uncertain\.2\.mapping\.CANCEL: Input should",
        ),
        (lambda d: d["integrations"]["1"].update(name=["x"]), r"integrations\.1\.name: Input should be"),
        (lambda d: d["removed"]["3"].update(action="undo"), r"removed\.3\.action: Input should be 'reset'"),
        (lambda d: d["integrations"].update({"0": d["integrations"]["1"]}), r"integrations\.0\.\[key\]"),
        (lambda d: d.update(serial=-1), r"serial: Input should be greater than or equal to 0"),
        (lambda d: d.update(serial=True), r"serial: Input should be a valid integer"),
        # An id no mapping file may hold (JSON readers hold numbers above 2^53 as doubles).
        (
            lambda d: d["integrations"].update({str(2**53): d["integrations"]["1"]}),
            r"integrations\.9007199254740992\.\[key\]",
        ),
        (lambda d: d.update(lineage=None), r"lineage: Input should be a valid string"),
        (lambda d: d["integrations"]["1"].update(extra=1), r"integrations\.1\.extra: Extra inputs"),
    ],
)
def test_a_state_in_the_written_layout_that_breaks_a_rule_is_corrupt(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(written(edit))
    with pytest.raises(StatusyncError, match=rf"state\.json: the state file is corrupt \({message}"):
        load_state(path)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda d: d["integrations"].update({"01": d["integrations"].pop("1")}), {1}),
        (lambda d: d["integrations"]["1"].pop("account"), {1}),
        (lambda d: d["integrations"]["1"]["mapping"].pop("CANCEL"), {1}),
    ],
)
def test_a_state_edited_by_hand_reads_as_the_file_format_allows(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], expected: set[int]
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(written(edit))
    state = load_state(path)
    assert set(state.entries) == expected and state.entries[1].account == "default"
    assert list(state.entries[1].mapping) == list(CATEGORIES)


def test_a_key_of_thousands_of_digits_is_named_without_being_printed_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(written(lambda d: d["integrations"].update({"9" * 5000: d["integrations"]["1"]})))
    with pytest.raises(StatusyncError) as raised:
        load_state(path)
    assert f"integrations.{'9' * 39}…" in str(raised.value) and len(str(raised.value)) < 300


def test_the_journal_of_a_run_that_did_not_finish_is_folded_in_where_journal_path_names_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    save_state(path, State())
    writer = JournalWriter(journal_path(path), load_state(path).fingerprint)
    writer.write(Noted(1, entry(), "2026-01-02T00:00:00Z"))
    writer.sync()
    writer.close()
    assert load_state(path).entries == {1: entry()}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _edited(data: Any, path: list[int], value: object, as_key: bool) -> None:
    """`data` with the value (or, `as_key`, the key) found by following `path` replaced."""
    node = data
    while isinstance(node, dict) and node:
        keys = sorted(node)
        key = keys[path.pop(0) % len(keys)] if path else keys[0]
        if not path or not isinstance(node[key], dict):
            if as_key:
                node[str(value)] = node.pop(key)
            else:
                node[key] = value
            return
        node = node[key]


@given(path=st.lists(st.integers(0, 10), min_size=1, max_size=5), value=JSON, as_key=st.booleans())
def test_the_plain_reading_takes_only_what_the_models_take_and_reads_it_alike(
    path: list[int], value: object, as_key: bool
) -> None:
    # The state is read by hand when it has the layout statusync writes, else by the models: any
    # edit of any value or key must give the models' reading, or be left to them.
    data = json.loads(written(lambda d: None))
    _edited(data, path, value, as_key)
    plain = _plain_state(data)
    if plain is not None:
        assert plain == _modelled_state(data)
