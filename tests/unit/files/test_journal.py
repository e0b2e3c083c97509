"""The intent journal: each result one appended line, the state written once, and every way a
run can die leaving a state that claims nothing the API did not accept."""

from __future__ import annotations

import errno
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from statusync.core.journal import Answered, Noted, Record, Sent, fold
from statusync.core.plan import Action, Change, make_plan
from statusync.core.state import Entry, Pending, Removed, State
from statusync.errors import JournalUnwritable, StatusyncError
from statusync.files.journal import JournalWriter, journal_mark, journal_path, read_journal
from statusync.files.state_file import dump_state, load_state, parse_state, save_state
from statusync.runner.recorder import Recorder
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)
B = mapping("1", "2", "9", None)
AT = "2026-01-01T00:00:00Z"


def change(integration_id: int, after: dict[str, str | None] = B, action: Action = Action.UPDATE) -> Change:
    return Change(
        integration_id,
        action,
        f"mappings/{integration_id}.yaml",
        "default",
        A,
        after,
        None,
        f"sha-{integration_id}",
    )


def pending(m: dict[str, str | None] = B, at: str = AT) -> Pending:
    return Pending("mappings/1.yaml", "sha-1", "default", None, m, at)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in journal_path(path).read_text().splitlines()]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".statusync" / "state.json"


def test_a_success_is_one_appended_line_and_the_state_is_written_once_at_the_end(path: Path) -> None:
    save_state(path, state_of((1, A), (2, A)))
    before = path.read_bytes()
    recorder = Recorder(path, load_state(path))
    seq = recorder.sending(change(1))
    recorder.answered(seq, "ok")
    assert path.read_bytes() == before  # nothing rewritten per success
    assert [r["op"] for r in lines(path)] == ["begin", "sent", "answered"]
    assert load_state(path).entries[1].mapping == B  # readers see it already
    written = recorder.finish()
    assert written is not None and written.serial == 2 and written.entries[1].mapping == B
    assert not journal_path(path).exists()
    assert load_state(path) == written


def test_recording_costs_the_same_whatever_the_size_of_the_state(path: Path) -> None:
    sizes = {}
    for managed in (10, 2_000):
        entry = Entry("mappings/x.yaml", "sha", "default", None, A, AT)
        save_state(path, State(entries=dict.fromkeys(range(1, managed + 1), entry)))
        state_bytes = path.read_bytes()
        recorder = Recorder(path, load_state(path))
        recorder.answered(recorder.sending(change(1)), "ok")
        assert path.read_bytes() == state_bytes
        sizes[managed] = len(journal_path(path).read_bytes())
        recorder.finish()
    assert sizes[10] == sizes[2_000]


def test_an_intent_without_an_answer_makes_the_integration_uncertain(path: Path) -> None:
    save_state(path, state_of((1, A)))
    recorder = Recorder(path, load_state(path))
    recorder.sending(change(1))  # ... and the process dies here (SIGKILL)
    state = load_state(path)
    assert state.entries[1].mapping == A  # never claims what the API did not confirm
    assert state.uncertain[1].mapping == B
    # Even with the file reverted to what the state says, the plan does not call it unchanged.
    plan = make_plan([loaded(1, A)], state)
    assert [(c.action, c.sent, c.after) for c in plan.changes] == [(Action.UNCERTAIN, B, A)]


@pytest.mark.parametrize(("result", "uncertain"), [("refused", False), ("unknown", True)])
def test_a_failure_is_uncertain_only_when_it_may_have_reached_the_api(
    path: Path, result: str, uncertain: bool
) -> None:
    recorder = Recorder(path, load_state(path))
    recorder.answered(recorder.sending(change(1)), result)  # type: ignore[arg-type]
    recorder.finish()
    state = load_state(path)
    assert 1 not in state.entries
    assert (1 in state.uncertain) is uncertain


def test_a_refusal_keeps_an_earlier_unknown_write_unknown() -> None:
    earlier = pending(mapping("7", "7", "7", None))
    state = replace(state_of((1, A)), uncertain={1: earlier})
    folded = fold(state, [Sent(1, 1, False, pending(B)), Answered(1, "refused", AT)])
    assert folded.uncertain == {1: earlier}
    settled = fold(state, [Sent(1, 1, False, pending(B)), Answered(1, "ok", AT)])
    assert settled.uncertain == {} and settled.entries[1].mapping == B


def test_a_reset_or_a_forget_leaves_the_state_and_takes_the_uncertainty_with_it() -> None:
    state = replace(state_of((1, A), (2, A)), uncertain={2: pending()})
    folded = fold(
        state,
        [
            Sent(1, 1, True, pending(mapping(None, None, None, None))),
            Answered(1, "ok", "2026-01-01T00:00:05Z"),
            Noted(2, None, AT),
        ],
    )
    assert folded.entries == {} and folded.uncertain == {}
    # ... each leaving a tombstone dated when it was recorded, for the merge of two states.
    assert folded.removed == {
        1: Removed("mappings/1.yaml", True, "2026-01-01T00:00:05Z"),
        2: Removed("mappings/2.yaml", False, AT),
    }


def test_a_refused_reset_leaves_no_tombstone_and_a_new_record_replaces_one() -> None:
    reset = Sent(1, 1, True, pending(mapping(None, None, None, None)))
    assert fold(state_of((1, A)), [reset, Answered(1, "refused", AT)]).removed == {}
    removed = fold(state_of((1, A)), [reset, Answered(1, "ok", AT)])
    in_flight = fold(removed, [Sent(2, 1, False, pending(B, "2026-01-02T00:00:00Z"))])
    assert set(in_flight.removed) == {1} and set(in_flight.uncertain) == {1}  # still dated
    created = fold(removed, [Sent(2, 1, False, pending(B)), Answered(2, "ok", "2026-01-02T00:00:00Z")])
    assert created.removed == {} and created.entries[1].mapping == B
    imported = fold(removed, [Noted(1, Entry("mappings/1.yaml", "s", "default", None, A, AT), AT)])
    assert imported.removed == {} and imported.entries[1].mapping == A
    # Forgetting what the state does not hold records nothing.
    assert fold(State(lineage="L"), [Noted(3, None, AT)]).removed == {}


def test_replayed_onto_a_state_that_removed_the_integration_later_an_older_write_stays_out() -> None:
    later = State(
        lineage="L", serial=9, removed={1: Removed("mappings/1.yaml", True, "2026-01-02T00:00:00Z")}
    )
    journal: list[Record] = [
        Sent(1, 1, False, pending(B, "2026-01-01T10:00:00Z")),
        Answered(1, "ok", "2026-01-01T10:00:01Z"),
    ]
    replayed = fold(later, journal, trusted=False)
    assert replayed.entries == {} and replayed.uncertain == {} and replayed.removed == later.removed
    newer = [Sent(1, 1, False, pending(B, "2026-01-03T00:00:00Z")), Answered(1, "ok", "2026-01-03T00:00:00Z")]
    assert fold(later, newer, trusted=False).entries[1].mapping == B


def test_a_journal_left_by_a_run_that_died_is_folded_in_by_the_next_run(path: Path) -> None:
    save_state(path, state_of((1, A), (2, A)))
    first = Recorder(path, load_state(path))
    first.answered(first.sending(change(1)), "ok")
    first.sending(change(2))  # killed with this one on the wire
    second = Recorder(path, load_state(path))
    written = second.finish()  # nothing of its own to record
    assert written is not None
    assert written.entries[1].mapping == B and written.uncertain[2].mapping == B
    assert not journal_path(path).exists()
    on_disk = json.loads(path.read_text())
    assert on_disk["uncertain"]["2"]["mapping"] == B  # survives a commit of the state


def test_a_second_run_continues_the_journal_numbering(path: Path) -> None:
    first = Recorder(path, load_state(path))
    first.sending(change(1))
    second = Recorder(path, load_state(path))
    second.answered(second.sending(change(2)), "ok")
    state = load_state(path)
    assert set(state.uncertain) == {1} and set(state.entries) == {2}


def test_a_line_torn_by_a_kill_is_skipped_and_cut_before_the_next_append(path: Path) -> None:
    recorder = Recorder(path, load_state(path))
    recorder.answered(recorder.sending(change(1)), "ok")
    with journal_path(path).open("ab") as journal:
        journal.write(b'{"op":"sent","seq":2,"id":2,"remo')  # the kill came mid-write
    assert set(load_state(path).entries) == {1}
    again = Recorder(path, load_state(path))
    again.answered(again.sending(change(3)), "ok")
    assert set(load_state(path).entries) == {1, 3}


def test_a_damaged_journal_is_an_error_naming_the_line(path: Path) -> None:
    recorder = Recorder(path, load_state(path))
    recorder.answered(recorder.sending(change(1)), "ok")
    text = journal_path(path).read_text().splitlines()
    journal_path(path).write_text("\n".join([text[0], "{not json", *text[1:]]) + "\n")
    with pytest.raises(StatusyncError, match=r"state.json.journal:2: the journal is damaged"):
        load_state(path)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("id", 0),
        ("id", 2**53),
        ("id", "7"),
        ("account", "a b"),
        ("account", 5),
        ("name", [1]),
        ("name", 5),
        ("file", None),
        ("mapping", {"READY_TO_SEND": 12, "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": None}),
        ("mapping", ["1"]),
        ("at", "yesterday"),
    ],
)
def test_a_journal_holding_what_the_state_may_not_is_damaged_not_folded_in(
    path: Path, where: str, value: object
) -> None:
    # Folded in, the record would become the state, which the run writes at its end: a value
    # the state file may not hold would crash that write, or make a state no run reads again.
    recorder = Recorder(path, load_state(path))
    recorder.sending(change(1))  # killed on the wire: its intent stays in the journal
    begin, sent = journal_path(path).read_text().splitlines()
    record = json.loads(sent)
    record[where] = value
    journal_path(path).write_text(f"{begin}\n{json.dumps(record)}\n")
    with pytest.raises(StatusyncError, match=r"state.json.journal:2: the journal is damaged"):
        load_state(path)


def test_replayed_onto_a_newer_state_the_later_write_wins_and_replay_is_idempotent() -> None:
    journal: list[Record] = [
        Sent(1, 1, False, pending(B, "2026-01-01T10:00:00Z")),
        Answered(1, "ok", "2026-01-01T10:00:01Z"),
        Sent(2, 2, False, replace(pending(B, "2026-01-01T10:00:02Z"), file="mappings/2.yaml")),
    ]
    newer = Entry("mappings/1.yaml", "x", "default", None, A, "2026-01-02T00:00:00Z")
    state = State(lineage="L", serial=9, entries={1: newer})
    replayed = fold(state, journal, trusted=False)
    assert replayed.entries[1] == newer  # recorded later elsewhere (a pulled state.json)
    assert set(replayed.uncertain) == {2}
    # The run folded the journal and died before removing it: replaying it again changes nothing.
    folded = fold(State(lineage="L", serial=3), journal)
    assert fold(folded, journal, trusted=False) == folded


def test_finishing_at_once_writes_what_is_on_the_wire_as_uncertain(path: Path) -> None:
    recorder = Recorder(path, load_state(path))
    recorder.answered(recorder.sending(change(1)), "ok")
    recorder.sending(change(2))
    note = recorder.finish_at_once()
    assert note is not None and "1 write(s) under way have an unknown outcome" in note
    assert not journal_path(path).exists()
    state = parse_state(path.read_bytes(), path)  # the file itself, no journal
    assert set(state.entries) == {1} and set(state.uncertain) == {2}


def test_a_run_that_records_nothing_writes_nothing(path: Path) -> None:
    save_state(path, state_of((1, A)))
    before = path.read_bytes()
    assert Recorder(path, load_state(path)).finish() is None
    assert path.read_bytes() == before and not journal_path(path).exists()


def test_records_without_a_request_are_noted(path: Path) -> None:
    recorder = Recorder(path, load_state(path))
    recorder.record([change(5, A, Action.CREATE)])
    recorder.finish()
    assert load_state(path).entries[5].mapping == A


def test_the_state_file_shows_uncertain_integrations_only_when_there_are_any() -> None:
    plain = state_of((1, A))
    assert b"uncertain" not in dump_state(plain)
    with_one = replace(plain, uncertain={2: pending()})
    assert parse_state(dump_state(with_one), "state.json") == with_one


def test_records_survive_the_round_trip_through_the_file(tmp_path: Path) -> None:
    records: list[Record] = [
        Sent(1, 7, True, pending()),
        Answered(1, "unknown", AT),
        Noted(8, Entry("m/8.yaml", "s", "eu", "Shop é", A, AT), AT),
        Noted(9, None, AT),
    ]
    writer = JournalWriter(tmp_path / "state.json.journal", "L:3")
    for record in records:
        writer.write(record)
    writer.sync()
    journal = read_journal(tmp_path / "state.json.journal")
    assert journal is not None
    assert (journal.base, journal.records, journal.next_seq) == ("L:3", records, 2)


def test_a_line_the_full_disk_took_only_part_of_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "state.json.journal"
    writer = JournalWriter(journal, "L:3")
    writer.write(Answered(1, "ok", AT))
    real_write = os.write
    calls: list[int] = []

    def part_then_full(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, bytes(data)[: len(data) // 2])

    with monkeypatch.context() as patched:
        patched.setattr(os, "write", part_then_full)
        with pytest.raises(JournalUnwritable) as raised:
            writer.write(Answered(2, "ok", AT))
    assert len(calls) == 2  # the rest of the line was tried, and refused
    assert "No space left on device" in str(raised.value)
    assert "Free space on the disk that holds it, then run the command again" in str(raised.value)
    assert journal.read_bytes().endswith(b"\n")  # no torn line left for the next to join
    writer.write(Answered(3, "refused", AT))  # space freed
    read = read_journal(journal)
    assert read is not None and read.records == [Answered(1, "ok", AT), Answered(3, "refused", AT)]


def test_a_journal_the_disk_cannot_flush_stops_the_run_with_its_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = JournalWriter(tmp_path / "state.json.journal", "L:3")
    writer.write(Answered(1, "ok", AT))

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("statusync.files.journal._datasync", failing)
    with pytest.raises(
        JournalUnwritable,
        match="Input/output error; nothing is sent that it cannot record first. Fix the cause",
    ):
        writer.sync()


def test_a_journal_whose_first_line_the_disk_refuses_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "state.json.journal"
    writer = JournalWriter(journal, "L:3")

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(os, "write", full)
        with pytest.raises(JournalUnwritable):
            writer.write(Answered(1, "ok", AT))
    assert not journal.exists()
    writer.write(Answered(1, "ok", AT))
    read = read_journal(journal)
    assert read is not None and (read.base, read.records) == ("L:3", [Answered(1, "ok", AT)])


def test_a_journal_says_which_run_left_it_and_what_it_recorded(path: Path) -> None:
    recorder = Recorder(path, state_of((1, A), (2, A), (3, A)), "reconcile")
    recorder.answered(recorder.sending(change(1)), "ok")
    recorder.sending(change(2))  # killed while on the wire
    recorder.answered(recorder.sending(change(3)), "refused")
    recorder.record([change(4)])
    journal = read_journal(journal_path(path))
    assert journal is not None
    begun = min(line["at"] for line in lines(path)[1:])
    assert journal.describe() == (
        f"an interrupted reconcile (begun {begun}, 1 write accepted, 1 of unknown outcome, "
        "1 integration recorded without a request)"
    )


def test_a_journal_of_an_older_statusync_names_no_command(path: Path) -> None:
    journal_path(path).parent.mkdir(parents=True)
    journal_path(path).write_text(
        '{"op": "begin", "version": 1, "base": "L:1"}\n'
        '{"op": "answered", "seq": 1, "result": "ok", "at": "2026-01-01T00:00:00Z"}\n'
    )
    journal = read_journal(journal_path(path))
    assert journal is not None
    assert journal.describe() == "an interrupted run (begun 2026-01-01T00:00:00Z, 0 writes accepted)"


def test_the_mark_of_a_journal_changes_with_each_record_and_is_empty_without_one(path: Path) -> None:
    assert journal_mark(path) == ""
    recorder = Recorder(path, state_of((1, A)), "apply")
    seq = recorder.sending(change(1))
    first = journal_mark(path)
    recorder.answered(seq, "ok")
    second = journal_mark(path)
    assert "" != first != second
    with journal_path(path).open("a") as torn:  # a line torn by a kill was never acknowledged
        torn.write('{"op": "answ')
    assert journal_mark(path) == second
    recorder.finish()
    assert journal_mark(path) == ""
