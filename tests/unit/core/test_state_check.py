"""A state edited by hand to say otherwise than a file whose exact bytes it recorded."""

from __future__ import annotations

from dataclasses import replace

from statusync.core.model import LoadedSpec
from statusync.core.state_check import hand_edits
from tests.support.builders import loaded, mapping, state_of

M = mapping("1", "2", "3", None)


def test_a_state_that_records_what_the_files_say_has_no_hand_edit() -> None:
    assert hand_edits(state_of((1, M), (2, M)), [loaded(1, M), loaded(2, M)], "state.json") == []


def test_each_value_recorded_otherwise_for_a_file_s_exact_bytes_is_found() -> None:
    state = state_of((1, mapping("1", "2", "9", "4")))
    state = replace(state, entries={1: replace(state.entries[1], account="other")})
    found = hand_edits(state, [loaded(1, M)], "state.json")
    assert [(file, f.loc) for file, f in found] == [
        ("mappings/1.yaml", ("account",)),
        ("mappings/1.yaml", ("mapping", "DELIVERED")),
        ("mappings/1.yaml", ("mapping", "CANCEL")),
    ]
    assert found[1][1].message.startswith(
        'DELIVERED: the state state.json records "9" here for this file\'s exact bytes, so it was edited'
    )
    assert found[2][1].message.startswith('CANCEL: the state state.json records "4" here')


def test_a_record_moved_to_another_id_is_found_at_the_file_s_id() -> None:
    state = state_of((1, M))
    state = replace(state, entries={7: state.entries[1]})  # file mappings/1.yaml, under id 7
    [(file, finding)] = hand_edits(state, [loaded(1, M)], "state.json")
    assert finding.loc == ("integration_id",) and "records 7 here" in finding.message


def test_a_file_changed_since_it_was_recorded_is_no_hand_edit() -> None:
    # Its bytes differ from the record's (another hash): plan parses it and shows the change.
    original = loaded(1, mapping("5", "2", "3", None))
    changed = LoadedSpec(original.spec, original.file, "sha-new")
    assert hand_edits(state_of((1, M)), [changed], "state.json") == []
