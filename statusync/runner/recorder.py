"""Recording a run's results in the state as they come in, from many workers at once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from statusync.core.plan import Action, Change
from statusync.core.state import Entry, State
from statusync.files.state_file import save_state


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class StateWriter:
    """The state as the run goes: `record` returns once the changes are on disk.

    Workers finish in any order. Each write carries every change recorded so far, so the file
    always claims exactly what the API accepted (a run killed at any moment leaves no more and
    at most the in-flight changes less). Writes are group commits: while one is under way, the
    changes recorded meanwhile wait and go to disk together in the next one, so a large state
    (4 MB at 10,000 integrations) is not rewritten once per accepted POST when the API is fast.
    """

    def __init__(self, path: Path, state: State) -> None:
        self.path = path
        self.state = state
        self._lock = threading.Lock()        # guards state and the counters
        self._write_lock = threading.Lock()  # one write at a time
        self._recorded = 0  # record() calls folded into self.state
        self._saved = 0     # of those, how many are on disk

    def record(self, changes: Iterable[Change]) -> None:
        with self._lock:
            state = self.state
            for change in changes:
                if change.action in (Action.FORGET, Action.RESET):
                    state = state.without(change.integration_id)
                else:
                    assert change.after is not None
                    state = state.with_entry(change.integration_id, Entry(
                        change.file, change.sha256, change.account, change.name,
                        dict(change.after), now_iso()))
            self.state = state
            self._recorded += 1
            mine = self._recorded
        with self._write_lock:
            if self._saved >= mine:
                return  # the write that just finished carried this record too
            with self._lock:
                snapshot, upto = self.state, self._recorded
            written = save_state(self.path, snapshot)
            with self._lock:
                self.state = replace(self.state, serial=written.serial, lineage=written.lineage)
                self._saved = upto
