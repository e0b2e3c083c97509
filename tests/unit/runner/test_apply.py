import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from statusync.core.journal import Record
from statusync.core.model import MappingDict
from statusync.core.plan import make_plan
from statusync.core.state import State
from statusync.errors import JournalUnwritable, StatusyncError
from statusync.files.journal import JournalWriter, journal_path
from statusync.files.state_file import load_state, save_state
from statusync.runner.apply import ChangeResult, RunEnded, apply_plan
from statusync.runner.recorder import Recorder
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)
B = mapping("1", "2", "9", None)


class FakeApi:
    def __init__(self, fail: set[int] | None = None, state_path: Path | None = None) -> None:
        self.fail = fail or set()
        self.sent: list[tuple[int, MappingDict]] = []
        self.state_path = state_path
        self.lock = threading.Lock()

    def upsert_mapping(
        self, integration_id: int, mapping: MappingDict, *, on_send: Callable[[], None] | None = None
    ) -> None:
        if on_send is not None:
            on_send()
        if self.state_path is not None:
            # Every earlier accepted call is already on disk when the next one is made.
            recorded = set(load_state(self.state_path).entries)
            with self.lock:
                assert {i for i, _ in self.sent if i not in self.fail} <= recorded
        with self.lock:
            self.sent.append((integration_id, mapping))
        if integration_id in self.fail:
            raise StatusyncError(f"HTTP 400: unknown external id for {integration_id}")

    def integration_exists(self, integration_id: int) -> bool:
        return True


def run(tmp_path: Path, plan, api: FakeApi, parallelism: int = 4) -> tuple[list[ChangeResult], Path]:  # type: ignore[no-untyped-def]
    path = tmp_path / "state.json"
    recorder = Recorder(path, load_state(path))
    outcomes = apply_plan(plan, {"default": api}, recorder, parallelism=parallelism)
    recorder.finish()
    return outcomes, path


def test_sends_only_changes_and_records_each_success(tmp_path: Path) -> None:
    state = save_state(tmp_path / "state.json", state_of((1, A), (2, A), (3, A)))
    plan = make_plan([loaded(1, A), loaded(2, B), loaded(4, A)], state)
    api = FakeApi()
    outcomes, path = run(tmp_path, plan, api)
    assert sorted(i for i, _ in api.sent) == [2, 4]  # nothing for unchanged 1 or forgotten 3
    assert all(o.ok for o in outcomes) and len(outcomes) == 3
    entries = load_state(path).entries
    assert sorted(entries) == [1, 2, 4]
    assert entries[2].mapping == B and entries[4].file == "mappings/4.yaml"


def test_a_failure_does_not_stop_the_others_and_is_left_out_of_the_state(tmp_path: Path) -> None:
    plan = make_plan([loaded(i, A) for i in range(1, 9)], state_of())
    api = FakeApi(fail={3, 6})
    outcomes, path = run(tmp_path, plan, api, parallelism=3)
    assert len(api.sent) == 8
    failed = {o.change.integration_id: o.error for o in outcomes if not o.ok}
    assert set(failed) == {3, 6} and "HTTP 400" in (failed[3] or "")
    assert sorted(load_state(path).entries) == [1, 2, 4, 5, 7, 8]


def test_a_successful_reset_leaves_the_state(tmp_path: Path) -> None:
    save_state(tmp_path / "state.json", state_of((1, A), (2, A)))
    plan = make_plan([loaded(2, A)], load_state(tmp_path / "state.json"), on_removed="reset")
    api = FakeApi()
    _, path = run(tmp_path, plan, api)
    assert api.sent == [(1, mapping(None, None, None, None))]
    assert sorted(load_state(path).entries) == [2]


def test_forget_needs_no_request(tmp_path: Path) -> None:
    save_state(tmp_path / "state.json", state_of((1, A)))
    plan = make_plan([], load_state(tmp_path / "state.json"))
    outcomes, path = run(tmp_path, plan, FakeApi())
    assert [o.ok for o in outcomes] == [True]
    assert load_state(path).entries == {}


def test_every_success_is_on_disk_before_the_run_ends(tmp_path: Path) -> None:
    plan = make_plan([loaded(i, A) for i in range(1, 30)], state_of())
    path = tmp_path / "state.json"
    api = FakeApi(state_path=path)
    outcomes, _ = run(tmp_path, plan, api, parallelism=1)
    assert len(outcomes) == 29
    # Each success went to the journal as it came (FakeApi checked); the state file is written
    # once, when the run ends, and the journal is gone.
    assert load_state(path).serial == 1
    assert not journal_path(path).exists()


def failing_journal(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """The journal takes `after` records, then the disk is full."""
    real_write = JournalWriter.write
    taken: list[Record] = []

    def write(self: JournalWriter, record: Record) -> None:
        if len(taken) >= after:
            raise JournalUnwritable(f"cannot write the journal {self.path}: No space left on device")
        taken.append(record)
        real_write(self, record)

    monkeypatch.setattr(JournalWriter, "write", write)


def ended_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, creates: int
) -> tuple[FakeApi, RunEnded, State]:
    """Apply `creates` creates one at a time with the journal the disk lets down (patched by the
    caller); what was sent, how the run ended, and the state written once space is freed."""
    plan = make_plan([loaded(i, A) for i in range(1, creates + 1)], state_of())
    api = FakeApi()
    recorder = Recorder(tmp_path / "state.json", state_of())
    with pytest.raises(RunEnded) as raised:
        apply_plan(plan, {"default": api}, recorder, parallelism=1)
    assert isinstance(raised.value.cause, JournalUnwritable)
    monkeypatch.undo()
    recorder.finish()
    return api, raised.value, load_state(tmp_path / "state.json")


def test_a_journal_that_cannot_take_an_intent_stops_the_run_before_that_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_journal(monkeypatch, after=4)  # the intents and answers of two writes
    api, ended, state = ended_on_a_full_disk(tmp_path, monkeypatch, 6)
    assert [i for i, _ in api.sent] == [1, 2]  # the third was not sent, nor any after it
    outcomes = {o.change.integration_id: o for o in ended.outcomes}
    assert sorted(outcomes) == [1, 2, 3] and outcomes[1].ok and outcomes[2].ok
    assert outcomes[3].not_sent and not outcomes[3].uncertain
    assert sorted(state.entries) == [1, 2]  # space freed: what went through is recorded


def test_an_accepted_write_whose_answer_the_journal_cannot_take_is_uncertain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_journal(monkeypatch, after=1)  # the first intent only
    api, ended, state = ended_on_a_full_disk(tmp_path, monkeypatch, 3)
    assert [i for i, _ in api.sent] == [1]
    [outcome] = ended.outcomes
    assert outcome.uncertain and "No space left on device" in (outcome.error or "")
    assert state.entries == {} and sorted(state.uncertain) == [1]  # the next apply settles it


def test_an_intent_the_disk_cannot_flush_is_not_sent_nor_left_uncertain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("statusync.files.journal._datasync", failing)
    api, ended, state = ended_on_a_full_disk(tmp_path, monkeypatch, 3)
    assert api.sent == [] and [o.not_sent for o in ended.outcomes] == [True]
    assert state.entries == {} and state.uncertain == {}  # nothing went out: nothing to settle
